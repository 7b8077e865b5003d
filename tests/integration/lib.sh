# lib.sh: helpers for the emulator's integration tests (sourced): a temporary folder, device
# directories, and `ferry device serve` on a UNIX socket in it, always killed at exit. The real
# libimobiledevice tools are run against it through USBMUXD_SOCKET_ADDRESS. Every wait is bounded so
# that a hang fails the test instead of blocking CI; no assertion depends on wall-clock time.
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
: "${FERRY_TESTS:?FERRY_TESTS must name the tests folder}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-emu-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$TMP/server.log" ] && tail -30 "$TMP/server.log" >&2; exit 1; }

need_tools() {
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (libimobiledevice-utils)"; exit 77; }
    done
}

# make_device DIR UDID NAME [PRODUCT_VERSION]: a minimal device directory (identity only).
make_device() {
    mkdir -p "$1"
    cat >"$1/device.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>FerryDeviceFormat</key><integer>1</integer>
<key>Identity</key><dict>
<key>UniqueDeviceID</key><string>$2</string>
<key>SerialNumber</key><string>F17TEST${2:0:5}</string>
<key>UniqueChipID</key><integer>1234</integer>
<key>ProductType</key><string>iPhone15,2</string>
<key>ProductVersion</key><string>${4:-17.5.1}</string>
<key>BuildVersion</key><string>21F90</string>
<key>DeviceName</key><string>$3</string>
<key>DeviceClass</key><string>iPhone</string>
</dict></dict></plist>
PLIST
}

# start_server DIR...: serves the directories on $TMP/mux.sock and waits (bounded) until it answers.
start_server() {
    "$FERRY" device serve "$@" --listen "UNIX:$TMP/mux.sock" --verbose >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    export USBMUXD_SOCKET_ADDRESS="UNIX:$TMP/mux.sock"
    for _ in $(seq 1 300); do
        [ -S "$TMP/mux.sock" ] && grep -q "listening on" "$TMP/server.log" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "ferry device serve exited early"
        sleep 0.1
    done
    fail "ferry device serve did not start listening"
}

server_alive() { kill -0 "$SERVER_PID" 2>/dev/null || fail "ferry device serve died"; }

# run_ok CMD...: runs CMD with a time bound, fails when it does not exit 0; output in $TMP/out.
run_ok() {
    set +e
    timeout 120 "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    set -e
    [ "$rc" = 0 ] || { cat "$TMP/out" "$TMP/err" >&2; fail "'$*' exited $rc"; }
}
run_fails() {
    set +e
    timeout 120 "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    set -e
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || { cat "$TMP/out" "$TMP/err" >&2; fail "'$*' exited $rc, expected a failure"; }
}
