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

# signal_at FILES PID SIGNAL [WATCH]: waits (bounded) until the transfer in $TMP/events has sent FILES
# files, then sends SIGNAL to PID (the restore, or another process such as the server); one watcher
# process follows the events as they come, so that a busy machine does not miss the moment. Fails
# when the process WATCH (default PID) ended first.
signal_at() {
    python3 - "$TMP/events" "$1" "$2" "$3" "${4:-$2}" <<'PY'
import json, os, sys, time
path, n, pid, sig, watch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
f = open(path)
buf = ""
for _ in range(60000):
    chunk = f.read()
    if chunk:
        buf += chunk
        *done, buf = buf.split("\n")
        for l in done:
            try:
                e = json.loads(l)
            except ValueError:
                continue
            if e.get("event") == "progress" and e.get("stage") == "transfer" and e.get("files", 0) >= n:
                os.kill(pid, sig)
                sys.exit(0)
    else:
        try:
            if open("/proc/%d/stat" % watch).read().rsplit(")", 1)[1].split()[0] == "Z":
                sys.exit(1)  # exited, not yet reaped
        except OSError:
            sys.exit(1)
        time.sleep(0.002)
sys.exit(1)
PY
}
