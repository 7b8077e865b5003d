#!/usr/bin/env bash
# bench/device_create.sh: time and peak memory of creating a large emulated device:
#   ferry device create DIR --template ade-iphone --files 100000 --size 10G
# Synthetic data is streamed to disk in bounded chunks, so the peak RSS must stay flat (a few MiB)
# whatever --size is. Needs about --size of free disk space in $TMPDIR (or /tmp); the device is
# removed afterwards. Not run by `make check`.
#
# usage: bash bench/device_create.sh [FERRY] [FILES] [SIZE] [TEMPLATE]
#        defaults: build/ferry 100000 10G ade-iphone
set -euo pipefail

FERRY=${1:-build/ferry}
FILES=${2:-100000}
SIZE=${3:-10G}
TEMPLATE=${4:-ade-iphone}

if [ ! -x "$FERRY" ]; then
  echo "device_create.sh: $FERRY is not an executable; build first (make build)" >&2
  exit 2
fi
if [ ! -x /usr/bin/time ]; then
  echo "device_create.sh: /usr/bin/time is missing (Debian package 'time')" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-device.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/time.log"

/usr/bin/time -v "$FERRY" device create "$WORK/dev" --template "$TEMPLATE" --files "$FILES" --size "$SIZE" \
  --seed 1 2>"$LOG" >/dev/null || { cat "$LOG" >&2; exit 1; }

elapsed=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$LOG")
rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$LOG")
count=$(find "$WORK/dev/files" -type f | wc -l)
bytes=$(du -sb "$WORK/dev/files" | cut -f1)

echo "ferry device create --template $TEMPLATE --files $FILES --size $SIZE"
echo "  wall time     $elapsed"
echo "  peak RSS      $((rss_kb / 1024)) MiB ($rss_kb KiB)"
echo "  data files    $count ($bytes bytes under files/)"
