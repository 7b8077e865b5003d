# ferry restore from an S3 repository (docs/fleet.md) against the project's own Ceph cluster
# (scripts/ceph-cluster.sh, on free loopback ports, always stopped at exit; skipped when Ceph is not
# installed): the snapshot is exported to a private temporary folder, restored onto an emulated
# device byte-identical, and the folder is gone afterwards, also when the restore is refused.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3 ceph-mon ceph-osd radosgw radosgw-admin curl
CLUSTER="$FERRY_TESTS/../scripts/ceph-cluster.sh"
CEPH="$TMP/ceph"
stop_cluster() { timeout 60 bash "$CLUSTER" stop "$CEPH" >/dev/null 2>&1 || true; }
trap 'stop_cluster; cleanup' EXIT
port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
pick() { local p; for _ in $(seq 50); do p=$(($1 + RANDOM % 2000)); port_free "$p" && port_free $((p + 3489)) && { echo "$p"; return; }; done; echo "$1"; }
export FERRY_CEPH_MON_PORT; FERRY_CEPH_MON_PORT=$(pick 20000)
export FERRY_CEPH_RGW_PORT; FERRY_CEPH_RGW_PORT=$(pick 27000)
timeout 180 bash "$CLUSTER" start "$CEPH" >"$TMP/env" 2>"$TMP/cluster.err" || { cat "$TMP/cluster.err" >&2; fail "the Ceph cluster did not start"; }
# shellcheck disable=SC1091
. "$TMP/env"
export FERRY_CACHE_DIR="$TMP/cache"
export TMPDIR="$TMP/tmpdir"; mkdir "$TMPDIR"
R=s3://ferry-restore/repo

make_device "$TMP/dev" unmanaged-personal "S3 Restore"
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
mkdir "$TMP/bk"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
run_ok "$FERRY" snapshot import "$TMP/bk/$U" --repo "$R"
SNAP=$(sed -n 's/^snapshot \([^ ]*\) of .*/\1/p' "$TMP/out")
[ -n "$SNAP" ] || fail "no snapshot id: $(cat "$TMP/out")"
run_ok "$FERRY" extract "$TMP/bk/$U" "$TMP/orig"
app_file=$(cd "$TMP/orig" && find . -path './AppDomain-*' -type f | head -1)

echo changed >"$TMP/dev/files/$app_file"
run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$R" --yes --reboot-wait 0 --system --settings --remove
grep -q "^Device $U: ok" "$TMP/out" || fail "no ok report: $(cat "$TMP/out")"
same_files "$TMP/orig" "$TMP/dev/files" || fail "files restored from S3 differ"
[ -z "$(ls -A "$TMPDIR" | grep '^ferry-restore-' || true)" ] || fail "the temporary export was left behind: $(ls "$TMPDIR")"

# refused (R3): the export is removed too
"$FERRY" device set "$TMP/dev" version 15.0 >/dev/null
stop_server
start_server "$TMP/dev"
run_fails "$FERRY" restore --latest -u "$U" --to "$U" --repo "$R" --yes --reboot-wait 0
grep -q "R3" "$TMP/err" || fail "R3 not named: $(cat "$TMP/err")"
[ -z "$(ls -A "$TMPDIR" | grep '^ferry-restore-' || true)" ] || fail "the temporary export was left after a refusal"
stop_server
echo PASS
