# ferry restore reads a managed device over MCInstall: a device enrolled with profile-based Device
# Enrollment is seen as enrolled (ferry's erased-target check refuses it without --force), and after a
# --force restore the report compares the management configuration, the MDM enrollment and every
# profile with the device's answer (match, not unverified), as the device applied the plan.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" profile-de-ipad "Managed iPad" 2
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
SNAP=$(snapshot_of "$U")

set +e
timeout 120 "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --json >"$TMP/events" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 5 ] || fail "an enrolled target exited $rc, expected 5"
grep -q "enrolled in MDM (profile-de)" "$TMP/err" || fail "the enrollment was not read over MCInstall: $(cat "$TMP/err")"
grep -q "MCInstall $U: GetProfileList" "$TMP/server.log" || fail "MCInstall GetProfileList was not asked"

run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --force --json
cp "$TMP/out" "$TMP/events"
json_check "$TMP/events" '
d = result["devices"][0]
assert d["status"] == "ok" and d["mismatches"] == 0, d
kinds = {}
for i in d["items"]:
    kinds.setdefault(i["kind"], set()).add(i["actual"])
assert kinds["management-configuration"] == {"match"}, kinds
assert kinds["mdm-enrollment"] == {"match"}, kinds
assert kinds["profile"] == {"match"}, kinds
assert kinds["passcode"] == {"match"}, kinds
assert kinds.get("category", {"unverified"}) == {"unverified"}, kinds
'
stop_server
echo PASS
