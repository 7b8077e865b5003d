# Restore through idevicebackup2: `restore --system --settings --remove` brings every file of the
# backup back byte-identical and removes files the backup does not hold (here also the B3 categories
# an unencrypted backup leaves out), and clears the passcode (R1); without
# --system only app domains are restored; the rules engine refuses a restore onto an older OS (R3);
# Find My on is refused with 211; an encrypted backup
# restores with the right --password and is refused with 207 for a wrong one.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" unmanaged-personal "Restore Phone"
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
U=$(udid_of "$TMP/dev")
version=$(python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1],"rb"))["Identity"]["ProductVersion"])' "$TMP/dev/device.plist")
start_server "$TMP/dev"
mkdir "$TMP/bk"
state() { python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["State"].get(sys.argv[2]))' "$TMP/dev" "$1"; }

run_ok idevicebackup2 -u $U backup "$TMP/bk"
check_backup $U "$TMP/bk" "$TMP/dev"
mv "$TMP/x" "$TMP/orig"   # the backup's files: what a full restore with --remove leaves on the device
app_file=$(grep '^\./AppDomain-' "$TMP/expected" | head -1)
home_file=$(grep '^\./HomeDomain/' "$TMP/expected" | head -1)
[ -n "$app_file" ] && [ -n "$home_file" ] || fail "the template has no app or home files"
[ "$(state PasscodePresent)" = True ] || fail "the template has no passcode"

# everything, removing what the backup does not hold
echo changed >"$TMP/dev/files/$app_file"
echo changed >"$TMP/dev/files/$home_file"
echo extra >"$TMP/dev/files/HomeDomain/extra.txt"
run_ok idevicebackup2 -u $U restore --system --settings --remove "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "restore did not succeed"
same_files "$TMP/orig" "$TMP/dev/files" || fail "restored files differ"
[ "$(state PasscodePresent)" = False ] || fail "the passcode was not cleared (R1)"
"$FERRY" device show "$TMP/dev" >/dev/null || fail "the device directory does not load after the restore"

# app domains only
echo changed >"$TMP/dev/files/$app_file"
echo changed >"$TMP/dev/files/$home_file"
run_ok idevicebackup2 -u $U restore --settings "$TMP/bk"
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "the app file was not restored"
[ "$(cat "$TMP/dev/files/$home_file")" = changed ] || fail "a system file was restored without --system"
cp "$TMP/orig/$home_file" "$TMP/dev/files/$home_file"

# R3: a backup of a newer OS does not restore onto an older one (the rules engine refuses)
"$FERRY" device set "$TMP/dev" version 15.0 >/dev/null
stop_server
start_server "$TMP/dev"
echo changed >"$TMP/dev/files/$app_file"
run_fails idevicebackup2 -u $U restore --system "$TMP/bk"
grep -q "R3" "$TMP/out" "$TMP/err" || fail "a restore onto an older OS was not refused by R3: $(cat "$TMP/out" "$TMP/err")"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "files changed by a refused restore"
cp "$TMP/orig/$app_file" "$TMP/dev/files/$app_file"
"$FERRY" device set "$TMP/dev" version "$version" >/dev/null

# Find My
"$FERRY" device set "$TMP/dev" findmy true >/dev/null
stop_server
start_server "$TMP/dev"
run_fails idevicebackup2 -u $U restore --system "$TMP/bk"
grep -q "ErrorCode 211" "$TMP/out" "$TMP/err" || fail "Find My on was not refused with 211"
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
stop_server
start_server "$TMP/dev"

# encrypted
run_ok idevicebackup2 -u $U encryption on "restore pw"
rm -rf "$TMP/ebk"; mkdir "$TMP/ebk"
run_ok idevicebackup2 -u $U backup "$TMP/ebk"
check_backup $U "$TMP/ebk" "$TMP/dev" "restore pw"
rm -rf "$TMP/orig"; mv "$TMP/x" "$TMP/orig"
echo changed >"$TMP/dev/files/$app_file"
run_fails idevicebackup2 -u $U restore --system --password "bad pw" "$TMP/ebk"
grep -q "ErrorCode 207" "$TMP/out" "$TMP/err" || fail "a wrong restore password did not give 207"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "files changed by a refused restore"
run_ok idevicebackup2 -u $U restore --system --settings --password "restore pw" "$TMP/ebk"
grep -q "Restore Successful" "$TMP/out" || fail "encrypted restore did not succeed"
same_files "$TMP/orig" "$TMP/dev/files" || fail "files after the encrypted restore differ"
stop_server
echo PASS
