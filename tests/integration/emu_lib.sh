# emu_lib.sh: helpers for the emulator's integration tests (sourced): a temporary folder, device
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

# make_device DIR TEMPLATE NAME [SEED]: a device directory made by `ferry device create`.
make_device() {
    "$FERRY" device create "$1" --template "$2" --name "$3" --seed "${4:-1}" --files 5 --size 64K >/dev/null \
        || fail "ferry device create $1 --template $2"
}
# udid_of DIR: the device's UniqueDeviceID.
udid_of() {
    python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["Identity"]["UniqueDeviceID"])' "$1"
}

# start_server DIR...: serves the directories on $TMP/mux.sock and waits (bounded) until it answers.
start_server() {
    # --kdf-dpic: cheap keybags for encrypted backups (real devices use 10 million iterations)
    "$FERRY" device serve "$@" --listen "UNIX:$TMP/mux.sock" --verbose --kdf-dpic 1000 >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    export USBMUXD_SOCKET_ADDRESS="UNIX:$TMP/mux.sock"
    for _ in $(seq 1 300); do
        [ -S "$TMP/mux.sock" ] && grep -q "listening on" "$TMP/server.log" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "ferry device serve exited early"
        sleep 0.1
    done
    fail "ferry device serve did not start listening"
}

# stop_server: SIGTERM, then the server must exit 0 with no sanitizer report (bounded wait).
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || fail "ferry device serve is not running"
    local rc=0
    for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && fail "ferry device serve did not stop on SIGTERM"
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    ! grep -q "Sanitizer" "$TMP/server.log" || fail "sanitizer report from ferry device serve"
    [ "$rc" = 0 ] || fail "ferry device serve exited $rc"
    [ ! -e "$TMP/mux.sock" ] || fail "the socket file was left behind"
}

# same_files A B: the same regular files with the same bytes (empty directories do not count).
same_files() {
    (cd "$1" && find . -type f | sort) >"$TMP/files.a"
    (cd "$2" && find . -type f | sort) >"$TMP/files.b"
    diff "$TMP/files.a" "$TMP/files.b" >&2 || return 1
    while read -r f; do cmp -s "$1/$f" "$2/$f" || { echo "differs: $f" >&2; return 1; }; done <"$TMP/files.a"
}

# check_backup UDID BACKUP_DIR DEVICE_DIR [PASSWORD]: the served backup holds exactly the files of the
# backup the device module writes offline (`ferry device backup`: the rules engine's plan), with the
# same bytes (the generated keychain export excepted: its wrapping is random), and passes ferry
# verify. $TMP/expected lists the files ("./Domain/path"); $TMP/x holds the extracted backup.
check_backup() {
    local u=$1 bk=$2 dev=$3
    rm -rf "$TMP/plan" "$TMP/x" "$TMP/px"
    mkdir "$TMP/plan"
    run_ok "$FERRY" device backup "$dev" "$TMP/plan" --kdf-dpic 1000
    FERRY_BACKUP_PASSWORD="${4:-}" run_ok "$FERRY" extract "$TMP/plan/$u" "$TMP/px"
    FERRY_BACKUP_PASSWORD="${4:-}" run_ok "$FERRY" extract "$bk/$u" "$TMP/x"
    (cd "$TMP/px" && find . -type f | sort) >"$TMP/expected"
    (cd "$TMP/x" && find . -type f | sort) >"$TMP/got"
    [ -s "$TMP/expected" ] || fail "the device would back up nothing"
    diff "$TMP/expected" "$TMP/got" >&2 || fail "the served backup does not hold what the device's plan holds"
    while read -r f; do
        case "$f" in ./KeychainDomain/keychain-backup.plist) continue ;; esac
        cmp -s "$TMP/px/$f" "$TMP/x/$f" || fail "$f differs from the device's offline backup"
        [ ! -f "$dev/files/$f" ] || cmp -s "$dev/files/$f" "$TMP/x/$f" || fail "$f differs from the device's file"
    done <"$TMP/got"
    FERRY_BACKUP_PASSWORD="${4:-}" run_ok "$FERRY" verify "$bk/$u"
    grep -q "0 problems, 0 warnings" "$TMP/out" || fail "ferry verify: $(cat "$TMP/out")"
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
