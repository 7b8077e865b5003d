#!/usr/bin/env bash
# bench/fleet.sh: upload throughput of the S3 repository backend against Debian's `aws s3 cp
# --recursive` of the same snapshot directory, and the deduplication ratio of golden-master clones.
# Starts the project's Ceph cluster (scripts/ceph-cluster.sh) in a temporary folder on free ports, or
# uses a running store when FERRY_S3_ENDPOINT and the AWS_* keys are set (BENCH_USE_ENV=1); always
# stops what it started.
#   1. ferry_mkbackup writes a FILES-file, SIZE-byte unencrypted backup;
#   2. `aws s3 cp --recursive` of that folder into one prefix, timed (one object per file);
#   3. `ferry snapshot import` of the same folder into an empty S3 repository, timed (packs and
#      data objects, SigV4 over one connection);
#   4. CLONES copies of that backup under their own UDIDs into one repository: stored bytes against
#      the apparent bytes of the snapshots (dedup ratio), and against one copy.
# usage: bench/fleet.sh [path/to/ferry]   (env: FILES, SIZE, CLONES, BENCH_DIR, BENCH_USE_ENV)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FERRY=$(realpath "${1:-$ROOT/build/ferry}")
MKBACKUP=$(dirname "$FERRY")/tests/ferry_mkbackup
FILES=${FILES:-5000}
SIZE=${SIZE:-536870912}
CLONES=${CLONES:-8}
AWS=/usr/bin/aws
[ -x "$MKBACKUP" ] || { echo "bench: $MKBACKUP not built (run make build)" >&2; exit 1; }
[ -x "$AWS" ] || { echo "bench: $AWS missing (make deps installs awscli)" >&2; exit 1; }
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/ferry-bench-fleet-XXXXXX")
STARTED=
cleanup() {
    [ -z "$STARTED" ] || timeout 30 bash "$ROOT/scripts/ceph-cluster.sh" stop "$WORK/ceph" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${BENCH_USE_ENV:-0}" != 1 ]; then
    port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
    pick() { local p; for _ in $(seq 50); do p=$(($1 + RANDOM % 2000)); port_free "$p" && port_free $((p + 3489)) && { echo "$p"; return; }; done; echo "$1"; }
    export FERRY_CEPH_MON_PORT FERRY_CEPH_RGW_PORT
    FERRY_CEPH_MON_PORT=$(pick 30000); FERRY_CEPH_RGW_PORT=$(pick 37000)
    STARTED=1
    timeout 120 bash "$ROOT/scripts/ceph-cluster.sh" start "$WORK/ceph" >"$WORK/env" 2>"$WORK/cluster.err" ||
        { cat "$WORK/cluster.err" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$WORK/env"
fi
export AWS_DEFAULT_REGION=${FERRY_S3_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true
aws() { "$AWS" --endpoint-url "$FERRY_S3_ENDPOINT" "$@"; }
B=ferry-bench-$$
aws s3 mb "s3://$B" >/dev/null

UDID=00008101-000BE0C4BE0C4BE0
BK="$WORK/backup/$UDID"
echo "bench: writing $FILES files, $SIZE bytes, unencrypted ..."
"$MKBACKUP" "$BK" --files "$FILES" --size "$SIZE" --seed 1 >/dev/null
BYTES=$(du -sb "$BK" | cut -f1)
NFILES=$(find "$BK" -type f | wc -l)
rate() { python3 -c "print(f'{$1/1048576/$2:.1f}')"; }

s=$(date +%s.%N); aws s3 cp --recursive --only-show-errors "$BK" "s3://$B/awscli/$UDID"; e=$(date +%s.%N)
T_AWS=$(python3 -c "print(f'{$e-$s:.2f}')")
s=$(date +%s.%N); "$FERRY" snapshot import "$BK" --repo "s3://$B/ferry" >/dev/null; e=$(date +%s.%N)
T_FERRY=$(python3 -c "print(f'{$e-$s:.2f}')")
OBJ=$("$FERRY" snapshots usage --repo "s3://$B/ferry" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"])')
echo "bench: snapshot directory: $NFILES files, $BYTES bytes"
echo "bench: aws s3 cp --recursive: $T_AWS s, $(rate "$BYTES" "$T_AWS") MiB/s ($NFILES objects)"
echo "bench: ferry snapshot import: $T_FERRY s, $(rate "$BYTES" "$T_FERRY") MiB/s ($OBJ objects)"
echo "bench: ferry / aws time ratio: $(python3 -c "print(f'{$T_FERRY/$T_AWS:.2f}')")"

# Dedup: CLONES golden-master clones (identity changed in Manifest.plist / Info.plist).
for n in $(seq "$CLONES"); do
    u=$(printf '00008110-%016X' "$n")
    mkdir -p "$WORK/clones/$n"
    cp -r "$BK" "$WORK/clones/$n/$u"
    python3 - "$WORK/clones/$n/$u" "$u" <<'EOF'
import plistlib, sys, os
d, udid = sys.argv[1], sys.argv[2]
p = os.path.join(d, "Manifest.plist")
with open(p, "rb") as f: m = plistlib.load(f)
m.setdefault("Lockdown", {})["UniqueDeviceID"] = udid
with open(p, "wb") as f: plistlib.dump(m, f, fmt=plistlib.FMT_BINARY)
p = os.path.join(d, "Info.plist")
with open(p, "rb") as f: i = plistlib.load(f)
i["Unique Identifier"] = i["Target Identifier"] = udid.upper()
with open(p, "wb") as f: plistlib.dump(i, f)
EOF
    "$FERRY" snapshot import "$WORK/clones/$n/$u" --repo "s3://$B/clones" >/dev/null
    rm -rf "$WORK/clones/$n"
done
"$FERRY" snapshots usage --repo "s3://$B/clones" --json >"$WORK/usage"
"$FERRY" snapshots usage --repo "s3://$B/ferry" --json >"$WORK/usage1"
python3 - "$WORK/usage" "$WORK/usage1" "$CLONES" <<'EOF'
import json, sys
u, one, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
print(f"bench: {n} clones: {u['snapshotBytes']} bytes of snapshots stored in {u['storedBytes']} bytes: "
      f"dedup ratio {u['snapshotBytes']/u['storedBytes']:.2f}:1, "
      f"{u['storedBytes']/one['storedBytes']:.3f} times one device")
EOF
