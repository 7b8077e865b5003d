#!/usr/bin/env bash
# bench/backup.sh: backup speed of `ferry backup` against `idevicebackup2 backup --full` on the same
# emulated device (`ferry device serve` on a UNIX socket), alternating the two tools, on two datasets:
# many small files (20,000) and a few big ones (20 x 100 MiB). Each full run writes into a fresh folder
# (ferry: a fresh repository, so nothing is shared); its time includes the commit with a quick verify
# and the data sync. Then a no-change incremental `ferry backup` into that repository is timed against
# ferry's full backup, and idevicebackup2's own no-change incremental against its full one: the
# protocol's baseline (the device re-sends Manifest.db whole even when nothing changed). Folders are
# kept until a dataset is done, so no deletion is timed (disk: about RUNS x 2 x the dataset). Prints
# the best time of each and the ratios. Targets: ferry/idevicebackup2 <= 1.0 on both datasets (<= 0.5
# on small files is the aim), incremental/full <= 0.1.
# Run it on a quiet machine: a process started with setsid has a scheduler autogroup of its own, in
# which `nice` means nothing to the other groups (echo 19 > /proc/PID/autogroup).
# usage: bench/backup.sh [path/to/ferry]   (env: RUNS, SMALL_FILES, SMALL_SIZE, BIG_FILES, BIG_SIZE,
#                                           BENCH_DIR, DATASETS="small big")
set -euo pipefail
FERRY=$(realpath "${1:-build/ferry}")
RUNS=${RUNS:-5}
SMALL_FILES=${SMALL_FILES:-20000}
SMALL_SIZE=${SMALL_SIZE:-200M}
BIG_FILES=${BIG_FILES:-20}
BIG_SIZE=${BIG_SIZE:-2000M}
DATASETS=${DATASETS:-small big}
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/ferry-bench-XXXXXX")
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
command -v idevicebackup2 >/dev/null || { echo "bench: idevicebackup2 missing (libimobiledevice-utils)" >&2; exit 1; }
command -v bc >/dev/null || { echo "bench: bc missing" >&2; exit 1; }

now() { date +%s.%N; }
best() { sort -n | head -1; }
udid_of() {
    python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["Identity"]["UniqueDeviceID"])' "$1"
}

serve() {
    rm -f "$WORK/mux.sock"
    "$FERRY" device serve "$1" --listen "UNIX:$WORK/mux.sock" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    export USBMUXD_SOCKET_ADDRESS="UNIX:$WORK/mux.sock"
    for _ in $(seq 1 300); do
        grep -q "listening on" "$WORK/server.log" && return 0
        sleep 0.1
    done
    echo "bench: ferry device serve did not start" >&2
    exit 1
}

stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

run_dataset() {
    local name=$1 files=$2 size=$3
    local dev="$WORK/dev-$name"
    echo "bench: $name: creating an emulated device with $files files, $size ..."
    "$FERRY" device create "$dev" --template unmanaged-personal --name "Bench $name" --seed 7 --files "$files" \
        --size "$size" >/dev/null
    local u
    u=$(udid_of "$dev")
    serve "$dev"
    local idb=() idbinc=() fer=() inc=()
    # Nothing is deleted while runs are timed: ext4's inode allocator skips inodes freed in the last
    # minutes (recently_deleted), one by one, which charged whichever tool ran after a deletion with
    # seconds of system time. Each run writes into folders of its own; all go at the end.
    for i in $(seq "$RUNS"); do
        mkdir "$WORK/idb-$i"
        sync
        local s e
        s=$(now); idevicebackup2 -u "$u" backup --full "$WORK/idb-$i" >"$WORK/idb.log" 2>&1; sync; e=$(now)
        grep -q "Backup Successful" "$WORK/idb.log" || { echo "bench: idevicebackup2 failed" >&2; tail "$WORK/idb.log" >&2; exit 1; }
        idb+=("$(echo "$e - $s" | bc -l)")
        # idevicebackup2's own no-change incremental: the baseline of what the protocol costs (the
        # device sends the whole Manifest.db and its Status/Manifest plists even when nothing changed)
        s=$(now); idevicebackup2 -u "$u" backup "$WORK/idb-$i" >"$WORK/idbinc.log" 2>&1; sync; e=$(now)
        grep -q "Backup Successful" "$WORK/idbinc.log" || { echo "bench: idevicebackup2 (incremental) failed" >&2; tail "$WORK/idbinc.log" >&2; exit 1; }
        idbinc+=("$(echo "$e - $s" | bc -l)")
        sync
        s=$(now); "$FERRY" backup -u "$u" --repo "$WORK/repo-$i" --full >"$WORK/ferry.log" 2>&1; sync; e=$(now)
        fer+=("$(echo "$e - $s" | bc -l)")
        s=$(now); "$FERRY" backup -u "$u" --repo "$WORK/repo-$i" >"$WORK/inc.log" 2>&1; sync; e=$(now)
        inc+=("$(echo "$e - $s" | bc -l)")
        grep -q "(3 files received" "$WORK/inc.log" || echo "bench: note: the incremental run was not minimal: $(cat "$WORK/inc.log")" >&2
    done
    stop
    rm -rf "$WORK"/idb-* "$WORK"/repo-* "$dev"
    local ib ibn fb nb
    ib=$(printf '%s\n' "${idb[@]}" | best)
    ibn=$(printf '%s\n' "${idbinc[@]}" | best)
    fb=$(printf '%s\n' "${fer[@]}" | best)
    nb=$(printf '%s\n' "${inc[@]}" | best)
    printf 'bench: %s: idevicebackup2 backup --full %.2f s, ferry backup --full %.2f s, ferry incremental (no change) %.2f s (best of %d)\n' \
        "$name" "$ib" "$fb" "$nb" "$RUNS"
    printf 'bench: %s: ratio ferry/idevicebackup2 = %.2f (target <= 1.0%s)\n' "$name" "$(echo "$fb / $ib" | bc -l)" \
        "$([ "$name" = small ] && echo ', aim 0.5' || true)"
    printf 'bench: %s: ratio incremental/full = %.3f (target <= 0.1)\n' "$name" "$(echo "$nb / $fb" | bc -l)"
    printf 'bench: %s: baseline: idevicebackup2 incremental (no change) %.2f s, its incremental/full = %.3f; ferry/idevicebackup2 incremental = %.2f\n' \
        "$name" "$ibn" "$(echo "$ibn / $ib" | bc -l)" "$(echo "$nb / $ibn" | bc -l)"
}

for d in $DATASETS; do
    case $d in
    small) run_dataset small "$SMALL_FILES" "$SMALL_SIZE" ;;
    big) run_dataset big "$BIG_FILES" "$BIG_SIZE" ;;
    *) echo "bench: unknown dataset $d" >&2; exit 2 ;;
    esac
done
