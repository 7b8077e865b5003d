# A transient failure is retried: the emulated device goes away in the middle of the transfer (its
# server is killed) and comes back; `ferry restore --retries 5` tries again after a pause and the
# device ends restored, its report saying how many attempts it took. A device's own refusal (211) is
# never retried (test_host_restore_fleet.sh). Then the device reboots after a restore (Detached,
# Attached): it is read back once it answers again.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
"$FERRY" device create "$TMP/dev" --template unmanaged-personal --name "Flaky" --seed 6 --files 3000 --size 64M \
    >/dev/null || fail "ferry device create"
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
SNAP=$(snapshot_of "$U")
run_ok "$FERRY" extract "$TMP/bk-$U/$U" "$TMP/orig"

timeout 120 "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --system --remove --retries 5 --json \
    >"$TMP/events" 2>"$TMP/err" &
pid=$!
signal_at 1 "$SERVER_PID" 9 "$pid" || fail "the restore ended before the device went away: $(cat "$TMP/events" "$TMP/err")"
wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
rm -f "$TMP/mux.sock"
for _ in $(seq 1 600); do grep -q '"event":"retry"' "$TMP/events" && break; sleep 0.05; done
start_server "$TMP/dev"
set +e
timeout 130 tail --pid="$pid" -f /dev/null
wait "$pid"; rc=$?
set -e
[ "$rc" = 0 ] || { cat "$TMP/events" "$TMP/err" >&2; fail "the restore did not recover, exit $rc"; }
json_check "$TMP/events" '
retries = [l for l in lines if l["event"] == "retry"]
assert retries, "no retry event"
d = result["devices"][0]
assert d["status"] == "ok" and d["attempts"] >= 2, d
'
same_files "$TMP/orig" "$TMP/dev/files" || fail "files differ after the retried restore"

# the reboot after a restore: the emulated device reboots by itself once its restore is done
# (RestoreShouldReboot: Detached, its connections dropped, Attached again); ferry reads it back when it
# answers again (a reboot quicker than ferry's look shows no "rebooting" event)
echo changed >"$TMP/dev/files/HomeDomain/extra.txt"
set +e
timeout 180 "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 60 --json >"$TMP/events" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$TMP/events" "$TMP/err" >&2; fail "the restore with a reboot exited $rc"; }
grep -q '"event":"transferred"' "$TMP/events" || fail "no transferred event"
grep -q "rebooting after the restore" "$TMP/server.log" || fail "the device did not reboot"
json_check "$TMP/events" '
d = result["devices"][0]
assert d["status"] == "ok" and d["attempts"] == 1, d
'
stop_server
echo PASS
