#!/usr/bin/env bash
# fuzz/run.sh: runs ferry's libFuzzer targets with their seed corpora.
#
#   fuzz/run.sh [--seconds N | --cpu-seconds N] [--smoke] [--jobs J] FUZZ_BUILD_DIR TARGET...
#
# FUZZ_BUILD_DIR is the fuzz/ folder of a build configured with -DFERRY_FUZZ=ON (it holds fuzz_<t> and
# ferry_fuzz_seeds). For each target the seeds are rebuilt in FUZZ_BUILD_DIR/seeds/<t>: copies of the
# fixture files that fit it (from $FERRY_FIXTURES, default ../shared/fixtures beside the source tree;
# fixtures are never written to and never committed) plus the writer-made seeds of ferry_fuzz_seeds.
# A long run (no --smoke) grows the corpus kept in FUZZ_BUILD_DIR/corpus/<t>; --smoke fuzzes into a
# throw-away folder. Each run fuzzes N seconds (default 3600), logs to FUZZ_BUILD_DIR/logs/<t>.log,
# keeps crashing inputs as FUZZ_BUILD_DIR/artifacts/<t>-crash-*, and prints one summary line; the
# target's temporary files go to FUZZ_BUILD_DIR/tmp (or $FERRY_FUZZ_TMPDIR: a tmpfs such as /dev/shm
# makes the targets that write device directories and backups several times faster) and are removed
# after it. --jobs J runs up to J targets at once (one libFuzzer process each). --cpu-seconds N gives
# each target N seconds of CPU time instead of wall time (`ulimit -t`: the kernel ends the run), at
# SCHED_IDLE so that it only takes CPU nobody else wants, with a 120 s unit timeout; never SIGSTOP a
# run: libFuzzer counts the pause as a timeout. Exit status 1 when any target found a crash, a leak,
# a timeout or a sanitizer report.
set -u
here=$(cd "$(dirname "$0")" && pwd)
seconds=3600 smoke=0 jobs=1 cpu=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --cpu-seconds) seconds=$2; cpu=1; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
shift
fixtures=${FERRY_FIXTURES:-$here/../../shared/fixtures}
[ -d "$fixtures" ] || { echo "fuzz: no fixtures at $fixtures: seeding from the writer only" >&2; fixtures=""; }

# Most bytes a target takes: room for the seeds, small enough that an iteration stays fast.
max_len() {
  case "$1" in
    manifest_db|backup|devicelink) echo 65536 ;;
    plist|profile|mdm_server|mdm_device|usbmux) echo 16384 ;;
    encrypted_file) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

# SCHED_IDLE where chrt exists (a nice value means nothing across the scheduler's autogroups).
idle_prefix() {
  if command -v chrt >/dev/null && chrt -i 0 true 2>/dev/null; then echo "chrt -i 0"; else echo "nice -n 19"; fi
}

# Fixture files, copied as they are, that fit a target.
fixture_seeds() {
  local f=$fixtures
  [ -n "$f" ] || return 0
  case "$1" in
    mbfile) echo "$f"/mbfile/*.bin ;;
    keybag) echo "$f"/keybag/*.bin ;;
    plist) echo "$f"/reference/*/*/Manifest.plist "$f"/reference/*/*/Info.plist "$f"/reference/*/*/Status.plist \
                "$f"/real/*/Info.plist "$f"/third-party/*/*.plist ;;
    manifest_db|backup) echo "$f"/reference/unencrypted/*/Manifest.db ;;
  esac
}

prepare_seeds() {
  local t=$1 dir=$build/seeds/$1 src i=0
  rm -rf "$dir" && mkdir -p "$dir"
  for src in $(fixture_seeds "$t"); do
    [ -f "$src" ] && cp "$src" "$dir/fixture-$i-$(basename "$src")" && chmod u+w "$dir/fixture-$i-$(basename "$src")"
    i=$((i + 1))
  done
  "$build/ferry_fuzz_seeds" "$t" "$dir" ${fixtures:+"$fixtures"} || return 1
}

run_one() {
  local t=$1 bin=$build/fuzz_$1 log=$build/logs/$1.log corpus rc
  [ -x "$bin" ] || { echo "fuzz $t: no $bin (build with -DFERRY_FUZZ=ON)" >&2; return 1; }
  prepare_seeds "$t" || { echo "fuzz $t: cannot prepare the seeds" >&2; return 1; }
  local scratch=${FERRY_FUZZ_TMPDIR:-$build/tmp}
  mkdir -p "$build/logs" "$build/artifacts" "$scratch"
  # The target's scratch files (and a crashed process's leftovers) stay in the build folder.
  local tmp
  tmp=$(mktemp -d "$scratch/$t-XXXXXX")
  if [ "$smoke" = 1 ]; then corpus=$tmp/corpus; mkdir -p "$corpus"
  else corpus=$build/corpus/$t; mkdir -p "$corpus"; fi
  local before
  before=$(ls "$build/artifacts" | grep -c "^$t-" || true)
  if [ "$cpu" = 1 ]; then
    # the kernel's RLIMIT_CPU ends the run (SIGKILL: exit 137); libFuzzer's own limit is only a backstop
    { ( ulimit -t "$seconds"; TMPDIR=$tmp exec $(idle_prefix) "$bin" -max_total_time=$((seconds * 20)) \
        -max_len="$(max_len "$t")" -timeout=120 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t-" "$corpus" "$build/seeds/$t" ) >"$log" 2>&1; } 2>/dev/null
    rc=$?
    if { [ $rc = 137 ] || [ $rc = 152 ]; } && [ "$(ls "$build/artifacts" | grep -c "^$t-" || true)" = "$before" ] &&
       ! grep -qE '^==[0-9]+==ERROR|SUMMARY: (libFuzzer|[A-Za-z]+Sanitizer)' "$log"; then
      rc=0
    fi
  else
    TMPDIR=$tmp "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$corpus" "$build/seeds/$t" >"$log" 2>&1
    rc=$?
  fi
  rm -rf "$tmp"
  local execs cov ft units
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # a run the CPU limit ended printed no final stats: its last status line says how far it got
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ $rc -ne 0 ]; then
    echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; log $log; inputs in $build/artifacts/" >&2
    grep -E 'ERROR|SUMMARY|runtime error|property broken|Test unit written' "$log" | head -20 >&2
    return 1
  fi
  echo "fuzz $t: ${execs:-?} executions in ${seconds} s$([ "$cpu" = 1 ] && echo " of CPU"), cov ${cov:-?}, ft ${ft:-?}, corpus ${units:-?}, crashes 0"
}

status=0
running=0
for t in "$@"; do
  if [ "$jobs" -le 1 ]; then
    run_one "$t" || status=1
    continue
  fi
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || status=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || status=1; running=$((running - 1)); done
exit $status
