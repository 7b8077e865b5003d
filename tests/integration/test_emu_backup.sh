# mobilebackup2: Debian's idevicebackup2 backs up an emulated device (notification_proxy, AFC sync
# lock, DeviceLink upload); the result passes `ferry verify`, `ferry ls` lists every file of the
# device's files/ tree and the extracted files are byte-identical to the device's. A second backup and
# `backup --full` also succeed, and garbage on every service port does not stop a later backup.
. "$FERRY_TESTS/integration/lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" unmanaged-personal "Backup Phone"
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
mkdir "$TMP/bk"

run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "idevicebackup2 backup did not succeed"
[ -f "$TMP/mux.sock.d/$U/media/com.apple.itunes.lock_sync" ] || fail "the AFC sync lock file was not created"
[ -z "$(ls "$TMP/mux.sock.d/$U" | grep staging || true)" ] || fail "a staging folder was left behind"
run_ok "$FERRY" verify "$TMP/bk/$U"
grep -q "0 problems, 0 warnings" "$TMP/out" || fail "ferry verify: $(cat "$TMP/out")"
run_ok "$FERRY" ls "$TMP/bk/$U"
want=$(cd "$TMP/dev/files" && find . -type f | wc -l)
got=$(wc -l <"$TMP/out")
[ "$want" = "$got" ] || fail "ferry ls lists $got records, the device has $want files"
run_ok "$FERRY" extract "$TMP/bk/$U" "$TMP/x"
diff -r "$TMP/dev/files" "$TMP/x" >"$TMP/diff" || { cat "$TMP/diff" >&2; fail "extracted files differ from the device's"; }

run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "second backup did not succeed"
run_ok idevicebackup2 -u "$U" backup --full "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "backup --full did not succeed"
run_ok "$FERRY" verify "$TMP/bk/$U"

python3 "$FERRY_TESTS/integration/emu_garbage.py" "$TMP/mux.sock" services >/dev/null || fail "garbage client failed"
server_alive
rm -rf "$TMP/bk2"; mkdir "$TMP/bk2"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk2"
grep -q "Backup Successful" "$TMP/out" || fail "backup after garbage did not succeed"
run_ok "$FERRY" verify "$TMP/bk2/$U"
stop_server
echo PASS
