# Backup encryption through idevicebackup2: `encryption on` sets the device's backup password
# (WillEncrypt), the backup is then encrypted by the device (ferry verify needs the password),
# `changepw` with a wrong old password fails with 207 and with the right one succeeds, `encryption
# off` turns it off. A device under forceEncryptedBackup refuses to back up without a password and
# refuses `encryption off`; with allowCloudBackup false it refuses `cloud on`. Also `info` and `list`.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 ideviceinfo python3
make_device "$TMP/p" unmanaged-personal "Personal"
make_device "$TMP/m" ade-iphone "Managed"
P=$(udid_of "$TMP/p")
M=$(udid_of "$TMP/m")
start_server "$TMP/p" "$TMP/m"
mkdir "$TMP/bk"
received() { grep -ao "Received [0-9]* files" "$TMP/out" | tail -1 | awk '{print $2}'; }
will_encrypt() { run_ok ideviceinfo -u "$1" -q com.apple.mobile.backup -k WillEncrypt; cat "$TMP/out"; }

[ "$(will_encrypt $P)" = false ] || fail "WillEncrypt before encryption on"
run_ok idevicebackup2 -u $P encryption on "pw one"
[ "$(will_encrypt $P)" = true ] || fail "WillEncrypt after encryption on"
run_ok idevicebackup2 -u $P backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "encrypted backup did not succeed"
first=$(received)
FERRY_BACKUP_PASSWORD="pw one" run_ok "$FERRY" info "$TMP/bk/$P"
grep -q "^Encrypted *yes" "$TMP/out" || fail "the backup is not encrypted: $(cat "$TMP/out")"
FERRY_BACKUP_PASSWORD="pw one" run_ok "$FERRY" verify "$TMP/bk/$P"
FERRY_BACKUP_PASSWORD="wrong" run_fails "$FERRY" verify "$TMP/bk/$P"
check_backup $P "$TMP/bk" "$TMP/p" "pw one"
want=$(wc -l <"$TMP/expected")
[ "$first" = $((want + 3)) ] || fail "first encrypted backup sent $first files, expected $want + 3"

# encrypted incrementals re-send only what changed: the device keeps its keybag, and an unchanged
# file keeps its key and blob
run_ok idevicebackup2 -u $P backup "$TMP/bk"
[ "$(received)" = 3 ] || fail "unchanged encrypted incremental backup sent $(received) files, expected 3"
changed=$(grep '^\./AppDomain-' "$TMP/expected" | head -1)
echo "changed content" >"$TMP/p/files/$changed"
run_ok idevicebackup2 -u $P backup "$TMP/bk"
[ "$(received)" = 4 ] || fail "encrypted incremental backup after one change sent $(received) files, expected 4"
check_backup $P "$TMP/bk" "$TMP/p" "pw one"
run_ok idevicebackup2 -u $P backup --full "$TMP/bk"
[ "$(received)" = $((want + 3)) ] || fail "encrypted backup --full sent $(received) files, expected $want + 3"
FERRY_BACKUP_PASSWORD="pw one" run_ok "$FERRY" verify "$TMP/bk/$P"

run_fails idevicebackup2 -u $P changepw "not it" "pw two"
grep -q "ErrorCode 207" "$TMP/out" "$TMP/err" || fail "a wrong old password did not give 207"
run_ok idevicebackup2 -u $P changepw "pw one" "pw two"
# a new password, a new keybag: every blob changes
run_ok idevicebackup2 -u $P backup "$TMP/bk"
[ "$(received)" = $((want + 3)) ] || fail "backup after changepw sent $(received) files, expected all $want + 3"
FERRY_BACKUP_PASSWORD="pw two" run_ok "$FERRY" verify "$TMP/bk/$P"
rm -rf "$TMP/bk2"; mkdir "$TMP/bk2"
run_ok idevicebackup2 -u $P backup "$TMP/bk2"
FERRY_BACKUP_PASSWORD="pw two" run_ok "$FERRY" verify "$TMP/bk2/$P"
run_ok idevicebackup2 -u $P encryption off "pw two"
[ "$(will_encrypt $P)" = false ] || fail "WillEncrypt after encryption off"

run_ok idevicebackup2 -u $P info "$TMP/bk"
grep -q "Unique Identifier: $P" "$TMP/out" || fail "info: $(cat "$TMP/out")"
run_ok idevicebackup2 -u $P list "$TMP/bk"
grep -q "^HomeDomain," "$TMP/out" || fail "list: $(cat "$TMP/out")"

# forceEncryptedBackup and allowCloudBackup = false
rm -rf "$TMP/bk3"; mkdir "$TMP/bk3"
run_fails idevicebackup2 -u $M backup "$TMP/bk3"
grep -q "must be encrypted" "$TMP/out" "$TMP/err" || fail "unencrypted backup under forceEncryptedBackup was not refused"
run_fails idevicebackup2 -u $M cloud on
grep -q "allowCloudBackup" "$TMP/out" "$TMP/err" || fail "cloud on was not refused"
run_ok idevicebackup2 -u $M encryption on "managed pw"
run_ok idevicebackup2 -u $M backup "$TMP/bk3"
FERRY_BACKUP_PASSWORD="managed pw" run_ok "$FERRY" verify "$TMP/bk3/$M"
run_fails idevicebackup2 -u $M encryption off "managed pw"
[ "$(will_encrypt $M)" = true ] || fail "encryption was turned off under forceEncryptedBackup"
stop_server
echo PASS
