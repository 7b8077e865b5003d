#!/usr/bin/env bash
# scripts/demo.sh: `make demo`: an employee moves to a new iPhone (scenario 1 of the Workflows issue),
# end to end over the real protocols, with all three actors on this machine:
#   - `ferry mdm serve`: the organisation's MDM server and device-assignment service (loopback HTTP);
#   - `ferry device serve`: two emulated iPhones (the employee's ADE iPhone, and a new one registered in
#     Apple Business Manager and assigned to the MDM server) served over the usbmuxd, lockdownd and
#     mobilebackup2 protocols on a UNIX socket, exactly as real iPhones are reached over USB;
#   - `ferry`: devices, password, backup into a repository of snapshots, restore with the rules
#     engine's plan, and the read-back report.
# Everything lives in lab/ (recreated each run). The report is printed at the end and written as
# lab/report.txt and lab/report.html (a chart of the backup by domain and size; open it in a browser).
set -euo pipefail
FERRY=$(realpath "${1:-build/ferry}")
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${LAB:-lab}
rm -rf "$LAB"
mkdir -p "$LAB"
LAB=$(realpath "$LAB")
OUT="$LAB/out"
mkdir -p "$OUT" "$LAB/devices"
chmod 700 "$LAB"

export FERRY_MDM_DB="$LAB/mdm.db"
export USBMUXD_SOCKET_ADDRESS="UNIX:$LAB/usbmuxd.sock"
MDM_PID= SERVE_PID=
cleanup() {
    for p in $SERVE_PID $MDM_PID; do kill "$p" 2>/dev/null || true; done
    for p in $SERVE_PID $MDM_PID; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
die() { printf '\n\033[1;31mdemo failed: %s\033[0m\n' "$*" >&2; for f in "$OUT"/*.log; do echo "--- $f" >&2; tail -15 "$f" >&2; done; exit 1; }

# step TITLE CMD...: prints the step and its command (paths shortened to lab/...), runs it, and records
# its time in steps.tsv for the report. A failing command fails the demo.
step() {
    local title=$1; shift
    local shown="$*"
    shown=${shown//$LAB/lab}
    shown=${shown//$FERRY/ferry}
    printf '\n\033[1m== %s\033[0m\n$ %s\n' "$title" "$shown"
    local t0 t1
    t0=$(date +%s.%N)
    "$@" || die "$title ($shown)"
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\n' "$title" "$(echo "$t1 - $t0" | bc)" "$shown" >>"$OUT/steps.tsv"
}
# wait_for TEST... : polls a condition for up to 60 s (every wait is bounded).
wait_for() { for _ in $(seq 1 600); do "$@" && return 0; sleep 0.1; done; return 1; }
plist_get() { python3 -c 'import plistlib,sys
d=plistlib.load(open(sys.argv[1]+"/device.plist","rb"))
for k in sys.argv[2:]: d=d.get(k, {}) if isinstance(d, dict) else {}
print(d if d != {} else "")' "$@"; }

start_mdm() {
    "$FERRY" mdm serve --listen 127.0.0.1:0 --db "$FERRY_MDM_DB" --ready-file "$LAB/mdm.url" \
        --unknown-device accept 2>"$OUT/mdm.log" &
    MDM_PID=$!
    wait_for test -s "$LAB/mdm.url" || return 1
    BASE=$(cat "$LAB/mdm.url")
    echo "MDM server and device-assignment service at $BASE"
}
make_old_iphone() {
    "$FERRY" device create "$OLD" --template ade-iphone --name "Alex's iPhone" --seed 1 --files 60 --size 24M \
        --mdm-url "$BASE/mdm" | tail -n 3
    "$FERRY" device set "$OLD" findmy false >/dev/null
}
make_new_iphone() {
    "$FERRY" device create "$NEW" --template unmanaged-personal --name "New iPhone" --seed 2 --files 0 --size 0 \
        | tail -n 1
    # out of the box: no accounts or data of its own, same OS as the old one, Find My off, and
    # registered in Apple Business Manager, assigned to this organisation's MDM server (D2)
    "$FERRY" device set "$NEW" version "$(plist_get "$OLD" Identity ProductVersion)" >/dev/null
    "$FERRY" device set "$NEW" findmy false >/dev/null
    "$FERRY" device set "$NEW" assignment ABM >/dev/null
    "$FERRY" mdm assign "$(plist_get "$NEW" Identity SerialNumber)" --org "Acme Corp" >/dev/null
    echo "registered in Apple Business Manager and assigned to the MDM server: $(plist_get "$NEW" Identity SerialNumber)"
}
start_serve() {
    "$FERRY" device serve "$OLD" "$NEW" --listen "UNIX:$LAB/usbmuxd.sock" --mdm-url "$BASE" \
        --kdf-dpic 10000 --verbose >"$OUT/serve.log" 2>&1 &
    SERVE_PID=$!
    wait_for grep -q "listening on" "$OUT/serve.log" || return 1
    echo "usbmuxd socket: lab/usbmuxd.sock (USBMUXD_SOCKET_ADDRESS=UNIX:lab/usbmuxd.sock)"
}
restored_checkin_done() {
    [ "$(plist_get "$NEW" MDMCheckIn RestorePending)" = False ] && [ "$(plist_get "$NEW" MDMCheckIn LastOutcome)" != restored ]
}
wait_checkin() {
    wait_for restored_checkin_done || return 1
    "$FERRY" device show "$NEW" --json >"$OUT/new-device.json"
    echo "check-in outcome: $(plist_get "$NEW" MDMCheckIn LastOutcome); enrollment now: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["EnrollmentType"])' "$OUT/new-device.json")"
    grep -E 'check(s|ed)? in|enroll' "$OUT/serve.log" | tail -n 4 | sed 's/^/  /'
}

OLD="$LAB/devices/old-iphone"
NEW="$LAB/devices/new-iphone"
# The backup password: from a private file, never on a command line (docs/security.md).
umask 077
printf '%s\n' "correct horse battery staple" >"$LAB/backup-password"

printf '\033[1mferry demo: an employee moves to a new iPhone\033[0m (lab: %s)\n' "$LAB"
step "Start the MDM server and the device-assignment service" start_mdm
step "Create the employee's iPhone: ADE, supervised, enrolled, forced encryption" make_old_iphone
step "Create the new iPhone: erased, registered in Apple Business Manager" make_new_iphone
step "Attach both iPhones (emulated, real protocols)" start_serve
U_OLD=$(plist_get "$OLD" Identity UniqueDeviceID)
U_NEW=$(plist_get "$NEW" Identity UniqueDeviceID)
step "What is attached" "$FERRY" devices
refused_without_password() {
    local rc=0
    "$FERRY" backup -u "$U_OLD" --repo "$LAB/repo" >"$OUT/refused.log" 2>&1 || rc=$?
    sed 's/^/  /' "$OUT/refused.log"
    [ "$rc" != 0 ] || { echo "  the backup was not refused"; return 1; }
    [ ! -d "$LAB/repo/snapshots/$U_OLD" ] || { echo "  a snapshot was made"; return 1; }
    echo "  (exit $rc: stopped before any transfer; no snapshot)"
}
step "Back up without a backup password: refused, forceEncryptedBackup (B6)" refused_without_password
step "Set the old iPhone's backup password (read from a 0600 file, never the command line)" \
    "$FERRY" password set -u "$U_OLD" --password-file "$LAB/backup-password"
step "Back up the old iPhone into the repository (the device encrypts)" \
    "$FERRY" backup -u "$U_OLD" --repo "$LAB/repo"
step "Back up again: incremental, unchanged files shared with the first snapshot" \
    "$FERRY" backup -u "$U_OLD" --repo "$LAB/repo"
step "The repository's snapshots" "$FERRY" snapshots --repo "$LAB/repo"
SNAP=$("$FERRY" snapshots --repo "$LAB/repo" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][-1]["id"])')
SNAP_DIR=$("$FERRY" snapshots path "$SNAP" --repo "$LAB/repo")
"$FERRY" ls "$SNAP_DIR" --json --password-file "$LAB/backup-password" >"$OUT/ls.json"
step "Verify the snapshot (every file decrypted against its record)" \
    "$FERRY" verify --repo "$LAB/repo" --latest -u "$U_OLD" --password-file "$LAB/backup-password"
# The plan of the report: the rules engine on the backup and the new iPhone, asking the
# device-assignment service what the new iPhone will get (D2).
plan_restore() {
    "$FERRY" plan restore "$SNAP_DIR" --to "$NEW" --assignment-url "$BASE" --password-file "$LAB/backup-password" \
        --json >"$OUT/plan.json" || return 1
    python3 -c 'import json,sys
p=json.load(open(sys.argv[1]))
print("  verdict: %s" % p["verdict"])
for it in p["items"]:
    print("  %-22s %-25s %-30s %s" % (it["outcome"], it["kind"], it["item"][:30], ",".join(it["rules"])))' "$OUT/plan.json"
}
step "What the restore will keep, drop or re-enroll, and why (rule IDs)" plan_restore
restore_new() {
    local rc=0
    "$FERRY" restore "$SNAP" --repo "$LAB/repo" --to "$U_NEW" --yes --system --settings --assignment-url "$BASE" \
        --password-file "$LAB/backup-password" --json >"$OUT/restore.json" 2>"$OUT/restore.log" || rc=$?
    python3 -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
for d in r.get("devices", []):
    n = {}
    for it in d.get("items", []):
        n[it.get("actual")] = n.get(it.get("actual"), 0) + 1
    print("  %s: %s, %s files sent; read back over the wire: %s" % (d["udid"], d["status"], d.get("files"),
          ", ".join("%d %s" % (v, k) for k, v in sorted(n.items()))))' "$OUT/restore.json"
    return $rc
}
step "Restore onto the new iPhone (plan, transfer, reboot, read-back)" restore_new
step "The new iPhone checks in: the backup's enrollment is gone (D1), ADE enrolls it again (D2)" wait_checkin
device_matches_plan() {
    python3 "$HERE/../tests/scenarios/check_plan.py" "$OUT/plan.json" "$OUT/new-device.json" "$NEW" >"$OUT/check.txt" \
        || { cat "$OUT/check.txt"; return 1; }
    echo "  every item of the plan holds on the new iPhone (profiles, enrollment, apps, data, books, categories, passcode)"
}
step "Check the new iPhone item by item against the plan (the emulator's device directory)" device_matches_plan

python3 "$HERE/demo_report.py" --steps "$OUT/steps.tsv" --ls "$OUT/ls.json" --plan "$OUT/plan.json" \
    --restore "$OUT/restore.json" --device "$OUT/new-device.json" \
    --text "$LAB/report.txt" --html "$LAB/report.html"
printf '\n\033[1m== Report\033[0m\n'
cat "$LAB/report.txt"
printf '\nThe same report as a web page: %s\n' "$LAB/report.html"
