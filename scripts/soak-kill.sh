#!/usr/bin/env bash
# scripts/soak-kill.sh: the kill -9 soak of the Hardening issue. Each trial starts a `ferry backup`
# or `ferry restore` against emulated devices (one with, one without a backup password), kills it with
# SIGKILL at a random moment (at its first progress event, or 0 to 1.5 s into the transfer), and then
# checks:
#   - no half-made snapshot is visible: the device has as many snapshots as before (or one more, when
#     the backup had reached its commit stage before the kill), and every snapshot the repository
#     lists for it verifies;
#   - the emulator still serves, and the device directory still loads;
#   - the next run of the same operation succeeds (a backup commits a snapshot that verifies and
#     leaves no staging folder; a restore restores as planned).
#
#   scripts/soak-kill.sh [--trials N] [--seed S] [--ferry PATH]     (default 50 trials, seed 1)
#
# Prints one line per trial and a summary "soak: N trials ... failures: F"; exits 1 when F > 0.
# tests/integration/test_soak_kill.sh runs 5 trials in `make check`; docs/security.md has the figures.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TRIALS=50 SEED=1 F="$HERE/../build/ferry"
while [ $# -gt 0 ]; do
    case "$1" in
        --trials) TRIALS=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --ferry) F=$2; shift 2 ;;
        *) sed -n '2,14p' "$0" >&2; exit 2 ;;
    esac
done
export FERRY="${FERRY:-$(realpath "$F")}"
export FERRY_TESTS="${FERRY_TESTS:-$HERE/../tests}"
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_lib.sh"
RANDOM=$SEED
FILES=${SOAK_FILES:-1000}
PW="soak password"
printf '%s\n' "$PW" >"$TMP/pw"
chmod 600 "$TMP/pw"

for name in plain secret; do
    "$FERRY" device create "$TMP/$name" --template unmanaged-personal --name "Soak $name" --seed $((SEED * 10 + ${#name})) \
        --files "$FILES" --size 24M >/dev/null || fail "device create $name"
    "$FERRY" device set "$TMP/$name" findmy false >/dev/null
done
UP=$(udid_of "$TMP/plain")
US=$(udid_of "$TMP/secret")
start_server "$TMP/plain" "$TMP/secret"
R="$TMP/repo"
"$FERRY" password set -u "$US" --password-file "$TMP/pw" >/dev/null || fail "password set"
for u in "$UP" "$US"; do
    "$FERRY" backup -u "$u" --repo "$R" >/dev/null 2>"$TMP/err" || fail "first backup of $u: $(cat "$TMP/err")"
done

# op_cmd OP UDID: the command line of an operation, for the run to kill and for the next run.
op_cmd() {
    case "$1" in
        backup) echo "$FERRY" backup -u "$2" --repo "$R" --json ;;
        backup-full) echo "$FERRY" backup -u "$2" --repo "$R" --full --json ;;
        restore) echo "$FERRY" restore --latest -u "$2" --repo "$R" --to "$2" --yes --system --settings \
                      --password-file "$TMP/pw" --json ;;
    esac
}

# all_verify UDID: every snapshot of the device verifies.
all_verify() {
    "$FERRY" snapshots --repo "$R" -u "$1" --json >"$TMP/snaps.json" || return 1
    local id
    for id in $(python3 -c 'import json,sys; [print(s["id"]) for s in json.load(open(sys.argv[1]))["snapshots"]]' "$TMP/snaps.json"); do
        "$FERRY" verify --repo "$R" "$id" --password-file "$TMP/pw" >"$TMP/verify.out" 2>&1 || { cat "$TMP/verify.out"; return 1; }
    done
}

failures=0 killed=0 backups=0 restores=0
for t in $(seq 1 "$TRIALS"); do
    case $(((t + SEED) % 3)) in 0) op=backup ;; 1) op=backup-full ;; *) op=restore ;; esac   # each in turn
    if [ $((RANDOM % 2)) = 0 ]; then u=$UP; dev="$TMP/plain"; else u=$US; dev="$TMP/secret"; fi
    # where to kill: at the first progress event (one trial in four), else 0 to 1.5 s into the transfer
    if [ $((RANDOM % 4)) = 0 ]; then point=start; delay=0; else point=transfer; delay=$((RANDOM % 1500)); fi
    case $op in restore) restores=$((restores + 1)) ;; *) backups=$((backups + 1)) ;; esac
    before=$(nsnap "$R" "$u")
    # shellcheck disable=SC2046
    $(op_cmd $op "$u") >"$TMP/run.json" 2>"$TMP/run.err" &
    pid=$!
    want='"event"'
    [ "$point" = start ] || want='"stage":"transfer"'
    for _ in $(seq 1 1500); do grep -q "$want" "$TMP/run.json" 2>/dev/null && break; kill -0 $pid 2>/dev/null || break; sleep 0.01; done
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    how=finished
    if kill -9 "$pid" 2>/dev/null; then how=killed; killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null || true
    seen=$(files_seen "$TMP/run.json")
    problem=
    after=$(nsnap "$R" "$u")
    # A backup may add one snapshot: when it finished, or when the kill came after it had begun the
    # commit (the "commit" stage is printed, and flushed, before the verify and the rename; a process
    # is still alive for a moment after the rename, longer under a sanitizer's exit-time leak check).
    committing=no
    if [ "$how" = finished ] || grep -q '"stage":"commit"' "$TMP/run.json" 2>/dev/null; then committing=yes; fi
    [ "$how" = killed ] && [ "$committing" = yes ] && [ "$after" != "$before" ] && how="killed after the commit began,"
    if [ "$after" != "$before" ] && ! { [ "$committing" = yes ] && [ "$op" != restore ] && [ "$after" = $((before + 1)) ]; }; then
        problem="snapshots $before -> $after after a $how run"
    elif ! all_verify "$u" >"$TMP/why" 2>&1; then
        problem="a snapshot does not verify: $(tail -2 "$TMP/why")"
    elif ! kill -0 "$SERVER_PID" 2>/dev/null; then
        problem="the emulator died"
    elif ! "$FERRY" device show "$dev" >/dev/null 2>"$TMP/why"; then
        problem="the device directory does not load: $(cat "$TMP/why")"
    else
        # the next run of the same operation succeeds (a killed restore's device may still be rebooting:
        # ferry restore waits for it)
        # shellcheck disable=SC2046
        if ! $(op_cmd $op "$u") >"$TMP/next.json" 2>"$TMP/next.err"; then
            problem="the next $op failed: $(tail -2 "$TMP/next.err")"
        elif [ "$op" != restore ]; then
            [ "$(nsnap "$R" "$u")" = $((after + 1)) ] || problem="the next backup made no snapshot"
            [ -n "$problem" ] || [ "$(staging_count "$R")" = 0 ] || problem="staging folders left after the next backup"
            [ -n "$problem" ] || all_verify "$u" >"$TMP/why" 2>&1 || problem="the next snapshot does not verify"
        fi
    fi
    if [ -n "$problem" ]; then
        failures=$((failures + 1))
        printf 'trial %2d: %-11s %s %s at %-13s ms, %s files: FAILED: %s\n' "$t" "$op" "${u:0:12}" "$how" "$point+$delay" "$seen" "$problem"
    else
        printf 'trial %2d: %-11s %s %s at %-13s ms, %s files: ok\n' "$t" "$op" "${u:0:12}" "$how" "$point+$delay" "$seen"
    fi
done
stop_server
echo "soak: $TRIALS trials ($backups backups, $restores restores; $killed killed mid-run), failures: $failures"
[ "$failures" = 0 ]
