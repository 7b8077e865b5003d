# ferry restore of an encrypted snapshot: the password is checked on the host before any device is
# touched (a wrong one exits 3 and changes nothing), read from --password-file, --password-fd or
# FERRY_BACKUP_PASSWORD (never argv), and passed to the device, which decrypts: the files come back
# byte-identical.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" unmanaged-personal "Encrypted" 3
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
make_device "$TMP/other" unmanaged-personal "Other" 4
"$FERRY" device set "$TMP/other" findmy false >/dev/null
U=$(udid_of "$TMP/dev"); O=$(udid_of "$TMP/other")
start_server "$TMP/dev" "$TMP/other"
run_ok idevicebackup2 -u "$U" encryption on "right pw"
SNAP=$(snapshot_of "$U")
FERRY_BACKUP_PASSWORD="right pw" run_ok "$FERRY" extract "$TMP/bk-$U/$U" "$TMP/orig"
app_file=$(cd "$TMP/orig" && find . -path './AppDomain-*' -type f | head -1)
[ -n "$app_file" ] || fail "the template has no app files"
echo changed >"$TMP/dev/files/$app_file"
echo changed >"$TMP/other/files/$app_file"

printf 'wrong pw\n' >"$TMP/bad"; printf 'right pw\n' >"$TMP/good"
set +e
timeout 120 "$FERRY" restore "$SNAP" --to "$U" --to "$O" --repo "$TMP/repo" --yes --reboot-wait 0 --system --password-file "$TMP/bad" \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "a wrong password exited $rc, expected 3"
grep -qi "password" "$TMP/err" || fail "the message does not name the password: $(cat "$TMP/err")"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "the device changed after a wrong password"
[ "$(cat "$TMP/other/files/$app_file")" = changed ] || fail "the other device changed after a wrong password"
! grep -q "MCInstall" "$TMP/server.log" || fail "a device was read although the password was wrong"

run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --password-file "$TMP/good"
grep -q "^Device $U: ok" "$TMP/out" || fail "no ok report: $(cat "$TMP/out")"
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "the encrypted restore did not restore the file"

FERRY_BACKUP_PASSWORD="right pw" run_ok "$FERRY" restore "$SNAP" --to "$O" --repo "$TMP/repo" --yes --reboot-wait 0 --system
cmp -s "$TMP/orig/$app_file" "$TMP/other/files/$app_file" || fail "the restore with the variable did not restore"

echo changed >"$TMP/dev/files/$app_file"
run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --password-fd 7 7<"$TMP/good"
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "the restore with --password-fd did not restore"
stop_server
echo PASS
