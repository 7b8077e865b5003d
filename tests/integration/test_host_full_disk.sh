#!/usr/bin/env bash
# test_host_full_disk.sh: a full disk during a backup (Hardening issue). The repository lives on a
# 1.5 GiB tmpfs of its own (ferry keeps 512 MiB of it back from what it tells the device is free). A small device is backed up; then, as soon as a bigger device's backup
# (640 MiB) has received its first file, another process takes all the free space. The backup must end with a clear message (no space, naming the device),
# leave no snapshot and no staging folder, and the previous snapshot must still verify. With less
# than the margin free, the preflight refuses before any transfer; once space is back the same backup
# succeeds. Needs root to mount the tmpfs (skipped otherwise).
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_lib.sh"
need_tools python3 fallocate
FS="$TMP/fs"
mkdir "$FS"
if ! mount -t tmpfs -o size=1536M,mode=0700 tmpfs "$FS" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
    exit 77
fi
trap 'umount -l "$FS" 2>/dev/null; cleanup' EXIT
avail() { df -B1 --output=avail "$FS" | tail -1 | tr -d ' '; }

"$FERRY" device create "$TMP/small" --template unmanaged-personal --name "Small" --seed 5 --files 40 --size 4M >/dev/null
"$FERRY" device create "$TMP/big" --template unmanaged-personal --name "Big" --seed 6 --files 320 --size 640M >/dev/null
"$FERRY" device set "$TMP/big" icloud-photos false >/dev/null   # its photos are in the backup (B1)
US=$(udid_of "$TMP/small"); UB=$(udid_of "$TMP/big")
start_server "$TMP/small" "$TMP/big"
R="$FS/repo"
run_ok "$FERRY" backup -u "$US" --repo "$R"
S1=$(latest_id "$R" "$US")

# the disk fills up during the transfer: as soon as the first file arrives, another process takes
# all the free space (the device itself checks the host's free space before it sends anything:
# DLMessageGetFreeDiskSpace, and refuses with MBErrorDomain 105). ferry is stopped (SIGSTOP) while
# the disk fills, so that the rest of the 640 MiB cannot land first: the emulator sends them in well
# under a second.
"$FERRY" backup -u "$UB" --repo "$R" --full --json >"$TMP/run.json" 2>"$TMP/run.err" &
pid=$!
for _ in $(seq 1 3000); do
    [ "$(files_seen "$TMP/run.json")" -ge 1 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -STOP "$pid" 2>/dev/null || fail "the backup ended before the disk could fill up"
dd if=/dev/zero of="$FS/filler" bs=4M 2>/dev/null || true   # writes until the disk is full
kill -CONT "$pid"
rc=0
for _ in $(seq 1 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the backup still runs 120 s after the disk filled up"
wait "$pid" || rc=$?
[ "$rc" != 0 ] || fail "the backup succeeded on a full disk"
grep -Eiq "no space|space left" "$TMP/run.err" "$TMP/run.json" || fail "the message does not say the disk is full (exit $rc): $(cat "$TMP/run.err") $(tail -c 900 "$TMP/run.json")"
grep -v warning "$TMP/run.err" | grep -q "$UB" || fail "the message does not name the device: $(cat "$TMP/run.err")"
echo "full disk: exit $rc: $(grep -v warning "$TMP/run.err" | head -1)"
[ "$(nsnap "$R" "$UB")" = 0 ] || fail "a snapshot of the big device appeared"
[ "$(staging_count "$R")" = 0 ] || fail "the failed backup left its staging folder on the full disk"
run_ok "$FERRY" verify --repo "$R" "$S1"
grep -q "0 problems" "$TMP/out" || fail "the previous snapshot does not verify after the full disk"

[ "$(files_seen "$TMP/run.json")" -gt 0 ] || fail "the disk was full before the transfer: the test proves nothing"
# with less than the margin free, the preflight refuses before any transfer
rm -f "$FS/filler"
fallocate -l $(( $(avail) - (100 << 20) )) "$FS/filler2" || fail "fallocate on the tmpfs"
set +e; "$FERRY" backup -u "$UB" --repo "$R" --json >"$TMP/pre.json" 2>"$TMP/pre.err"; rc=$?; set -e
[ "$rc" != 0 ] || fail "a backup started with no space left"
grep -Eiq "free|space" "$TMP/pre.err" || fail "the preflight does not say why: $(cat "$TMP/pre.err")"
[ "$(files_seen "$TMP/pre.json")" = 0 ] || fail "files were transferred although the disk was full"

# space back: the backup succeeds
rm -f "$FS/filler" "$FS/filler2"
run_ok "$FERRY" backup -u "$UB" --repo "$R"
run_ok "$FERRY" verify --repo "$R" --latest -u "$UB"
grep -q "0 problems" "$TMP/out" || fail "the backup after the full disk does not verify"
stop_server
echo PASS
