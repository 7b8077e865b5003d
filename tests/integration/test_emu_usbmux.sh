# usbmuxd: `idevice_id -l` lists every served device, `ideviceinfo -s` (no session) and `idevice_id
# UDID` read each one's identity, and the server survives malformed usbmuxd packets. Also the relay
# of a sync cancel by notification_proxy.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevice_id ideviceinfo python3
make_device "$TMP/a" unmanaged-personal "Phone A"
make_device "$TMP/b" ade-iphone "Phone B"
A=$(udid_of "$TMP/a")
B=$(udid_of "$TMP/b")
SERIAL_A=$(python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1],"rb"))["Identity"]["SerialNumber"])' "$TMP/a/device.plist")
start_server "$TMP/a" "$TMP/b"

run_ok idevice_id -l
grep -qx "$A" "$TMP/out" || fail "idevice_id -l does not list $A"
grep -qx "$B" "$TMP/out" || fail "idevice_id -l does not list $B"
[ "$(wc -l <"$TMP/out")" = 2 ] || fail "idevice_id -l lists $(wc -l <"$TMP/out") devices, expected 2"

run_ok ideviceinfo -s -u $B -k DeviceName
[ "$(cat "$TMP/out")" = "Phone B" ] || fail "DeviceName of B is '$(cat "$TMP/out")'"
run_ok ideviceinfo -s -u $A
grep -qx "SerialNumber: $SERIAL_A" "$TMP/out" || fail "no SerialNumber in ideviceinfo -s"
grep -q "^ProductType: " "$TMP/out" || fail "no ProductType in ideviceinfo -s"
run_ok idevice_id $A
grep -q "Phone A" "$TMP/out" || fail "idevice_id UDID does not print the name"

python3 "$FERRY_TESTS/integration/emu_garbage.py" "$TMP/mux.sock" usbmux || fail "garbage client failed"
server_alive
run_ok idevice_id -l
[ "$(wc -l <"$TMP/out")" = 2 ] || fail "after garbage: idevice_id -l lists $(wc -l <"$TMP/out") devices"

# notification_proxy relays a sync cancel (SIGUSR1) to the connections that observe it
python3 "$FERRY_TESTS/integration/emu_np_observe.py" "$TMP/mux.sock" com.apple.itunes-client.syncCancelRequest \
    >"$TMP/np.out" 2>&1 &
np_pid=$!
for _ in $(seq 1 100); do grep -q observing "$TMP/np.out" && break; sleep 0.1; done
grep -q observing "$TMP/np.out" || fail "the observer did not start: $(cat "$TMP/np.out")"
kill -USR1 "$SERVER_PID"
wait $np_pid || fail "no relayed notification: $(cat "$TMP/np.out")"
grep -qx "com.apple.itunes-client.syncCancelRequest" "$TMP/np.out" || fail "relayed: $(cat "$TMP/np.out")"
stop_server
echo PASS
