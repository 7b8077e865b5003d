#!/usr/bin/env bash
# scenario_2_same_device.sh: a restore onto the same device, accepted and then rejected by the MDM
# server (issue 8, scenario 2). A supervised ADE iPhone is backed up encrypted and restored onto
# itself: the management configuration and the MDM enrollment come back (S1), the device checks in
# with TokenUpdate only (S2), the server accepts, and managed app data comes back as placeholders
# (S5). Then the server blocks the device (403 com.apple.unrecognized.device) and the same backup is
# restored again: at its check-in the device removes the enrollment profile, the profiles the MDM
# installed and the managed apps with ManagementFlags & 1 with their data, and keeps the management
# configuration, the other managed apps (now unmanaged) and the enterprise book (S3, E1). Both ends
# are compared item by item with `ferry plan restore --mdm accept|reject-403`.
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm

step "an ADE iPhone, enrolled and checked in, backed up encrypted"
D="$TMP/phone"
new_device "$D" ade-iphone "Same iPhone" 201 --mdm-url "$BASE/mdm"
U=$(udid_of "$D")
serve "$D"
[ "$(mdm_get "$U" 'd and d["last_reply"]')" = 200 ] || fail "the iPhone did not check in when served"
scn_encrypt "$U" "same pw"
scn_backup "$U" "$TMP/bk"
"$FERRY" device show "$D" --json --no-files >"$TMP/before.json"
export FERRY_BACKUP_PASSWORD="same pw"
plan_restore "$TMP/plan-accept.json" "$TMP/bk/$U" --to "$D" --mdm accept --force
plan_restore "$TMP/plan-403.json" "$TMP/bk/$U" --to "$D" --mdm reject-403 --force
unset FERRY_BACKUP_PASSWORD
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["context"]["path"] == "same-device"' "$TMP/plan-accept.json" \
    || fail "the plan does not follow the S rules"

step "S1, S2, S5: restored onto itself, the server accepts"
scn_restore "$U" "$TMP/bk" "$U" "same pw"
[ "$(wait_checkin "$D")" = accepted ] || fail "S2: the restored check-in was not accepted"
check_plan "$TMP/plan-accept.json" "$D"
expect_items management-configuration:restored mdm-enrollment:restored profile:com.acme.wifi:restored \
    app-data:com.acme.expenses:restored app-data:com.acme.timesheet:placeholder book:com.acme.handbook:restored
sed -n '/Restore$/,$p' "$TMP/server.log" | grep -q "Authenticate" && fail "S2: a restored device must not Authenticate"
[ "$(mdm_get "$U" 'd["last_reply"]')" = 200 ] || fail "S2: the server did not answer 200"
[ "$(dev_get "$D" 'd["CloudConfigurationDetails"]["OrganizationName"]')" = \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CloudConfigurationDetails"]["OrganizationName"])' "$TMP/before.json")" ] \
    || fail "S1: the management configuration is not the backed-up one"

step "S3: the server blocks the device (403); restored again, it unenrolls at its check-in"
"$FERRY" mdm block "$U" --status 403 2>/dev/null
scn_restore "$U" "$TMP/bk" "$U" "same pw"
[ "$(wait_checkin "$D")" = unenrolled ] || fail "S3: the blocked device did not unenroll"
check_plan "$TMP/plan-403.json" "$D"
expect_items mdm-enrollment:removed-after-checkin profile:com.acme.wifi:removed-after-checkin \
    app-data:com.acme.mail:removed-after-checkin app-data:com.acme.timesheet:removed-after-checkin \
    management-configuration:restored book:com.acme.handbook:restored
has_rule "$TMP/plan-403.json" com.acme.mail S3
[ "$(mdm_get "$U" 'd["last_reply"]')" = 403 ] || fail "S3: the server did not record its 403"
"$FERRY" device show "$D" --json --no-files >"$TMP/after.json"
python3 - "$TMP/before.json" "$TMP/after.json" "$D" <<'PY' || fail "S3: apps after the rejection"
import json, os, sys
before, after, ddir = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
aapps = {a["Identifier"]: a for a in after["Apps"]}
for a in before["Apps"]:
    bid = a["Identifier"]
    if a.get("IsManaged") and not a.get("DeclarationIdentifier") and a.get("ManagementFlags", 0) & 1:
        assert bid not in aapps, ("S3: an app removed on unenrollment stays", bid)
        assert not os.path.exists(os.path.join(ddir, "files", "AppDomain-" + bid)), ("S3: its data stays", bid)
    elif a.get("IsManaged") and bid in aapps:
        assert not aapps[bid].get("IsManaged"), ("E1: a managed app stays managed", bid)
assert after["EnrollmentType"] == "none" and "CloudConfigurationDetails" in after, "S3: configuration"
gone = [a["Identifier"] for a in before["Apps"] if a.get("IsManaged") and a.get("ManagementFlags", 0) & 1]
assert gone, "the template has no app with ManagementFlags & 1"
print("S3: removed with their data:", " ".join(sorted(gone)))
PY
stop_server
echo "PASS: scenario_2_same_device"
