# mobilebackup2: Debian's idevicebackup2 backs up an emulated device (notification_proxy, AFC sync
# lock, DeviceLink upload). The backup holds exactly the files of the device's own backup plan (the
# same as `ferry device backup`; an unencrypted one leaves out the B3 categories), byte-identical,
# and passes `ferry verify` and `ferry ls`. Incremental backups re-send only what changed (counts
# asserted from idevicebackup2's "Received N files"), `backup --full` re-sends everything, and garbage
# on every service port does not stop a later backup.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" unmanaged-personal "Backup Phone"
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
mkdir "$TMP/bk"
received() { grep -ao "Received [0-9]* files" "$TMP/out" | tail -1 | awk '{print $2}'; }

run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "idevicebackup2 backup did not succeed"
first=$(received)
[ -f "$TMP/mux.sock.d/$U/media/com.apple.itunes.lock_sync" ] || fail "the AFC sync lock file was not created"
[ -z "$(ls "$TMP/mux.sock.d/$U" | grep staging || true)" ] || fail "a staging folder was left behind"
check_backup "$U" "$TMP/bk" "$TMP/dev"
want=$(wc -l <"$TMP/expected")
[ "$first" = $((want + 3)) ] || fail "first backup sent $first files, expected $want + 3 manifests"
grep -q '^\./HomeDomain/Library/CallHistoryDB/' "$TMP/expected" && fail "call history (B3) is in an unencrypted backup"
run_ok "$FERRY" ls "$TMP/bk/$U"
nfiles=$(grep -c '^-' "$TMP/out" || true)
[ "$nfiles" = "$want" ] || fail "ferry ls lists $nfiles file records, expected $want"

# incremental: nothing changed -> only Manifest.plist, Manifest.db, Status.plist
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "second backup did not succeed"
[ "$(received)" = 3 ] || fail "unchanged incremental backup sent $(received) files, expected 3"
# one file changed, one removed -> 1 + 3, and the removed file's blob is gone
changed=$(grep '^\./AppDomain-' "$TMP/expected" | head -1)
removed=$(grep '^\./HomeDomain/' "$TMP/expected" | head -1)
[ -n "$changed" ] && [ -n "$removed" ] || fail "no included app or home file to change"
echo "changed content" >"$TMP/dev/files/$changed"
rm "$TMP/dev/files/$removed"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
[ "$(received)" = 4 ] || fail "incremental backup after one change sent $(received) files, expected 4"
check_backup "$U" "$TMP/bk" "$TMP/dev"
blobs=$(find "$TMP/bk/$U" -mindepth 2 -type f | wc -l)
[ "$blobs" = $((want - 1)) ] || fail "$blobs blobs after the incremental backup, expected $((want - 1))"

run_ok idevicebackup2 -u "$U" backup --full "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "backup --full did not succeed"
[ "$(received)" = $((want - 1 + 3)) ] || fail "backup --full sent $(received) files, expected all $((want - 1)) + 3"
check_backup "$U" "$TMP/bk" "$TMP/dev"

python3 "$FERRY_TESTS/integration/emu_garbage.py" "$TMP/mux.sock" services >/dev/null || fail "garbage client failed"
server_alive
rm -rf "$TMP/bk2"; mkdir "$TMP/bk2"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk2"
grep -q "Backup Successful" "$TMP/out" || fail "backup after garbage did not succeed"
check_backup "$U" "$TMP/bk2" "$TMP/dev"
stop_server
echo PASS
