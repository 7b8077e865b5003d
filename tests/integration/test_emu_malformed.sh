# Malformed packets on every socket of the emulator (usbmuxd, lockdownd plain and inside the session
# TLS, AFC, notification_proxy, installation_proxy, mobilebackup2/DeviceLink): each case of
# emu_malformed.py (IDs EMU-<SOCKET>-NN, cited by docs/security.md) sends its packet, checks the
# device's answer, and checks that the socket still serves a normal request. The device is paired
# first with the real idevicepair so that the TLS cases have a host identity.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicepair ideviceinfo python3
make_device "$TMP/a" ade-iphone "Phone A"
A=$(udid_of "$TMP/a")
start_server "$TMP/a"
run_ok idevicepair -u $A pair
grep -q "SUCCESS: Paired" "$TMP/out" || fail "idevicepair pair: $(cat "$TMP/out")"
python3 "$FERRY_TESTS/integration/emu_malformed.py" "$TMP/mux.sock" >"$TMP/cases" 2>&1 \
    || { cat "$TMP/cases" >&2; fail "a malformed-packet case failed"; }
n=$(grep -c '^PASS EMU-' "$TMP/cases")
[ "$n" -ge 60 ] || { cat "$TMP/cases" >&2; fail "only $n malformed-packet cases ran"; }
cat "$TMP/cases"
server_alive
[ -z "$(find "$TMP" -name "escape-afc*")" ] || fail "an AFC path escaped the media root"
run_ok ideviceinfo -u $A -k DeviceName
[ "$(cat "$TMP/out")" = "Phone A" ] || fail "after the malformed cases: DeviceName '$(cat "$TMP/out")'"
stop_server
echo "PASS ($n malformed-packet cases)"
