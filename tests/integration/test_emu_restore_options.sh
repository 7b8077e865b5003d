# Restore options through idevicebackup2 and the device's own refusals:
# - RestoreShouldReboot (the default): after the restore the device "reboots": a usbmuxd Listen
#   subscriber sees Detached then Attached, a lockdownd connection held across the restore is dropped,
#   and the device answers again afterwards; with --no-reboot nothing of that happens;
# - RestoreDontCopyBackup false (--copy): the device has the host copy the backup first, reads the
#   copy, removes it, and leaves the original backup unchanged; without --copy it reads in place;
# - the backup's keychain export is loaded into the device's keychain (B3: ThisDeviceOnly items only
#   on the same device);
# - 105: not enough space on the device (ferry device set DIR free-space) refuses a restore before
#   anything is written.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 idevice_id python3
make_device "$TMP/dev" unmanaged-personal "Options Phone" 41
make_device "$TMP/other" unmanaged-personal "Other Phone" 42
for d in dev other; do "$FERRY" device set "$TMP/$d" findmy false >/dev/null; done
U=$(udid_of "$TMP/dev")
O=$(udid_of "$TMP/other")
LISTEN_PID=
trap '[ -n "$LISTEN_PID" ] && kill $LISTEN_PID 2>/dev/null; cleanup' EXIT

# keychain.plist items as "class pdmn acct" lines
keychain() {
    python3 -c '
import plistlib,sys
d=plistlib.load(open(sys.argv[1]+"/keychain.plist","rb"))
for c in sorted(d):
    for it in d[c]: print(c, it.get("pdmn"), it.get("acct") or it.get("labl"))' "$1" | sort
}
tree_sum() { (cd "$1" && find . -type f -exec sha1sum {} + | sort); }
dev_id() { python3 -c 'import sys; print(1 + sys.argv[2:].index(sys.argv[1]))' "$1" "$U" "$O"; }
# wait_for FILE PATTERN: bounded wait until a line of FILE matches
wait_for() {
    for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
}

keychain "$TMP/dev" >"$TMP/keychain.orig"
grep -q " aku " "$TMP/keychain.orig" || fail "the template has no ThisDeviceOnly keychain item"
start_server "$TMP/dev" "$TMP/other"
run_ok idevicebackup2 -u "$U" encryption on "opt pw"
mkdir "$TMP/bk"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
check_backup "$U" "$TMP/bk" "$TMP/dev" "opt pw"
mv "$TMP/x" "$TMP/orig"
tree_sum "$TMP/bk" >"$TMP/bk.sum"
app_file=$(grep '^\./AppDomain-' "$TMP/expected" | head -1)

# --- 105: not enough space on the device -------------------------------------------------------------
stop_server
"$FERRY" device set "$TMP/dev" free-space 1024 >/dev/null
start_server "$TMP/dev" "$TMP/other"
echo changed >"$TMP/dev/files/$app_file"
run_fails idevicebackup2 -u "$U" restore --system --password "opt pw" "$TMP/bk"
grep -q "ErrorCode 105" "$TMP/out" "$TMP/err" || fail "a restore larger than the free space did not give 105"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "files changed by a restore refused with 105"
stop_server
"$FERRY" device set "$TMP/dev" free-space 64000000000 >/dev/null
# the keychain loses every item: the restore must bring them back
python3 -c 'import plistlib,sys; plistlib.dump({"genp":[],"inet":[],"cert":[],"keys":[]}, open(sys.argv[1]+"/keychain.plist","wb"))' "$TMP/dev"
start_server "$TMP/dev" "$TMP/other"

# --- reboot (default), --copy, keychain ---------------------------------------------------------------
: >"$TMP/events"
python3 "$FERRY_TESTS/integration/emu_listen.py" "$TMP/mux.sock" "$TMP/events" "$(dev_id "$U")" &
LISTEN_PID=$!
wait_for "$TMP/events" "^holding"
run_ok idevicebackup2 -u "$U" restore --system --settings --copy --password "opt pw" "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "restore --copy did not succeed"
grep -q "The device should reboot now" "$TMP/out" || fail "idevicebackup2 did not ask for a reboot"
grep -q "Don.t copy backup: No" "$TMP/out" || fail "idevicebackup2 did not ask for a copy: $(grep -a "copy" "$TMP/out")"
wait_for "$TMP/events" "^Attached $(dev_id "$U")\$"
awk '/^Detached/{d=NR} /^Attached/{a=NR} END{exit !(d && a > d)}' "$TMP/events" \
    || fail "the reboot did not show Detached then Attached: $(cat "$TMP/events")"
grep -q "^Detached $(dev_id "$U")\$" "$TMP/events" || fail "no Detached event for the restored device"
grep -q "^dropped" "$TMP/events" || fail "the lockdownd connection held across the restore was not dropped"
grep -q "^Detached $(dev_id "$O")" "$TMP/events" && fail "the other device detached"
run_ok idevice_id -l
grep -q "$U" "$TMP/out" || fail "the device is not listed after its reboot"
grep -q "rebooting after the restore" "$TMP/server.log" || fail "no reboot in the server log"
kill $LISTEN_PID 2>/dev/null; wait $LISTEN_PID 2>/dev/null || true; LISTEN_PID=
# --copy: read from the host's copy, which is gone afterwards; the original is unchanged
grep -q "copied [0-9]* file(s) to $U.copy first; copy removed" "$TMP/server.log" || fail "the device did not read from a copy: $(grep -a "mobilebackup2" "$TMP/server.log" | tail -5)"
[ ! -e "$TMP/bk/$U.copy" ] || fail "the copy of the backup was left behind"
tree_sum "$TMP/bk" | diff "$TMP/bk.sum" - >&2 || fail "the original backup changed during restore --copy"
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "restore --copy did not restore $app_file"
# keychain: every item is back on the same device (ThisDeviceOnly included)
keychain "$TMP/dev" | diff "$TMP/keychain.orig" - >&2 || fail "the keychain export was not loaded into the keychain"

# --- --no-reboot, reading in place ----------------------------------------------------------------------
: >"$TMP/events"
python3 "$FERRY_TESTS/integration/emu_listen.py" "$TMP/mux.sock" "$TMP/events" &
LISTEN_PID=$!
wait_for "$TMP/events" "^Attached $(dev_id "$O")"
n_copies=$(grep -c "copy removed" "$TMP/server.log")
n_reboots=$(grep -c "rebooting after the restore" "$TMP/server.log")
echo changed >"$TMP/dev/files/$app_file"
run_ok idevicebackup2 -u "$U" restore --system --settings --no-reboot --password "opt pw" "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "restore --no-reboot did not succeed"
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "restore --no-reboot did not restore $app_file"
[ "$(grep -c "copy removed" "$TMP/server.log")" = "$n_copies" ] || fail "a restore without --copy read from a copy"
[ "$(grep -c "rebooting after the restore" "$TMP/server.log")" = "$n_reboots" ] || fail "--no-reboot rebooted"
run_ok idevice_id -l   # a round trip through the server after the restore: any event would be sent by now
grep -q "^Detached" "$TMP/events" && fail "--no-reboot: the device detached"
kill $LISTEN_PID 2>/dev/null; wait $LISTEN_PID 2>/dev/null || true; LISTEN_PID=

# --- keychain onto another device: ThisDeviceOnly items stay behind (B3) --------------------------------
run_ok idevicebackup2 -u "$O" restore --source "$U" --system --settings --password "opt pw" "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "the restore onto another device did not succeed"
grep -v " aku \| akpu \| cku \| dku " "$TMP/keychain.orig" >"$TMP/keychain.migratable"
keychain "$TMP/other" | diff "$TMP/keychain.migratable" - >&2 \
    || fail "another device's keychain after the restore is not the export without ThisDeviceOnly items"
stop_server
echo PASS
