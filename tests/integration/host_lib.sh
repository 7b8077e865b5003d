# host_lib.sh: helpers for the host commands' tests (sourced after emu_lib.sh): JSON field access,
# a device's snapshot count, and the progress of a running `ferry backup --json`. Every wait is bounded.

# json_get FILE EXPR: evaluates the Python expression EXPR on the JSON document d read from FILE (the
# last line when FILE holds JSON lines).
json_get() {
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# nsnap REPO UDID: how many snapshots the repository lists for UDID.
nsnap() {
    "$FERRY" snapshots --repo "$1" -u "$2" --json >"$TMP/snaps.json" 2>/dev/null || { echo 0; return; }
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["snapshots"] if isinstance(d,dict) else d; print(len(s))' "$TMP/snaps.json"
}

# latest_id REPO UDID
latest_id() {
    "$FERRY" snapshots --repo "$1" -u "$2" --json >"$TMP/snaps.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["snapshots"] if isinstance(d,dict) else d; print(s[-1]["id"])' "$TMP/snaps.json"
}

# files_seen FILE: the highest "files" figure of the progress events in FILE (0 when none yet).
files_seen() {
    local n
    n=$({ grep -ao '"files":[0-9]*' "$1" 2>/dev/null || true; } | cut -d: -f2 | sort -n | tail -1)
    echo "${n:-0}"
}

# wait_files FILE N PID: waits (bounded) until the backup writing FILE reported N files, or exited.
wait_files() {
    for _ in $(seq 1 600); do
        [ "$(files_seen "$1")" -ge "$2" ] && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# staging_count REPO: staging folders present (a killed run leaves one until the next run cleans up).
staging_count() {
    find "$1/.staging" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l
}
