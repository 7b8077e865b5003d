# lockdownd: pairing through the emulator's pair-record store (idevicepair pair/validate/unpair),
# sessions over TLS (TLS 1.3 for iOS >= 10, TLS 1.0 for an iOS 9 device), GetValue with and without
# domains, and malformed input on every service port.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevice_id ideviceinfo idevicepair python3
make_device "$TMP/a" ade-iphone "Phone A"
make_device "$TMP/old" unmanaged-personal "Old Phone"
"$FERRY" device set "$TMP/old" version 9.3.5 >/dev/null
"$FERRY" device set "$TMP/a" version 17.5.1 >/dev/null
A=$(udid_of "$TMP/a")
OLD=$(udid_of "$TMP/old")
start_server "$TMP/a" "$TMP/old"

run_ok idevicepair -u $A pair
grep -q "SUCCESS: Paired" "$TMP/out" || fail "idevicepair pair: $(cat "$TMP/out")"
[ -s "$TMP/mux.sock.d/pair/$A.plist" ] || fail "the pair record was not saved next to the socket"
run_ok idevicepair -u $A validate
grep -q "SUCCESS: Validated" "$TMP/out" || fail "idevicepair validate: $(cat "$TMP/out")"

# A session (ideviceinfo without -s) runs over TLS.
run_ok ideviceinfo -u $A
for k in "DeviceName: Phone A" "ProductVersion: 17.5.1" "UniqueDeviceID: $A"; do
    grep -qx "$k" "$TMP/out" || fail "ideviceinfo lacks '$k'"
done
grep -q "lockdownd $A: session TLS up: TLSv1.3" "$TMP/server.log" || fail "no TLS 1.3 session"
run_ok ideviceinfo -u $A -q com.apple.mobile.backup -k WillEncrypt
[ "$(cat "$TMP/out")" = false ] || fail "WillEncrypt is '$(cat "$TMP/out")'"
run_ok ideviceinfo -u $A -q com.apple.mobile.backup
grep -qx "RequiresEncryption: true" "$TMP/out" || fail "forceEncryptedBackup: RequiresEncryption is not true"
run_ok ideviceinfo -u $OLD -q com.apple.mobile.backup -k RequiresEncryption
[ "$(cat "$TMP/out")" = false ] || fail "unmanaged device: RequiresEncryption is '$(cat "$TMP/out")'"
run_ok ideviceinfo -u $A -q com.apple.mobile.chaperone -k DeviceIsChaperoned
[ "$(cat "$TMP/out")" = true ] || fail "supervised device: DeviceIsChaperoned is '$(cat "$TMP/out")'"
run_ok ideviceinfo -u $A -q com.example.nosuchdomain -k Nothing   # MissingValue: prints nothing
[ ! -s "$TMP/out" ] || fail "a value for an unknown domain: $(cat "$TMP/out")"

# iOS 9: the host caps TLS at 1.0 and the device must accept it.
run_ok ideviceinfo -u $OLD -k DeviceName
[ "$(cat "$TMP/out")" = "Old Phone" ] || fail "old device name '$(cat "$TMP/out")'"
grep -q "lockdownd $OLD: session TLS up: TLSv1 " "$TMP/server.log" || fail "no TLS 1.0 session for iOS 9"

run_ok idevicepair -u $A unpair
grep -q "SUCCESS: Unpaired" "$TMP/out" || fail "idevicepair unpair: $(cat "$TMP/out")"
[ ! -e "$TMP/mux.sock.d/pair/$A.plist" ] || fail "the pair record survived unpair"

python3 "$FERRY_TESTS/integration/emu_garbage.py" "$TMP/mux.sock" services >/dev/null || fail "garbage client failed"
server_alive
[ -z "$(find "$TMP" -name "escap*")" ] || fail "an AFC path escaped the media root"
run_ok ideviceinfo -u $A -k DeviceName
[ "$(cat "$TMP/out")" = "Phone A" ] || fail "after garbage: DeviceName '$(cat "$TMP/out")'"
stop_server
echo PASS
