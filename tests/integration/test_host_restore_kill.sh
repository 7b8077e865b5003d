# kill -9 of `ferry restore` in the middle of the transfer (after 1 and 300 files), and Ctrl-C: the
# snapshot is only read by a restore, so `ferry verify --repo` still finds it intact, and the next
# `ferry restore` succeeds and leaves every file of the snapshot on the device byte-identical.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
"$FERRY" device create "$TMP/dev" --template unmanaged-personal --name "Killed" --seed 5 --files 3000 --size 64M \
    >/dev/null || fail "ferry device create"
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
SNAP=$(snapshot_of "$U")
run_ok "$FERRY" extract "$TMP/bk-$U/$U" "$TMP/orig"

for point in 1 300; do
    "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --remove --json >"$TMP/events" 2>"$TMP/err" &
    pid=$!
    killed=
    if signal_at "$point" "$pid" 9; then killed=1; fi
    wait "$pid" 2>/dev/null || true
    [ -n "$killed" ] || fail "the restore ended before it could be killed at $point files: $(tail -3 "$TMP/events")"
    ! grep -q '"event":"result"' "$TMP/events" || fail "the killed restore reported a result"
    server_alive
    run_ok "$FERRY" verify --repo "$TMP/repo" "$SNAP"
    grep -q "0 problems" "$TMP/out" || fail "the snapshot does not verify after kill -9: $(cat "$TMP/out")"

    run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --remove
    grep -q "^Device $U: ok" "$TMP/out" || fail "the restore after kill -9 did not succeed: $(cat "$TMP/out")"
    same_files "$TMP/orig" "$TMP/dev/files" || fail "files differ after the restore that followed kill -9"
done
# Ctrl-C (SIGINT): every device stops at its next message, exit 130 with a result object (the device
# may have finished its last message already: then it is reported as it ended)
"$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --remove --json >"$TMP/events" 2>"$TMP/err" &
pid=$!
signal_at 1 "$pid" 2 || fail "the restore ended before Ctrl-C"
set +e
timeout 120 tail --pid="$pid" -f /dev/null
wait "$pid"; rc=$?
set -e
[ "$rc" = 130 ] || { cat "$TMP/err" >&2; fail "Ctrl-C exited $rc, expected 130"; }
json_check "$TMP/events" '
assert result["event"] == "result", result
assert result["devices"][0]["status"] in ("failed", "ok"), result
'
run_ok "$FERRY" verify --repo "$TMP/repo" "$SNAP"
run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --remove
same_files "$TMP/orig" "$TMP/dev/files" || fail "files differ after the restore that followed Ctrl-C"
stop_server
echo PASS
