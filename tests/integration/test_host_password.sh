# ferry password and encrypted backups against emulated devices: set, change and remove the backup
# password (a wrong current password exits with code 3 and changes nothing; set on a device that has
# one and change/remove on a device without one are refused); an encrypted backup verifies with the
# password and not without it; a device whose profile forces encrypted backups and has no password
# is stopped by the preflight with code 3 before any transfer (the device logs no backup, the
# repository holds nothing), and `--encrypt` sets the password and backs it up; under
# forceEncryptedBackup the password cannot be removed. Passwords never appear in argv.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_lib.sh"
need_tools python3
make_device "$TMP/dev" unmanaged-personal "Password Phone"
make_device "$TMP/ade" ade-iphone "Forced Phone" 2
U=$(udid_of "$TMP/dev")
A=$(udid_of "$TMP/ade")
start_server "$TMP/dev" "$TMP/ade"
R="$TMP/repo"
printf 'first secret\n' >"$TMP/p1"
printf 'second secret\n' >"$TMP/p2"
printf 'wrong\n' >"$TMP/bad"
pwset() { "$FERRY" devices --json >"$TMP/d.json"; json_get "$TMP/d.json" "[x for x in d['devices'] if x['udid']=='$1'][0]['passwordSet']"; }
code_of() { set +e; timeout 120 "$@" >"$TMP/out" 2>"$TMP/err"; echo $? >"$TMP/rc"; set -e; cat "$TMP/rc"; }

# no password yet: change and remove are refused
[ "$(code_of "$FERRY" password remove -u "$U" --password-file "$TMP/p1")" != 0 ] || fail "remove without a password succeeded"
grep -q "no backup password" "$TMP/err" || fail "remove without a password: $(cat "$TMP/err")"
run_ok "$FERRY" password set -u "$U" --password-file "$TMP/p1"
[ "$(pwset "$U")" = True ] || fail "password not set"
[ "$(code_of "$FERRY" password set -u "$U" --password-file "$TMP/p2")" != 0 ] || fail "set over an existing password succeeded"
grep -q "already has a backup password" "$TMP/err" || fail "set twice: $(cat "$TMP/err")"

# wrong current password: code 3, MBErrorDomain 207 in the message and the JSON, nothing changed
[ "$(code_of "$FERRY" password change -u "$U" --password-file "$TMP/bad" --new-password-file "$TMP/p2")" = 3 ] \
    || fail "change with a wrong password exited $(cat "$TMP/rc")"
grep -q "207" "$TMP/err" && grep -qi "wrong backup password" "$TMP/err" || fail "wrong password message: $(cat "$TMP/err")"
[ "$(code_of "$FERRY" password remove -u "$U" --password-file "$TMP/bad" --json)" = 3 ] || fail "remove with a wrong password"
[ "$(json_get "$TMP/out" 'd["deviceError"]')" = 207 ] || fail "JSON deviceError: $(cat "$TMP/out")"
[ "$(pwset "$U")" = True ] || fail "a wrong password changed the device"

# change (passwords from the environment this time), then an encrypted backup
FERRY_BACKUP_PASSWORD="first secret" FERRY_NEW_BACKUP_PASSWORD="second secret" run_ok "$FERRY" password change -u "$U"
grep -q "changed" "$TMP/out" || fail "change: $(cat "$TMP/out")"
run_ok "$FERRY" backup -u "$U" --repo "$R" --json
[ "$(json_get "$TMP/out" 'd["devices"][0]["encrypted"]')" = True ] || fail "the backup is not encrypted"
FERRY_BACKUP_PASSWORD="second secret" run_ok "$FERRY" verify --repo "$R" --latest -u "$U"
grep -q "0 problems" "$TMP/out" || fail "verify with the password: $(cat "$TMP/out")"
[ "$(FERRY_BACKUP_PASSWORD="first secret" code_of "$FERRY" verify --repo "$R" --latest -u "$U")" = 3 ] \
    || fail "verify with the old password exited $(cat "$TMP/rc")"
run_ok "$FERRY" snapshots path --latest -u "$U" --repo "$R"
P=$(cat "$TMP/out")
FERRY_BACKUP_PASSWORD="second secret" run_ok "$FERRY" ls "$P"
grep -q "HomeDomain" "$TMP/out" || fail "ferry ls of the encrypted snapshot"

# remove: the next backup is not encrypted
run_ok "$FERRY" password remove -u "$U" --password-file "$TMP/p2"
[ "$(pwset "$U")" = False ] || fail "password not removed"
run_ok "$FERRY" backup -u "$U" --repo "$R" --json
[ "$(json_get "$TMP/out" 'd["devices"][0]["encrypted"]')" = False ] || fail "backup after remove still encrypted"

# forced encryption without a password: stopped before any transfer
[ "$(code_of "$FERRY" backup -u "$A" --repo "$R" --json)" = 3 ] || fail "forced encryption without a password exited $(cat "$TMP/rc")"
grep -q "forceEncryptedBackup" "$TMP/err" || fail "the reason is not named: $(cat "$TMP/err")"
grep -q "nothing was transferred" "$TMP/err" || fail "message: $(cat "$TMP/err")"
grep -q "mobilebackup2 $A: backup" "$TMP/server.log" && fail "the device started a backup"
[ "$(nsnap "$R" "$A")" = 0 ] || fail "a snapshot of the refused device exists"
[ "$(staging_count "$R")" = 0 ] || fail "a staging folder was left by the refused backup"

# --encrypt sets the password (from a file descriptor) and backs up encrypted
run_ok "$FERRY" backup -u "$A" --repo "$R" --encrypt --password-fd 5 --json 5<"$TMP/p1"
[ "$(json_get "$TMP/out" 'd["devices"][0]["encrypted"]')" = True ] || fail "--encrypt backup: $(tail -1 "$TMP/out")"
grep -q '"event":"password-set"' "$TMP/out" || fail "no password-set event"
FERRY_BACKUP_PASSWORD="first secret" run_ok "$FERRY" verify --repo "$R" --latest -u "$A"
grep -q "0 problems" "$TMP/out" || fail "verify of the forced-encryption backup"
# under forceEncryptedBackup the password cannot be removed
[ "$(code_of "$FERRY" password remove -u "$A" --password-file "$TMP/p1")" = 6 ] || fail "remove under forceEncryptedBackup exited $(cat "$TMP/rc")"
grep -q "forceEncryptedBackup" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(pwset "$A")" = True ] || fail "the forced password was removed"
stop_server
echo PASS
