#!/usr/bin/env bash
# bench/extract.sh: extraction speed and memory. Builds a ~2 GiB, 20,000-file encrypted backup with
# ferry's writer, derives its key once (the KDF is excluded from the timing, as the target says), then
# times `ferry extract` against the baseline `cp -r` of the same stored blobs, and prints the ratio and
# ferry's peak RSS. Targets: ratio <= 1.5, peak RSS <= 64 MiB.
# usage: bench/extract.sh [path/to/ferry]   (env: FILES, SIZE, RUNS, BENCH_DIR)
set -euo pipefail
FERRY=$(realpath "${1:-build/ferry}")
MKBACKUP=$(dirname "$FERRY")/tests/ferry_mkbackup
FILES=${FILES:-20000}
SIZE=${SIZE:-2147483648}
RUNS=${RUNS:-3}
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/ferry-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
[ -x "$MKBACKUP" ] || { echo "bench: $MKBACKUP not built (run make build)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (make deps)" >&2; exit 1; }

export BENCH_PW="bench password"
BK="$WORK/backup/00008101-000BE0C4BE0C4BE0"
echo "bench: writing $FILES files, $SIZE bytes, encrypted ..."
/usr/bin/time -f "bench: writer: %e s, peak RSS %M KiB" "$MKBACKUP" "$BK" --files "$FILES" --size "$SIZE" \
    --seed 1 --password-env BENCH_PW
printf '%s\n' "$BENCH_PW" > "$WORK/pw"
"$FERRY" ls "$BK" --password-file "$WORK/pw" --derived-key-file "$WORK/kek" > /dev/null

best() { sort -n | head -1; }
cp_times=(); ferry_times=(); rss=()
for i in $(seq "$RUNS"); do
    rm -rf "$WORK/cp" "$WORK/out"; mkdir "$WORK/cp"; sync
    s=$(date +%s.%N); cp -r "$BK"/[0-9a-f][0-9a-f] "$WORK/cp/"; sync; e=$(date +%s.%N)
    cp_times+=("$(echo "$e - $s" | bc -l)")
    rm -rf "$WORK/cp"; sync
    s=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$FERRY" extract "$BK" "$WORK/out" --derived-key-file "$WORK/kek" 2>/dev/null
    sync; e=$(date +%s.%N)
    ferry_times+=("$(echo "$e - $s" | bc -l)")
    rss+=("$(cat "$WORK/rss")")
    rm -rf "$WORK/out"
done
cp_best=$(printf '%s\n' "${cp_times[@]}" | best)
ferry_best=$(printf '%s\n' "${ferry_times[@]}" | best)
rss_max=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
ratio=$(echo "$ferry_best / $cp_best" | bc -l)
printf 'bench: baseline cp -r of the blobs: %.2f s (best of %d)\n' "$cp_best" "$RUNS"
printf 'bench: ferry extract (decrypt+write): %.2f s (best of %d)\n' "$ferry_best" "$RUNS"
printf 'bench: ratio ferry/cp = %.2f (target <= 1.5)\n' "$ratio"
printf 'bench: ferry extract peak RSS = %.1f MiB (target <= 64)\n' "$(echo "$rss_max / 1024" | bc -l)"
