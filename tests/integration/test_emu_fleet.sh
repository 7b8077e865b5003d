# Several devices at once: two devices served by one emulator are backed up at the same time by two
# idevicebackup2 processes, and each backup holds exactly what its device's rules engine planned.
# The emulator also listens on TCP (HOST:PORT). A device that has not finished Setup Assistant
# refuses a backup with 212, and the Info.plist idevicebackup2 writes lists the device's apps
# (installation_proxy Browse).
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 idevice_id python3
make_device "$TMP/a" unmanaged-personal "Fleet A" 11
make_device "$TMP/b" de-account-iphone "Fleet B" 12
A=$(udid_of "$TMP/a")
B=$(udid_of "$TMP/b")
[ "$A" != "$B" ] || fail "the two templates gave the same UDID"
start_server "$TMP/a" "$TMP/b"
mkdir "$TMP/bk"
run_ok idevicebackup2 -u $B encryption on "fleet pw"   # in case B requires encryption

( timeout 120 idevicebackup2 -u $A backup "$TMP/bk" >"$TMP/a.out" 2>&1; echo $? >"$TMP/a.rc" ) &
pa=$!
( timeout 120 idevicebackup2 -u $B backup "$TMP/bk" >"$TMP/b.out" 2>&1; echo $? >"$TMP/b.rc" ) &
pb=$!
wait $pa $pb
[ "$(cat "$TMP/a.rc")" = 0 ] || { cat "$TMP/a.out" >&2; fail "backup of A failed"; }
[ "$(cat "$TMP/b.rc")" = 0 ] || { cat "$TMP/b.out" >&2; fail "backup of B failed"; }
check_backup $A "$TMP/bk" "$TMP/a"
check_backup $B "$TMP/bk" "$TMP/b" "fleet pw"
python3 - "$TMP/bk/$A/Info.plist" "$TMP/a/apps.plist" <<'PY' || fail "Installed Applications does not list the device's apps"
import plistlib, sys
info = plistlib.load(open(sys.argv[1], "rb"))
apps = plistlib.load(open(sys.argv[2], "rb"))
want = sorted(a["Identifier"] for a in apps if a.get("Installed", True))
got = sorted(info.get("Installed Applications", []))
assert want and got == want, (got, want)
PY

# Setup Assistant not finished: 212
stop_server
"$FERRY" device set "$TMP/a" setup-complete false >/dev/null
start_server "$TMP/a"
run_fails idevicebackup2 -u $A backup "$TMP/bk"
grep -q "ErrorCode 212" "$TMP/out" "$TMP/err" || fail "a device in Setup Assistant did not refuse with 212"
stop_server

# TCP
for port in 27015 28015 29015 30015 31015; do
    "$FERRY" device serve "$TMP/a" --listen "127.0.0.1:$port" --state "$TMP/tcp.d" >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$TMP/server.log" && break; kill -0 $SERVER_PID 2>/dev/null || break; sleep 0.1; done
    if grep -q "listening on" "$TMP/server.log"; then break; fi
    wait $SERVER_PID 2>/dev/null || true
    SERVER_PID=
done
[ -n "$SERVER_PID" ] || { echo "SKIP: no free TCP port"; exit 77; }
USBMUXD_SOCKET_ADDRESS="127.0.0.1:$port" run_ok idevice_id -l
grep -qx "$A" "$TMP/out" || fail "idevice_id over TCP does not list $A"
kill -TERM $SERVER_PID; wait $SERVER_PID || fail "the TCP server did not exit cleanly"
SERVER_PID=
! grep -q Sanitizer "$TMP/server.log" || fail "sanitizer report from the TCP server"
echo PASS
