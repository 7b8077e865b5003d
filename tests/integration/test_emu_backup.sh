# mobilebackup2: Debian's idevicebackup2 backs up an emulated device (notification_proxy, AFC sync
# lock, DeviceLink upload); the result passes `ferry verify`, `ferry ls` lists every file of the
# device's files/ tree and the extracted files are byte-identical to the device's. Incremental backups
# re-send only what changed (counts asserted from idevicebackup2's "Received N files"), `backup
# --full` re-sends everything, and garbage on every service port does not stop a later backup.
. "$FERRY_TESTS/integration/lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" unmanaged-personal "Backup Phone"
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
mkdir "$TMP/bk"

received() { grep -ao "Received [0-9]* files" "$TMP/out" | tail -1 | awk '{print $2}'; }
want=$(cd "$TMP/dev/files" && find . -type f | wc -l)
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "idevicebackup2 backup did not succeed"
[ "$(received)" = $((want + 3)) ] || fail "first backup sent $(received) files, expected $want + 3 manifests"
[ -f "$TMP/mux.sock.d/$U/media/com.apple.itunes.lock_sync" ] || fail "the AFC sync lock file was not created"
[ -z "$(ls "$TMP/mux.sock.d/$U" | grep staging || true)" ] || fail "a staging folder was left behind"
run_ok "$FERRY" verify "$TMP/bk/$U"
grep -q "0 problems, 0 warnings" "$TMP/out" || fail "ferry verify: $(cat "$TMP/out")"
run_ok "$FERRY" ls "$TMP/bk/$U"
got=$(wc -l <"$TMP/out")
[ "$want" = "$got" ] || fail "ferry ls lists $got records, the device has $want files"
run_ok "$FERRY" extract "$TMP/bk/$U" "$TMP/x"
same_files "$TMP/dev/files" "$TMP/x" || fail "extracted files differ from the device's"


# incremental: nothing changed -> only Manifest.plist, Manifest.db, Status.plist
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "second backup did not succeed"
[ "$(received)" = 3 ] || fail "unchanged incremental backup sent $(received) files, expected 3"
# one file changed, one removed -> 1 + 3, and the removed file's blob is gone
changed=$(cd "$TMP/dev/files" && find . -path './AppDomain-*' -type f | sort | head -1)
removed=$(cd "$TMP/dev/files" && find ./HomeDomain -type f | sort | head -1)
echo "changed content" >"$TMP/dev/files/$changed"
rm "$TMP/dev/files/$removed"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
[ "$(received)" = 4 ] || fail "incremental backup after one change sent $(received) files, expected 4"
run_ok "$FERRY" verify "$TMP/bk/$U"
grep -q "0 problems, 0 warnings" "$TMP/out" || fail "ferry verify after the incremental backup: $(cat "$TMP/out")"
blobs=$(find "$TMP/bk/$U" -mindepth 2 -type f | wc -l)
[ "$blobs" = $((want - 1)) ] || fail "$blobs blobs after the incremental backup, expected $((want - 1))"
rm -rf "$TMP/x"
run_ok "$FERRY" extract "$TMP/bk/$U" "$TMP/x"
same_files "$TMP/dev/files" "$TMP/x" || fail "files after the incremental backup differ"

run_ok idevicebackup2 -u "$U" backup --full "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "backup --full did not succeed"
[ "$(received)" = $((want - 1 + 3)) ] || fail "backup --full sent $(received) files, expected all $((want - 1)) + 3"
run_ok "$FERRY" verify "$TMP/bk/$U"

python3 "$FERRY_TESTS/integration/emu_garbage.py" "$TMP/mux.sock" services >/dev/null || fail "garbage client failed"
server_alive
rm -rf "$TMP/bk2"; mkdir "$TMP/bk2"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk2"
grep -q "Backup Successful" "$TMP/out" || fail "backup after garbage did not succeed"
run_ok "$FERRY" verify "$TMP/bk2/$U"
stop_server
echo PASS
