# A device that ends differently from its plan is reported item by item and makes the exit code 4.
# The premise: the host cannot read the device-assignment service's answer (docs/cli.md "What ferry
# reads from a device"), so for a supervised ADE iPhone on 26.4 whose assigned ADE profile sets
# do_not_use_profile_from_backup, ferry predicts the management configuration restored while the
# device, which knows its assignment, drops it (V1). Also an encrypted snapshot of a device whose
# profile forces encryption (B6).
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" ade-iphone "V1 iPhone" 7
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
"$FERRY" device set "$TMP/dev" version 26.4 >/dev/null
"$FERRY" device set "$TMP/dev" do_not_use_profile_from_backup true >/dev/null
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
run_ok idevicebackup2 -u "$U" encryption on "ade pw"
SNAP=$(snapshot_of "$U")
stop_server
cp -a "$TMP/dev" "$TMP/dev.before"
start_server "$TMP/dev"

export FERRY_BACKUP_PASSWORD="ade pw"
set +e
timeout 120 "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --force --json >"$TMP/events" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 4 ] || { cat "$TMP/events" "$TMP/err" >&2; fail "a mismatch exited $rc, expected 4"; }
json_check "$TMP/events" '
assert result["ok"] is False, result
d = result["devices"][0]
assert d["status"] == "mismatch" and d["mismatches"] >= 1, d
mc = [i for i in d["items"] if i["kind"] == "management-configuration"]
assert mc and mc[0]["predicted"] == "restored" and mc[0]["actual"] == "mismatch", mc
done = [l for l in lines if l["event"] == "done"][0]
assert done["restored"] is True and done["mismatches"] == d["mismatches"], done
'
# the same again from the same state, for the text report
stop_server
rm -rf "$TMP/dev"; cp -a "$TMP/dev.before" "$TMP/dev"
start_server "$TMP/dev"
set +e
timeout 120 "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --force >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 4 ] || fail "text: a mismatch exited $rc, expected 4"
grep -q "^Device $U: mismatch" "$TMP/out" || fail "no mismatch status: $(cat "$TMP/out")"
grep -q "^  management-configuration .* restored .*mismatch" "$TMP/out" || fail "the item is not reported: $(cat "$TMP/out")"
grep -q "0 of 1 device(s) restored as planned" "$TMP/out" || fail "the summary does not count the mismatch"
stop_server
echo PASS
