#!/usr/bin/env bash
# test_host_full_disk.sh: a full disk during a backup (Hardening issue). The repository lives on a
# 600 MiB tmpfs of its own. A small device is backed up; then, while a bigger device's backup is in
# its transfer, another process takes all the free space. The backup must end with a clear message
# (no space), leave no snapshot and no staging folder, and the previous snapshot must still verify;
# once space is back the same backup succeeds. With the space already gone, the preflight refuses
# before any transfer. Needs root to mount the tmpfs (skipped otherwise).
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_lib.sh"
need_tools python3 fallocate
FS="$TMP/fs"
mkdir "$FS"
if ! mount -t tmpfs -o size=600M,mode=0700 tmpfs "$FS" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
    exit 77
fi
trap 'umount -l "$FS" 2>/dev/null; cleanup' EXIT
avail() { df -B1 --output=avail "$FS" | tail -1 | tr -d ' '; }

"$FERRY" device create "$TMP/small" --template unmanaged-personal --name "Small" --seed 5 --files 40 --size 4M >/dev/null
"$FERRY" device create "$TMP/big" --template unmanaged-personal --name "Big" --seed 6 --files 600 --size 96M >/dev/null
US=$(udid_of "$TMP/small"); UB=$(udid_of "$TMP/big")
start_server "$TMP/small" "$TMP/big"
R="$FS/repo"
run_ok "$FERRY" backup -u "$US" --repo "$R"
S1=$(latest_id "$R" "$US")

# the disk fills up during the transfer
"$FERRY" backup -u "$UB" --repo "$R" --full --json >"$TMP/run.json" 2>"$TMP/run.err" &
pid=$!
wait_files "$TMP/run.json" 30 "$pid" || fail "the big backup ended before 30 files: $(cat "$TMP/run.err")"
fallocate -l "$(avail)" "$FS/filler" 2>/dev/null || dd if=/dev/zero of="$FS/filler" bs=1M 2>/dev/null || true
rc=0
for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the backup still runs 60 s after the disk filled up"
wait "$pid" || rc=$?
[ "$rc" != 0 ] || fail "the backup succeeded on a full disk"
grep -Eiq "no space|space left" "$TMP/run.err" || fail "the message does not say the disk is full: $(cat "$TMP/run.err")"
grep -q "$UB" "$TMP/run.err" || fail "the message does not name the device: $(cat "$TMP/run.err")"
echo "full disk: exit $rc: $(head -1 "$TMP/run.err")"
[ "$(nsnap "$R" "$UB")" = 0 ] || fail "a snapshot of the big device appeared"
[ "$(staging_count "$R")" = 0 ] || fail "the failed backup left its staging folder on the full disk"
run_ok "$FERRY" verify --repo "$R" "$S1"
grep -q "0 problems" "$TMP/out" || fail "the previous snapshot does not verify after the full disk"

# with the space gone, the preflight refuses before any transfer
set +e; "$FERRY" backup -u "$UB" --repo "$R" --json >"$TMP/pre.json" 2>"$TMP/pre.err"; rc=$?; set -e
[ "$rc" != 0 ] || fail "a backup started with no space left"
grep -Eiq "free|space" "$TMP/pre.err" || fail "the preflight does not say why: $(cat "$TMP/pre.err")"
[ "$(files_seen "$TMP/pre.json")" = 0 ] || fail "files were transferred although the disk was full"

# space back: the backup succeeds
rm -f "$FS/filler"
run_ok "$FERRY" backup -u "$UB" --repo "$R"
run_ok "$FERRY" verify --repo "$R" --latest -u "$UB"
grep -q "0 problems" "$TMP/out" || fail "the backup after the full disk does not verify"
stop_server
echo PASS
