#!/usr/bin/env bash
# test_fleet.sh: the S3 repository backend (docs/fleet.md) against the project's own Ceph cluster
# (scripts/ceph-cluster.sh: 3 bluestore OSDs, 3 replicas, radosgw on loopback), started in a temporary
# folder on free ports and always stopped at exit. Skipped (77) when the Ceph packages are absent.
# Since `ferry backup` from a device does not exist yet, backups are made offline with `ferry device
# backup` (emulated devices) or ferry_mkbackup, and go into the repository with `ferry snapshot import`.
#   1. two ferry processes import different devices into one bucket at the same time; both verify
#      and export byte-identical;
#   2. 8 devices cloned from one golden master (one emulated device, backed up unencrypted, then given
#      8 identities: UDID, serial, name in Manifest.plist/Info.plist) occupy at most 1.3 times the
#      stored bytes of one (figure printed);
#   3. an OSD is killed during an upload: the upload completes and exports byte-identical;
#   4. kill -9 of ferry during an upload: no snapshot appears, the next import succeeds, prune removes
#      the unreferenced objects;
#   5. S3 -> export -> local repository import -> export interoperate, and back into S3;
#   6. files larger than the part size go up as multipart uploads and come back identical.
# Every wait is bounded (timeout).
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
: "${FERRY_TESTS:?FERRY_TESTS must name the tests folder}"
CLUSTER="$FERRY_TESTS/../scripts/ceph-cluster.sh"
for tool in ceph-mon ceph-osd radosgw radosgw-admin python3 curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (make deps installs ceph-mon ceph-osd ceph-common radosgw)"; exit 77; }
done
MKBACKUP="$(dirname "$FERRY")/tests/ferry_mkbackup"
[ -x "$MKBACKUP" ] || MKBACKUP="$(dirname "$FERRY")/../tests/ferry_mkbackup"
[ -x "$MKBACKUP" ] || { echo "SKIP: ferry_mkbackup not built"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fleet-XXXXXX")
CEPH="$TMP/ceph"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    local t=$SECONDS
    timeout 30 bash "$CLUSTER" stop "$CEPH" || true
    rm -rf "$TMP"
    echo "cluster stopped and removed in $((SECONDS - t)) s"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ferry() { timeout 120 "$FERRY" "$@"; }

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
device_backup() { # NAME SEED OUT
    ferry device create "$TMP/dev-$1" --template profile-de-ipad --files 300 --size 12000000 --seed "$2" --name "$1" >/dev/null
    ferry device backup "$TMP/dev-$1" "$3" >/dev/null
    ls -d "$3"/*/
}

# ---- 1. two processes, two devices, one bucket, at the same time ---------------------------------
A=$(device_backup iPad-A 101 "$TMP/bA"); A=${A%/}
B=$(device_backup iPad-B 202 "$TMP/bB"); B=${B%/}
[ "$(basename "$A")" != "$(basename "$B")" ] || fail "the two devices have the same UDID"
R=s3://ferry-fleet/shared
ferry snapshot import "$A" --repo "$R" >"$TMP/impA" 2>&1 & PA=$!
ferry snapshot import "$B" --repo "$R" >"$TMP/impB" 2>&1 & PB=$!
wait $PA || { cat "$TMP/impA" >&2; fail "concurrent import A"; }
wait $PB || { cat "$TMP/impB" >&2; fail "concurrent import B"; }
[ "$(snap_ids "$R" | wc -l)" = 2 ] || fail "expected 2 snapshots in $R"
for id in $(snap_ids "$R"); do
    ferry verify --repo "$R" "$id" >/dev/null || fail "verify $id"
done
for d in "$A" "$B"; do
    id=$(ferry snapshots --repo "$R" -u "$(basename "$d")" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][-1]["id"])')
    export_same "$R" "$id" "$d"
done
echo "ok 1: two concurrent imports, both verify and export byte-identical"

# ---- 2. 8 clones of a golden master ----------------------------------------------------------------
G=$(device_backup golden 303 "$TMP/golden"); G=${G%/}
clone() { # N: a copy of the golden backup with its own identity
    local udid; udid=$(printf '00008110-%016X' "$1")
    mkdir -p "$TMP/clones/$1"
    cp -r "$G" "$TMP/clones/$1/$udid"
    python3 - "$TMP/clones/$1/$udid" "$udid" "$1" <<'EOF'
import plistlib, sys, os
d, udid, n = sys.argv[1], sys.argv[2], sys.argv[3]
mp = os.path.join(d, "Manifest.plist")
with open(mp, "rb") as f: m = plistlib.load(f)
fmt = plistlib.FMT_BINARY
m.setdefault("Lockdown", {})["UniqueDeviceID"] = udid
m["Lockdown"]["SerialNumber"] = "F2LX%08d" % int(n)
m["Lockdown"]["DeviceName"] = "Cart iPad %s" % n
with open(mp, "wb") as f: plistlib.dump(m, f, fmt=fmt)
ip = os.path.join(d, "Info.plist")
with open(ip, "rb") as f: i = plistlib.load(f)
for k in ("Unique Identifier", "Target Identifier"): i[k] = udid.upper()
i["Serial Number"] = "F2LX%08d" % int(n)
i["Device Name"] = i["Display Name"] = "Cart iPad %s" % n
with open(ip, "wb") as f: plistlib.dump(i, f)
EOF
    echo "$TMP/clones/$1/$udid"
}
R1=s3://ferry-fleet/one
R8=s3://ferry-fleet/eight
ferry snapshot import "$(clone 1)" --repo "$R1" >/dev/null
for n in 1 2 3 4 5 6 7 8; do ferry snapshot import "$(clone $n)" --repo "$R8" >/dev/null; done
[ "$(snap_ids "$R8" | wc -l)" = 8 ] || fail "expected 8 snapshots"
ONE=$(stored "$R1"); EIGHT=$(stored "$R8")
RATIO=$(python3 -c "print(f'{$EIGHT/$ONE:.3f}')")
echo "8 golden-master clones: $EIGHT bytes stored, one device: $ONE bytes, ratio $RATIO (limit 1.3)"
python3 -c "import sys; sys.exit(0 if $EIGHT <= 1.3 * $ONE else 1)" || fail "8 clones take $RATIO times one device"
export_same "$R8" "$(snap_ids "$R8" | tail -1)" "$(ls -d "$TMP"/clones/*/* | tail -1)"
echo "ok 2: dedup ratio $RATIO"

# ---- 3. an OSD is killed during an upload ----------------------------------------------------------
"$MKBACKUP" "$TMP/big/BIGDEVICE0001" --files 240 --size 50000000 --seed 9 >/dev/null
R3=s3://ferry-fleet/osd
# paused_import LOG ARGS...: starts an import that stops itself (SIGSTOP) after its first pack is
# written, under a bounded timeout; sets PAUSED_PID (ferry) and TIMEOUT_PID (what to wait for).
paused_import() {
    local log=$1; shift
    FERRY_STORE_TEST_PAUSE=s3-pack-written timeout -s KILL 150 "$FERRY" snapshot import "$@" >"$log" 2>&1 &
    TIMEOUT_PID=$!
    PIDS+=("$TIMEOUT_PID")
    for _ in $(seq 300); do grep -q "test pause" "$log" && break; sleep 0.1; done
    PAUSED_PID=$(sed -n 's/.*test pause at s3-pack-written (pid \([0-9]*\)).*/\1/p' "$log")
    [ -n "$PAUSED_PID" ] || { cat "$log" >&2; fail "the upload did not reach its first pack"; }
    PIDS+=("$PAUSED_PID")
}
paused_import "$TMP/imp3" "$TMP/big/BIGDEVICE0001" --repo "$R3"
bash "$CLUSTER" kill-osd "$CEPH" 1
kill -CONT "$PAUSED_PID"
wait "$TIMEOUT_PID" || { cat "$TMP/imp3" >&2; fail "the upload failed (or hung) after the OSD was killed"; }
export_same "$R3" "$(snap_ids "$R3" | tail -1)" "$TMP/big/BIGDEVICE0001"
echo "ok 3: upload completed with osd.1 killed; export byte-identical"

# ---- 4. kill -9 during an upload, then import, then prune --------------------------------------------
R4=s3://ferry-fleet/crash
"$MKBACKUP" "$TMP/x/CRASHDEVICE01" --files 240 --size 40000000 --seed 21 >/dev/null
"$MKBACKUP" "$TMP/y/OTHERDEVICE01" --files 120 --size 10000000 --seed 22 >/dev/null
paused_import "$TMP/imp4" "$TMP/x/CRASHDEVICE01" --repo "$R4"
kill -KILL "$PAUSED_PID"; wait "$TIMEOUT_PID" 2>/dev/null || true
[ -z "$(snap_ids "$R4")" ] || fail "a killed upload left a visible snapshot"
ORPHANS=$(stored "$R4")
[ "$ORPHANS" -gt 0 ] || fail "the killed upload wrote nothing (the test would prove nothing)"
ferry snapshot import "$TMP/y/OTHERDEVICE01" --repo "$R4" >/dev/null || fail "import after a kill -9"
ferry snapshot import "$TMP/y/OTHERDEVICE01" --repo s3://ferry-fleet/crash-reference >/dev/null
ferry prune --keep 1 --repo "$R4" --json >"$TMP/prune4"
AFTER=$(stored "$R4"); REF=$(stored s3://ferry-fleet/crash-reference)
echo "after kill -9: $ORPHANS bytes of orphans; after prune $AFTER bytes (a clean repository with the same snapshot: $REF)"
python3 -c "import sys; sys.exit(0 if abs($AFTER - $REF) <= 4096 else 1)" || fail "prune left unreferenced objects"
export_same "$R4" "$(snap_ids "$R4")" "$TMP/y/OTHERDEVICE01"
echo "ok 4: kill -9 leaves no snapshot; prune swept $(python3 -c "import json;print(json.load(open('$TMP/prune4'))['freedBytes'])") bytes"

# ---- 5. S3 -> export -> local import -> export -> S3 ---------------------------------------------------
ID=$(ferry snapshots --repo "$R" -u "$(basename "$A")" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][-1]["id"])')
ferry export "$ID" "$TMP/e1" --repo "$R" >/dev/null
ferry snapshot import "$TMP/e1/$(basename "$A")" --repo "$TMP/localrepo" >/dev/null
LID=$(snap_ids "$TMP/localrepo")
ferry export "$LID" "$TMP/e2" --repo "$TMP/localrepo" >/dev/null
diff -r "$A" "$TMP/e2/$(basename "$A")" || fail "S3 -> local -> export differs"
ferry snapshot import "$TMP/e2/$(basename "$A")" --repo s3://ferry-fleet/back >/dev/null
export_same s3://ferry-fleet/back "$(snap_ids s3://ferry-fleet/back)" "$A"
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
    [ ! -e "$TMP/bad/$(basename "$A")" ] || fail "a failed export left a backup folder"
    echo "ok 7: a damaged pack is refused (exit 4) and leaves no folder"
else
    echo "skip 7: /usr/bin/aws (awscli) is not installed"
fi
echo "test_fleet: all passed in $((SECONDS - START)) s"
