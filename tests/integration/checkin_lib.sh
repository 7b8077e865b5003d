# checkin_lib.sh: what the test_checkin_*.sh scripts share: a temporary folder, `ferry mdm serve` on
# 127.0.0.1 with an ephemeral port (stopped at exit, every wait bounded), and small JSON readers over
# `ferry device show --json` and `ferry mdm ... --json` (python3). Sourced, never run.
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-checkin-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$TMP/server.log" ] && tail -20 "$TMP/server.log" >&2
    exit 1
}
DB="$TMP/mdm.db"
export FERRY_MDM_DB="$DB"

# start_server [--unknown-device accept|401|403]: sets BASE.
start_server() {
    "$FERRY" mdm serve --listen 127.0.0.1:0 --db "$DB" --ready-file "$TMP/url" "$@" 2>"$TMP/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do [ -s "$TMP/url" ] && break; sleep 0.1; done
    [ -s "$TMP/url" ] || fail "server did not start"
    BASE=$(cat "$TMP/url")
}

# checkin DIR [options]: runs `ferry device checkin DIR --json` (bounded), keeps the JSON in
# $TMP/checkin.json and the exit status in CHECKIN_RC.
checkin() {
    set +e
    timeout 120 "$FERRY" device checkin "$@" --json >"$TMP/checkin.json" 2>"$TMP/checkin.err"
    CHECKIN_RC=$?
    set -e
    if grep -q 'Sanitizer' "$TMP/checkin.err"; then cat "$TMP/checkin.err" >&2; fail "sanitizer report"; fi
}
# outcome: the outcome of the last check-in.
outcome() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["outcome"])' "$TMP/checkin.json"; }

# show DIR: the device as JSON in $TMP/show.json.
show() { "$FERRY" device show "$1" --json --no-files >"$TMP/show.json"; }
# dev_py EXPR: evaluates a Python expression over d = the last `show` output.
dev_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$TMP/show.json"; }

# a restrictions profile (allowCloudBackup false, forceEncryptedBackup true) in $TMP/restrictions.mobileconfig
make_restrictions() {
    python3 - "$TMP/restrictions.mobileconfig" <<'PY'
import plistlib, sys
p = {'PayloadType': 'Configuration', 'PayloadIdentifier': 'com.ferry.test.restrictions',
     'PayloadUUID': '0F0E0D0C-0B0A-4909-8807-060504030201', 'PayloadVersion': 1,
     'PayloadDisplayName': 'Restrictions from the MDM',
     'PayloadContent': [{'PayloadType': 'com.apple.applicationaccess',
                         'PayloadIdentifier': 'com.ferry.test.restrictions.payload',
                         'PayloadUUID': '1F1E1D1C-1B1A-4919-8817-161514131211', 'PayloadVersion': 1,
                         'allowCloudBackup': False, 'forceEncryptedBackup': True}]}
open(sys.argv[1], 'wb').write(plistlib.dumps(p))
PY
}
