# scenario_lib.sh: what the workflow scenarios (scenario_*.sh, issue 8) share, sourced, never run. It
# builds on the emulator's helpers (tests/integration/emu_lib.sh: a temporary folder, device
# directories, `ferry device serve` on a UNIX socket) and adds the other two actors and the host
# steps: `ferry mdm serve` on 127.0.0.1 (an ephemeral port, stopped at exit), registration in the
# assignment service, device backups and restores, and the item-by-item comparison of a device with
# a `ferry plan restore` prediction (check_plan.py). Backups and restores go through
# scn_backup/scn_restore only: `ferry backup` and `ferry restore` over the real protocols. Every wait
# is bounded; no assertion depends on wall-clock time.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3
SCN_DIR="$FERRY_TESTS/scenarios"
MDM_PID=
stop_mdm() {
    if [ -n "$MDM_PID" ]; then kill "$MDM_PID" 2>/dev/null || true; wait "$MDM_PID" 2>/dev/null || true; fi
    MDM_PID=
}
trap 'stop_mdm; cleanup' EXIT
export FERRY_MDM_DB="$TMP/mdm.db"

# step TEXT: a heading in the scenario's output, so that a failure says which step it was in.
step() { echo "--- $*"; }

# start_mdm: `ferry mdm serve` with its device-assignment service; sets BASE (http://127.0.0.1:PORT).
start_mdm() {
    "$FERRY" mdm serve --listen 127.0.0.1:0 --db "$FERRY_MDM_DB" --ready-file "$TMP/url" \
        --unknown-device accept 2>"$TMP/mdm.log" &
    MDM_PID=$!
    for _ in $(seq 1 100); do [ -s "$TMP/url" ] && break; sleep 0.1; done
    [ -s "$TMP/url" ] || fail "ferry mdm serve did not start"
    BASE=$(cat "$TMP/url")
}

# new_device DIR TEMPLATE NAME SEED [--mdm-url URL]: a small device (5 files, 64 KiB), Find My off
# (a restore needs it off: MBErrorDomain 211).
new_device() {
    local dir=$1 tmpl=$2 name=$3 seed=$4; shift 4
    "$FERRY" device create "$dir" --template "$tmpl" --name "$name" --seed "$seed" --files 5 --size 64K "$@" \
        >/dev/null || fail "ferry device create $dir --template $tmpl"
    "$FERRY" device set "$dir" findmy false >/dev/null
}
# dev_get DIR EXPR: a Python expression over d = `ferry device show DIR --json --no-files`.
dev_get() {
    "$FERRY" device show "$1" --json --no-files | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}
serial_of() { dev_get "$1" 'd["SerialNumber"]'; }
version_of() { dev_get "$1" 'd["ProductVersion"]'; }
# register DIR ORG [assign options]: the device's serial is registered in Apple Business Manager and
# the MDM server's assignment service holds an ADE profile for it (D2).
register() {
    local dir=$1 org=$2; shift 2
    "$FERRY" device set "$dir" assignment ABM >/dev/null
    "$FERRY" mdm assign "$(serial_of "$dir")" --org "$org" "$@" >/dev/null 2>&1 || fail "ferry mdm assign for $dir"
}
# mdm_get UDID EXPR: EXPR over d = the server's row for UDID (None when it does not know the device).
mdm_get() {
    "$FERRY" mdm devices --json | python3 -c "
import json,sys; d={x['udid'].lower(): x for x in json.load(sys.stdin)}.get(sys.argv[1].lower()); print($2)" "$1"
}
# checkin_state DIR KEY: the device's MDMCheckIn.KEY in device.plist.
checkin_state() {
    python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb")).get("MDMCheckIn",{}).get(sys.argv[2]))' "$1" "$2"
}
# The host type (S5, R4) and the categories a restore leaves out (X1) of the restores that follow:
# SCN_HOST=finder|configurator, SCN_SKIP=passwords,wifi,... (empty: finder, nothing left out).
SCN_HOST=${SCN_HOST:-}
SCN_SKIP=${SCN_SKIP:-}
# serve DIR...: every DIR on the usbmuxd socket; they check in with $BASE (S2) after a restore.
# idevicebackup2 cannot send the host type or the categories to leave out, so the served devices
# take SCN_HOST/SCN_SKIP as their restore defaults (`ferry device serve --restore-host/--restore-skip`).
serve() {
    local o=()
    [ -n "$SCN_HOST" ] && o+=(--restore-host "$SCN_HOST")
    [ -n "$SCN_SKIP" ] && o+=(--restore-skip "$SCN_SKIP")
    start_server "$@" --mdm-url "$BASE" "${o[@]}"
}

# --- the host steps ------------------------------------------------------------------------------------
# They use ferry's host commands over the real protocols: `ferry password`, `ferry backup` into a
# repository of snapshots ($TMP/repo), `ferry restore` with its plan and read-back. Passwords go
# through files (never the command line).
SCN_REPO="$TMP/repo"
# pw_file PASSWORD: a 0600 file holding PASSWORD; prints its path.
pw_file() {
    local f; f=$(mktemp "$TMP/pw-XXXXXX")
    printf '%s\n' "$1" >"$f"
    echo "$f"
}
# scn_encrypt UDID PASSWORD: sets the device's backup password (WillEncrypt) with `ferry password set`.
scn_encrypt() { run_ok "$FERRY" password set -u "$1" --password-file "$(pw_file "$2")"; }
# scn_backup UDID OUT: `ferry backup` of the served device into the repository (the device decides the
# content and encrypts when it has a backup password), then the snapshot exported as OUT/<UDID>, the
# Finder layout that `ferry plan` and the other readers take.
scn_backup() {
    mkdir -p "$2"
    run_ok "$FERRY" backup -u "$1" --repo "$SCN_REPO" --json
    local id; id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["devices"][0]["snapshot"])' "$TMP/out")
    rm -rf "${2:?}/$1"
    run_ok "$FERRY" export "$id" "$2" --repo "$SCN_REPO"
    [ -f "$2/$1/Manifest.db" ] || fail "backup of $1: no exported snapshot in $2"
}
# scn_backup_refused UDID OUT: the backup is refused before any transfer; the reason is in $TMP/err.
scn_backup_refused() { mkdir -p "$2"; run_fails "$FERRY" backup -u "$1" --repo "$SCN_REPO"; }
# restore_opts: the options every restore of a scenario takes: system files and settings (a full
# restore of a new device), --force (ferry restores onto a device as onto an erased one; scenarios
# restore onto set-up devices), the host type and the categories left out (SCN_HOST, SCN_SKIP), and
# the assignment service (D2, V1 in the plan).
restore_opts() {
    RESTORE_OPTS=(--yes --force --system --settings --timeout 60)
    [ -n "$SCN_HOST" ] && RESTORE_OPTS+=(--as "$SCN_HOST")
    [ -n "$SCN_SKIP" ] && RESTORE_OPTS+=(--skip "$SCN_SKIP")
    if "$FERRY" restore --help 2>&1 | grep -q -- '--assignment-url'; then RESTORE_OPTS+=(--assignment-url "$BASE"); fi
    return 0
}
# scn_restore TARGET_UDID BACKUP_ROOT SOURCE_UDID [PASSWORD]: `ferry restore` of BACKUP_ROOT/SOURCE_UDID
# onto the served target. The restore must succeed: exit code 0, or 4 when its read-back differs from
# the plan it made from what the device tells over the wire (what a host cannot see, such as the
# device's own do_not_use_profile_from_backup (V2) or an ACME key it will bind anew (S4), shows there
# as a mismatch). The scenario's own check (check_plan) compares the device with `ferry plan`.
scn_restore() {
    restore_opts
    local pw=()
    [ -n "${4:-}" ] && pw=(--password-file "$(pw_file "$4")")
    set +e
    "$FERRY" restore --backup "$2/$3" --to "$1" "${RESTORE_OPTS[@]}" "${pw[@]}" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    set -e
    if grep -q Sanitizer "$TMP/err"; then cat "$TMP/err" >&2; fail "sanitizer report from ferry restore"; fi
    [ "$rc" = 0 ] || [ "$rc" = 4 ] || { cat "$TMP/out" "$TMP/err" >&2; fail "ferry restore onto $1 exited $rc"; }
    [ "$rc" = 0 ] || echo "note: ferry restore's read-back differs from its wire plan: $(grep -c mismatch "$TMP/out") item(s)"
}
# scn_restore_many BACKUP_ROOT SOURCE_UDID PASSWORD TARGET_UDID...: one `ferry restore --jobs 8` onto
# every target at once; writes each target's status to $TMP/restore-<UDID>.rc (0 when restored as
# planned) and the whole JSON result to $TMP/restore-many.json. Returns 0.
scn_restore_many() {
    local root=$1 src=$2 pw=$3; shift 3
    restore_opts
    local to=() u
    for u in "$@"; do to+=(--to "$u"); done
    set +e
    timeout 600 "$FERRY" restore --backup "$root/$src" "${to[@]}" --jobs 8 --json "${RESTORE_OPTS[@]}" \
        --password-file "$(pw_file "$pw")" >"$TMP/restore-many.json" 2>"$TMP/restore-many.err"
    echo $? >"$TMP/restore-many.rc"
    set -e
    python3 - "$TMP/restore-many.json" "$TMP" "$@" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
res = json.loads(lines[-1]) if lines else {}
by = {d["udid"]: d for d in res.get("devices", [])}
for u in sys.argv[3:]:
    d = by.get(u, {})
    # restored: "ok", or "mismatch" (the read-back differs from the wire plan; see scn_restore)
    open(f"{sys.argv[2]}/restore-{u}.rc", "w").write("0\n" if d.get("status") in ("ok", "mismatch") else "1\n")
    open(f"{sys.argv[2]}/restore-{u}.out", "w").write(json.dumps(d) + "\n")
PY
}
# restore_ok UDID: the restore onto UDID succeeded and matched its plan.
restore_ok() { [ "$(cat "$TMP/restore-$1.rc")" = 0 ]; }

# wait_checkin DIR: the check-in that follows a restore has answered (bounded); prints its outcome.
wait_checkin() {
    for _ in $(seq 1 300); do
        if [ "$(checkin_state "$1" RestorePending)" = False ] && [ "$(checkin_state "$1" LastOutcome)" != restored ]; then
            checkin_state "$1" LastOutcome
            return 0
        fi
        server_alive
        sleep 0.1
    done
    fail "$1 did not check in after the restore: $(checkin_state "$1" LastOutcome)"
}

# plan_restore OUT_JSON BACKUP_DIR TARGET_DIR [plan options]: `ferry plan restore --json`, verdict ok.
plan_restore() {
    local out=$1; shift
    run_ok "$FERRY" plan restore "$@" --json
    cp "$TMP/out" "$out"
}
# check_plan PLAN_JSON DIR [BEFORE_JSON]: the device agrees with every item of the plan
# (check_plan.py); prints "kind:outcome" pairs seen, one line.
check_plan() {
    "$FERRY" device show "$2" --json >"$TMP/show.json" || fail "ferry device show $2"
    python3 "$SCN_DIR/check_plan.py" "$1" "$TMP/show.json" "$2" ${3:+"$3"} >"$TMP/seen" \
        || fail "$2 differs from the plan $1"
    echo "$2 agrees with the plan: $(wc -w <"$TMP/seen") item outcomes"
}
# expect_items WANT...: each "kind:outcome" (or "kind:name:outcome") was seen by the last check_plan.
expect_items() {
    for w in "$@"; do grep -qw -- "$w" "$TMP/seen" || fail "the plan has no item $w: $(cat "$TMP/seen")"; done
}
# has_rule PLAN_JSON ITEM RULE: the plan's item (by name) cites RULE.
has_rule() {
    python3 -c '
import json,sys
p=json.load(open(sys.argv[1])); it=[i for i in p["items"] if i["item"]==sys.argv[2]]
assert it and sys.argv[3] in it[0]["rules"], it' "$1" "$2" "$3" || fail "the plan's item $2 does not cite $3"
}
