# host_restore_lib.sh: helpers of the `ferry restore` integration tests (sourced after emu_lib.sh):
# snapshots made by `idevicebackup2 backup` and `ferry snapshot import`, and checks on the report.

# snapshot_of UDID: backs the served device up into $TMP/bk-UDID and imports it into $TMP/repo;
# prints the snapshot id.
snapshot_of() {
    local u=$1
    rm -rf "$TMP/bk-$u"; mkdir "$TMP/bk-$u"
    run_ok idevicebackup2 -u "$u" backup "$TMP/bk-$u"
    run_ok "$FERRY" snapshot import "$TMP/bk-$u/$u" --repo "$TMP/repo"
    sed -n 's/^snapshot \([^ ]*\) of .*/\1/p' "$TMP/out"
}

# json_check FILE PYTHON: every line of FILE is a JSON object; PYTHON runs with `lines` (the parsed
# objects) and `result` (the last one) and must not raise.
json_check() {
    python3 - "$1" "$2" <<'PY' || fail "JSON check failed: $2"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines, "no JSON lines"
result = lines[-1]
exec(sys.argv[2])
PY
}

# device_state DIR KEY: a State key of the device directory.
device_state() {
    python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["State"].get(sys.argv[2]))' "$1" "$2"
}
