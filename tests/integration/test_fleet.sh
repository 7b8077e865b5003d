#!/usr/bin/env bash
# test_fleet.sh: the S3 repository backend (docs/fleet.md) against the project's own Ceph cluster
# (scripts/ceph-cluster.sh: 3 bluestore OSDs, 3 replicas, radosgw on loopback), started in a temporary
# folder on free ports and always stopped at exit. Skipped (77) when the Ceph packages are absent.
# Backups are made from emulated devices (`ferry device serve`) with `ferry backup`, over the real
# usbmuxd/lockdownd/mobilebackup2 protocols, and restored with `ferry restore`:
#   1. two ferry processes back up different devices into one bucket at the same time; both snapshots
#      verify, and each restores onto its device byte-identical (the device's files after a restore
#      with --remove are exactly the backup's files);
#   2. 8 devices made from one golden master (its snapshot restored onto 8 emulated devices with
#      --jobs 8, then all 8 backed up unencrypted with `ferry backup --all`) occupy at most 1.3 times the
#      stored bytes of the golden master's backup (figure printed);
#   3. an OSD is killed during a backup's upload: the backup completes and restores byte-identical;
#   4. kill -9 of ferry during a backup's upload: no snapshot appears, the next backup succeeds, prune
#      removes the unreferenced objects;
#   5. S3 -> export -> local repository import -> export interoperate, and back into S3;
#   6. files larger than the part size go up as multipart uploads and come back identical (a
#      generated backup through `ferry snapshot import`);
#   7. a damaged pack is refused.
# Every wait is bounded (timeout).
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
: "${FERRY_TESTS:?FERRY_TESTS must name the tests folder}"
CLUSTER="$FERRY_TESTS/../scripts/ceph-cluster.sh"
for tool in ceph-mon ceph-osd radosgw radosgw-admin python3 curl idevicebackup2; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (make deps installs ceph-mon ceph-osd ceph-common radosgw libimobiledevice-utils)"; exit 77; }
done
MKBACKUP="$(dirname "$FERRY")/tests/ferry_mkbackup"
[ -x "$MKBACKUP" ] || MKBACKUP="$(dirname "$FERRY")/../tests/ferry_mkbackup"
[ -x "$MKBACKUP" ] || { echo "SKIP: ferry_mkbackup not built"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fleet-XXXXXX")
CEPH="$TMP/ceph"
PIDS=()
SERVE_PID=
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    [ -z "$SERVE_PID" ] || { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null || true; }
    local t=$SECONDS
    timeout 30 bash "$CLUSTER" stop "$CEPH" || true
    rm -rf "$TMP"
    echo "cluster stopped and removed in $((SECONDS - t)) s"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/serve.log" ] && tail -20 "$TMP/serve.log" >&2; exit 1; }
ferry() { timeout 300 "$FERRY" "$@"; }

# Free ports for this cluster (another may be running on the defaults).
port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
pick() { local p; for _ in $(seq 50); do p=$(($1 + RANDOM % 2000)); port_free "$p" && port_free $((p + 3489)) && { echo "$p"; return; }; done; echo "$1"; }
export FERRY_CEPH_MON_PORT; FERRY_CEPH_MON_PORT=$(pick 20000)
export FERRY_CEPH_RGW_PORT; FERRY_CEPH_RGW_PORT=$(pick 27000)
START=$SECONDS
timeout 120 bash "$CLUSTER" start "$CEPH" >"$TMP/env" 2>"$TMP/cluster.err" || { cat "$TMP/cluster.err" >&2; fail "the Ceph cluster did not start"; }
# shellcheck disable=SC1090
. "$TMP/env"
echo "cluster ready in $((SECONDS - START)) s at $FERRY_S3_ENDPOINT"
export FERRY_CACHE_DIR="$TMP/cache"

snap_ids() { ferry snapshots --repo "$1" --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)["snapshots"]]'; }
stored() { ferry snapshots usage --repo "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["storedBytes"])'; }
# export_same REPO ID ORIGINAL_UDID_DIR: export and compare byte for byte.
export_same() {
    local out="$TMP/export-$2"
    ferry export "$2" "$out" --repo "$1" >/dev/null || fail "export of $2 from $1"
    diff -r "$3" "$out/$(basename "$3")" || fail "export of $2 differs from $3"
    rm -rf "$out"
}
udid_of() { python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["Identity"]["UniqueDeviceID"])' "$1"; }
# new_device NAME SEED [TEMPLATE [FILES [SIZE]]]: an emulated device in $TMP/dev-NAME, Find My off.
new_device() {
    "$FERRY" device create "$TMP/dev-$1" --template "${3:-unmanaged-personal}" --files "${4:-300}" --size "${5:-12000000}" \
        --seed "$2" --name "$1" >/dev/null || fail "ferry device create $1"
    "$FERRY" device set "$TMP/dev-$1" findmy false >/dev/null
}
# serve DIR...: (re)starts the emulator on $TMP/mux.sock with these devices.
serve() {
    if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=; fi
    rm -f "$TMP/serve.log"
    "$FERRY" device serve "$@" --listen "UNIX:$TMP/mux.sock" --kdf-dpic 1000 >"$TMP/serve.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 300); do grep -q "listening on" "$TMP/serve.log" 2>/dev/null && return 0; sleep 0.1; done
    fail "ferry device serve did not start"
}
export USBMUXD_SOCKET_ADDRESS="UNIX:$TMP/mux.sock"
latest() { ferry snapshots --repo "$1" -u "$2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][-1]["id"])'; }
# restores_identical REPO ID DEVICE_DIR: changes the device's files, restores the snapshot onto it
# (--system --settings --remove; --force: the device is enrolled, ferry restores onto it as onto an
# erased one) and checks that the device's files are exactly the backup's.
restores_identical() {
    local repo=$1 id=$2 dev=$3 u x="$TMP/x-$2"
    u=$(udid_of "$dev")
    ferry export "$id" "$TMP/e-$2" --repo "$repo" >/dev/null || fail "export of $id"
    ferry extract "$TMP/e-$2/$u" "$x" >/dev/null 2>&1 || fail "extract of $id"
    local some; some=$(cd "$dev/files" && find . -type f | sort | sed -n 1p)
    echo changed >"$dev/files/$some"
    echo extra >"$dev/files/HomeDomain/extra-$2.txt"
    ferry restore "$id" --repo "$repo" --to "$u" --yes --force --system --settings --remove >"$TMP/restore-$2.out" 2>&1 \
        || { cat "$TMP/restore-$2.out" >&2; fail "ferry restore of $id onto $u"; }
    (cd "$x" && find . -type f | sort) >"$TMP/files.a"
    (cd "$dev/files" && find . -type f | sort) >"$TMP/files.b"
    diff "$TMP/files.a" "$TMP/files.b" >&2 || fail "the restored device's files are not the backup's ($id)"
    while read -r f; do cmp -s "$x/$f" "$dev/files/$f" || fail "restored file differs: $f ($id)"; done <"$TMP/files.a"
    rm -rf "$TMP/e-$2" "$x"
}

# ---- 1. two processes, two devices, one bucket, at the same time ---------------------------------
new_device iPad-A 101
new_device iPad-B 202
A=$(udid_of "$TMP/dev-iPad-A"); B=$(udid_of "$TMP/dev-iPad-B")
[ "$A" != "$B" ] || fail "the two devices have the same UDID"
serve "$TMP/dev-iPad-A" "$TMP/dev-iPad-B"
R=s3://ferry-fleet/shared
ferry backup -u "$A" --repo "$R" >"$TMP/bkA" 2>&1 & PA=$!
ferry backup -u "$B" --repo "$R" >"$TMP/bkB" 2>&1 & PB=$!
wait $PA || { cat "$TMP/bkA" >&2; fail "concurrent backup of A"; }
wait $PB || { cat "$TMP/bkB" >&2; fail "concurrent backup of B"; }
[ "$(snap_ids "$R" | wc -l)" = 2 ] || fail "expected 2 snapshots in $R"
for id in $(snap_ids "$R"); do
    ferry verify --repo "$R" "$id" >/dev/null || fail "verify $id"
done
restores_identical "$R" "$(latest "$R" "$A")" "$TMP/dev-iPad-A"
restores_identical "$R" "$(latest "$R" "$B")" "$TMP/dev-iPad-B"
echo "ok 1: two concurrent backups into one bucket, both verify and restore byte-identical"

# ---- 2. 8 devices made from one golden master ------------------------------------------------------
new_device golden 303
G=$(udid_of "$TMP/dev-golden")
CART=()
for n in 1 2 3 4 5 6 7 8; do
    new_device "cart-$n" $((400 + n)) unmanaged-personal 0 0
    CART+=("$TMP/dev-cart-$n")
done
serve "$TMP/dev-golden" "${CART[@]}"
R1=s3://ferry-fleet/one
R8=s3://ferry-fleet/eight
ferry backup -u "$G" --repo "$R1" >/dev/null || fail "backup of the golden master"
GID=$(latest "$R1" "$G")
TO=()
for d in "${CART[@]}"; do TO+=(--to "$(udid_of "$d")"); done
# --force: restore onto devices that are set up, as onto erased ones
ferry restore "$GID" --repo "$R1" "${TO[@]}" --jobs 8 --yes --force --system --settings --remove >"$TMP/restore8" 2>&1 \
    || { cat "$TMP/restore8" >&2; fail "restore of the golden master onto 8 devices"; }
ferry backup --all --repo "$R8" >"$TMP/backup8" 2>&1 || { cat "$TMP/backup8" >&2; fail "backup --all of the cart"; }
[ "$(snap_ids "$R8" | wc -l)" -ge 8 ] || fail "expected 8 snapshots in $R8"
ONE=$(stored "$R1"); EIGHT=$(stored "$R8")
RATIO=$(python3 -c "print(f'{$EIGHT/$ONE:.3f}')")
echo "8 devices from one golden master: $EIGHT bytes stored, the golden master: $ONE bytes, ratio $RATIO (limit 1.3)"
python3 -c "import sys; sys.exit(0 if $EIGHT <= 1.3 * $ONE else 1)" || fail "8 devices take $RATIO times one"
echo "ok 2: dedup ratio $RATIO"

# ---- 3. an OSD is killed during a backup's upload ----------------------------------------------------
new_device big 909 unmanaged-personal 240 50000000
serve "$TMP/dev-big"
BIG=$(udid_of "$TMP/dev-big")
R3=s3://ferry-fleet/osd
# paused_backup LOG ARGS...: starts a backup whose upload stops itself (SIGSTOP) after its first pack
# is written, under a bounded timeout; sets PAUSED_PID (ferry) and TIMEOUT_PID (what to wait for).
paused_backup() {
    local log=$1; shift
    FERRY_STORE_TEST_PAUSE=s3-pack-written timeout -s KILL 200 "$FERRY" backup "$@" >"$log" 2>&1 &
    TIMEOUT_PID=$!
    PIDS+=("$TIMEOUT_PID")
    for _ in $(seq 600); do grep -q "test pause" "$log" && break; sleep 0.1; done
    PAUSED_PID=$(sed -n 's/.*test pause at s3-pack-written (pid \([0-9]*\)).*/\1/p' "$log")
    [ -n "$PAUSED_PID" ] || { cat "$log" >&2; fail "the upload did not reach its first pack"; }
    PIDS+=("$PAUSED_PID")
}
paused_backup "$TMP/bk3" -u "$BIG" --repo "$R3"
bash "$CLUSTER" kill-osd "$CEPH" 1
kill -CONT "$PAUSED_PID"
wait "$TIMEOUT_PID" || { cat "$TMP/bk3" >&2; fail "the backup failed (or hung) after the OSD was killed"; }
restores_identical "$R3" "$(latest "$R3" "$BIG")" "$TMP/dev-big"
echo "ok 3: backup completed with osd.1 killed; restore byte-identical"

# ---- 4. kill -9 during a backup's upload, then a backup, then prune ------------------------------------
# R4 and a reference repository get the same backups of a small device, before and after a backup of
# the big device is killed during its upload in R4: after prune both hold the same bytes. (An upload
# stores only contents the repository lacks, so the killed one's objects hold only the big device's.)
R4=s3://ferry-fleet/crash
RREF=s3://ferry-fleet/crash-reference
new_device small 910 unmanaged-personal 60 4000000
serve "$TMP/dev-big" "$TMP/dev-small"
SMALL=$(udid_of "$TMP/dev-small")
ferry backup -u "$SMALL" --repo "$R4" >/dev/null || fail "backup of the small device"
ferry backup -u "$SMALL" --repo "$RREF" >/dev/null || fail "backup of the small device (reference)"
BEFORE=$(stored "$R4")
paused_backup "$TMP/bk4" -u "$BIG" --repo "$R4"
kill -KILL "$PAUSED_PID"; wait "$TIMEOUT_PID" 2>/dev/null || true
[ "$(snap_ids "$R4" | wc -l)" = 1 ] || fail "a killed upload left a visible snapshot"
ORPHANS=$(( $(stored "$R4") - BEFORE ))
[ "$ORPHANS" -gt 0 ] || fail "the killed upload wrote nothing (the test would prove nothing)"
echo changed >>"$TMP/dev-small/files/HomeDomain/Library/Preferences/fleet-test.plist"
ferry backup -u "$SMALL" --repo "$R4" >/dev/null || fail "backup after a kill -9"
ferry backup -u "$SMALL" --repo "$RREF" >/dev/null
ferry prune --keep 1 --repo "$R4" --json >"$TMP/prune4"
ferry prune --keep 1 --repo "$RREF" --json >/dev/null
AFTER=$(stored "$R4"); REF=$(stored "$RREF")
echo "after kill -9: $ORPHANS bytes of orphans; after prune $AFTER bytes (the same backups in a clean repository: $REF)"
python3 -c "import sys; sys.exit(0 if abs($AFTER - $REF) <= 16384 else 1)" || fail "prune left unreferenced objects"
restores_identical "$R4" "$(latest "$R4" "$SMALL")" "$TMP/dev-small"
echo "ok 4: kill -9 leaves no snapshot; prune swept $(python3 -c "import json;print(json.load(open('$TMP/prune4'))['freedBytes'])") bytes"

# ---- 5. S3 -> export -> local import -> export -> S3 ---------------------------------------------------
ID=$(latest "$R" "$A")
ferry export "$ID" "$TMP/e1" --repo "$R" >/dev/null
ferry snapshot import "$TMP/e1/$A" --repo "$TMP/localrepo" >/dev/null
LID=$(snap_ids "$TMP/localrepo")
ferry export "$LID" "$TMP/e2" --repo "$TMP/localrepo" >/dev/null
diff -r "$TMP/e1/$A" "$TMP/e2/$A" || fail "S3 -> local -> export differs"
ferry snapshot import "$TMP/e2/$A" --repo s3://ferry-fleet/back >/dev/null
export_same s3://ferry-fleet/back "$(snap_ids s3://ferry-fleet/back)" "$TMP/e1/$A"
echo "ok 5: S3 and local repositories interoperate through export"

# ---- 6. multipart uploads (5 MiB parts) of files up to ~22 MB -----------------------------------------
"$MKBACKUP" "$TMP/mp/MULTIPART0001" --files 12 --size 60000000 --seed 5 >/dev/null
FERRY_S3_PART_SIZE=5242880 ferry snapshot import "$TMP/mp/MULTIPART0001" --repo s3://ferry-fleet/multipart >/dev/null
export_same s3://ferry-fleet/multipart "$(snap_ids s3://ferry-fleet/multipart)" "$TMP/mp/MULTIPART0001"
echo "ok 6: multipart upload of large files, export byte-identical"

# ---- 7. a damaged pack is refused (needs Debian's awscli to overwrite an object) ------------------------
if [ -x /usr/bin/aws ]; then
    awsc() { AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true /usr/bin/aws --endpoint-url "$FERRY_S3_ENDPOINT" "$@"; }
    PACK=$(awsc s3 ls --recursive s3://ferry-fleet/back/packs/ | awk 'NR==1 {print $4}')
    [ -n "$PACK" ] || fail "no pack in s3://ferry-fleet/back"
    head -c 4096 /dev/urandom >"$TMP/garbage"
    awsc s3 cp --only-show-errors "$TMP/garbage" "s3://ferry-fleet/$PACK"
    set +e; "$FERRY" export "$(snap_ids s3://ferry-fleet/back)" "$TMP/bad" --repo s3://ferry-fleet/back 2>"$TMP/err7"; rc=$?; set -e
    [ "$rc" = 4 ] || { cat "$TMP/err7" >&2; fail "export of a damaged pack exited $rc, expected 4"; }
    grep -q "damaged" "$TMP/err7" || fail "the message does not say the pack is damaged"
    [ ! -e "$TMP/bad/$A" ] || fail "a failed export left a backup folder"
    echo "ok 7: a damaged pack is refused (exit 4) and leaves no folder"
else
    echo "skip 7: /usr/bin/aws (awscli) is not installed"
fi
echo "test_fleet: all passed in $((SECONDS - START)) s"
