# Interrupted backups leave the repository as it was: `ferry backup` killed with SIGKILL at several
# points (while connecting, after a few files, half-way through the transfer) adds no snapshot, the
# previous snapshot still verifies, and the next run cleans up the dead run's staging folder and
# succeeds. A device that vanishes mid-backup (the emulator killed) ends the backup within its
# deadline with a message naming the device, and no snapshot; Ctrl-C (SIGINT) and a cancel on the
# device (syncCancelRequest) stop a backup with exit code 130 and remove its staging folder.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_lib.sh"
need_tools python3
"$FERRY" device create "$TMP/big" --template unmanaged-personal --name "Big Phone" --seed 4 --files 4000 --size 16M \
    >/dev/null || fail "device create"
U=$(udid_of "$TMP/big")
start_server "$TMP/big"
R="$TMP/repo"

run_ok "$FERRY" backup -u "$U" --repo "$R" --json
total=$(json_get "$TMP/out" 'd["devices"][0]["filesReceived"]')
[ "$total" -gt 1000 ] || fail "the big device sent only $total files"
S1=$(latest_id "$R" "$U")

# kill -9 at several points of a full backup
for at in 0 20 $((total / 2)); do
    rm -f "$TMP/run.json"
    "$FERRY" backup -u "$U" --repo "$R" --full --json >"$TMP/run.json" 2>"$TMP/run.err" &
    pid=$!
    if [ "$at" = 0 ]; then
        for _ in $(seq 1 500); do grep -q '"stage"' "$TMP/run.json" 2>/dev/null && break; sleep 0.01; done
    else
        wait_files "$TMP/run.json" "$at" "$pid" || fail "the backup ended before $at files: $(tail -2 "$TMP/run.json")"
    fi
    kill -9 "$pid" 2>/dev/null || fail "the backup had already finished at $at files"
    wait "$pid" 2>/dev/null || true
    seen=$(files_seen "$TMP/run.json")
    [ "$seen" -lt "$total" ] || fail "killed after the whole transfer ($seen files)"
    [ "$(nsnap "$R" "$U")" = 1 ] || fail "a snapshot appeared after kill -9 at $seen files"
    [ "$(latest_id "$R" "$U")" = "$S1" ] || fail "the latest snapshot changed"
    [ "$(staging_count "$R")" -le 1 ] || fail "more than one staging folder after kill -9"
    run_ok "$FERRY" verify --repo "$R" "$S1"
    grep -q "0 problems" "$TMP/out" || fail "the previous snapshot does not verify after kill -9 at $seen files"
    server_alive
done

# the next run cleans up and succeeds
run_ok "$FERRY" backup -u "$U" --repo "$R" --json
[ "$(json_get "$TMP/out" 'd["devices"][0]["ok"]')" = True ] || fail "the run after kill -9 failed"
[ "$(nsnap "$R" "$U")" = 2 ] || fail "two snapshots expected after the successful run"
[ "$(staging_count "$R")" = 0 ] || fail "the dead runs' staging folders were not removed"
run_ok "$FERRY" verify --repo "$R" --latest -u "$U"
grep -q "0 problems" "$TMP/out" || fail "the new snapshot does not verify"

# Ctrl-C: exit code 130, nothing committed, its staging folder removed
"$FERRY" backup -u "$U" --repo "$R" --full --json >"$TMP/run.json" 2>"$TMP/run.err" &
pid=$!
wait_files "$TMP/run.json" 20 "$pid" || fail "the backup ended early"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "SIGINT: exit code $rc, expected 130 ($(cat "$TMP/run.err"))"
grep -q "canceled" "$TMP/run.err" || fail "SIGINT message: $(cat "$TMP/run.err")"
[ "$(nsnap "$R" "$U")" = 2 ] || fail "a snapshot appeared after SIGINT"
[ "$(staging_count "$R")" = 0 ] || fail "SIGINT left a staging folder"

# the user cancels the sync on the device (the emulator relays syncCancelRequest on SIGUSR1)
[ -f "$TMP/mux.sock.d/$U/media/com.apple.itunes.lock_sync" ] || fail "ferry did not take the AFC sync lock"
"$FERRY" backup -u "$U" --repo "$R" --full --json >"$TMP/run.json" 2>"$TMP/run.err" &
pid=$!
wait_files "$TMP/run.json" 20 "$pid" || fail "the backup ended early"
kill -USR1 "$SERVER_PID"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "canceled on the device: exit code $rc ($(cat "$TMP/run.err"))"
grep -q "canceled on the device" "$TMP/run.err" || fail "device cancel message: $(cat "$TMP/run.err")"
[ "$(nsnap "$R" "$U")" = 2 ] || fail "a snapshot appeared after the device canceled"
[ "$(staging_count "$R")" = 0 ] || fail "the canceled backup left its staging folder"
server_alive

# the device stops answering (the emulator frozen): the deadline ends the backup with exit code 7
"$FERRY" backup -u "$U" --repo "$R" --full --timeout 3 --json >"$TMP/run.json" 2>"$TMP/run.err" &
pid=$!
wait_files "$TMP/run.json" 20 "$pid" || fail "the backup ended early"
kill -STOP "$SERVER_PID"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { kill -CONT "$SERVER_PID"; fail "the backup still waits 30 s after the device froze (deadline 3 s)"; }
kill -CONT "$SERVER_PID"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 7 ] || fail "frozen device: exit code $rc ($(cat "$TMP/run.err"))"
grep -q "device $U: no answer for 3 s" "$TMP/run.err" || fail "deadline message: $(cat "$TMP/run.err")"
[ "$(nsnap "$R" "$U")" = 2 ] || fail "a snapshot appeared after the deadline"
[ "$(staging_count "$R")" = 0 ] || fail "the timed-out backup left its staging folder"
server_alive

# the device vanishes mid-backup: a clear error within the deadline, no snapshot
"$FERRY" backup -u "$U" --repo "$R" --full --timeout 10 --json >"$TMP/run.json" 2>"$TMP/run.err" &
pid=$!
wait_files "$TMP/run.json" 20 "$pid" || fail "the backup ended early"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
rc=0
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the backup still runs 30 s after the device vanished (deadline 10 s)"
wait "$pid" || rc=$?
[ "$rc" = 1 ] || [ "$rc" = 7 ] || fail "vanished device: exit code $rc"
grep -q "device $U" "$TMP/run.err" || fail "the message does not name the device: $(cat "$TMP/run.err")"
grep -Eq "connection|no answer" "$TMP/run.err" || fail "the message does not say what happened: $(cat "$TMP/run.err")"
[ "$(nsnap "$R" "$U")" = 2 ] || fail "a snapshot appeared after the device vanished"
[ "$(staging_count "$R")" = 0 ] || fail "the failed backup left its staging folder"

# the device comes back: the next backup succeeds
rm -f "$TMP/mux.sock" "$TMP/server.log"
start_server "$TMP/big"
run_ok "$FERRY" backup -u "$U" --repo "$R"
[ "$(nsnap "$R" "$U")" = 3 ] || fail "no snapshot after the device came back"
run_ok "$FERRY" verify --repo "$R" --latest -u "$U"
stop_server
echo PASS
