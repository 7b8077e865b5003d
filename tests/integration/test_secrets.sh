#!/usr/bin/env bash
# test_secrets.sh: the Hardening issue's secrets checks. Passwords never on a command line of ferry's
# (no option takes one), never in any log or output: a backup password goes through idevicebackup2's
# encryption on/changepw, the emulator's verbose log, ferry's reading and repository commands, and is
# then searched for everywhere. No ferry process can dump core (RLIMIT_CORE 0, not dumpable), read off
# /proc of the running emulator. A repository is private: directories 0700, files 0600. The TLS of
# lockdownd and the MDM signatures have their own tests (test_emu_lockdown.sh, test_checkin_signature.sh).
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3
PW="S3cret-Backup-Pass-4711"
PW2="Another-S3cret-0815"

# 1. no option of ferry takes a password: such an option is a usage error (exit 2)
make_device "$TMP/d" ade-iphone "Secret Phone"
U=$(udid_of "$TMP/d")
for cmd in "ls" "info" "verify" "extract"; do
    set +e; "$FERRY" $cmd "$TMP/nothing" --password "$PW" >/dev/null 2>"$TMP/err.$cmd"; rc=$?; set -e
    [ "$rc" = 2 ] || fail "ferry $cmd --password PW exited $rc, expected a usage error (2)"
done

# 2. the running emulator cannot dump core and is not dumpable
start_server "$TMP/d"
grep -E '^Max core file size +0 +0 ' "/proc/$SERVER_PID/limits" >/dev/null \
    || fail "ferry device serve may dump core: $(grep core "/proc/$SERVER_PID/limits")"
# not dumpable: for such a task the kernel makes /proc/PID/mem belong to root:root instead of the
# process's user, and refuses ptrace attach by that user. Seen from a ferry run as an unprivileged
# user (setpriv; skipped when there is none to run as).
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    mkdir -m 777 "$TMP/nobody"
    chmod 711 "$TMP"   # let uid 65534 reach its folder (not list the others)
    setpriv --reuid=65534 --regid=65534 --clear-groups "$FERRY" mdm serve --listen 127.0.0.1:0 \
        --db "$TMP/nobody/mdm.db" --ready-file "$TMP/nobody/url" 2>"$TMP/nobody/log" &
    NPID=$!
    for _ in $(seq 1 100); do [ -s "$TMP/nobody/url" ] && break; sleep 0.1; done
    owner=$(stat -c %u:%g "/proc/$NPID/mem")
    kill "$NPID"; wait "$NPID" 2>/dev/null || true
    chmod 700 "$TMP"
    [ -s "$TMP/nobody/url" ] || fail "ferry mdm serve as nobody did not start: $(cat "$TMP/nobody/log")"
    [ "$owner" = 0:0 ] || fail "ferry is dumpable: /proc/PID/mem of a ferry run as uid 65534 is $owner"
fi

# 3. a password through every path, then searched for in every log and output
mkdir "$TMP/bk"
run_ok idevicebackup2 -u "$U" encryption on "$PW"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
cp "$TMP/out" "$TMP/log.backup"
run_ok idevicebackup2 -u "$U" changepw "$PW" "$PW2"
cp "$TMP/out" "$TMP/log.changepw"
printf '%s\n' "$PW" >"$TMP/pwfile"
chmod 600 "$TMP/pwfile"
run_ok "$FERRY" verify "$TMP/bk/$U" --password-file "$TMP/pwfile"
cp "$TMP/out" "$TMP/log.verify"; cp "$TMP/err" "$TMP/log.verify.err"
FERRY_BACKUP_PASSWORD="$PW" run_ok "$FERRY" ls "$TMP/bk/$U" --json
cp "$TMP/err" "$TMP/log.ls.err"
FERRY_BACKUP_PASSWORD="wrong $PW" run_fails "$FERRY" info "$TMP/bk/$U"
cp "$TMP/err" "$TMP/log.wrong.err"; cp "$TMP/out" "$TMP/log.wrong"
FERRY_BACKUP_PASSWORD="$PW" run_ok "$FERRY" snapshot import "$TMP/bk/$U" --repo "$TMP/repo"
cp "$TMP/out" "$TMP/log.import"; cp "$TMP/err" "$TMP/log.import.err"
stop_server
for f in "$TMP"/server.log "$TMP"/log.*; do
    ! grep -q -e "$PW" -e "$PW2" "$f" || fail "a password appears in $(basename "$f")"
done
# the repository holds the backup as the device encrypted it, and no password anywhere
! grep -r -q -e "$PW" -e "$PW2" "$TMP/repo" || fail "a password appears in the repository"

# 4. the repository is private
bad=$(find "$TMP/repo" \( -type d ! -perm 700 \) -o \( -type f ! -perm 600 \) | head -5)
[ -z "$bad" ] || fail "repository entries not private (dirs 0700, files 0600): $bad"
echo "PASS: test_secrets"
