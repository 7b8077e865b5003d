#!/usr/bin/env bash
# scenario_1_new_iphone.sh: an employee moves to a new iPhone (issue 8, scenario 1). The old iPhone is
# supervised, enrolled by ADE, and a restrictions profile forces encrypted backups (B6); the new one
# is fresh from the box, registered in Apple Business Manager and assigned to the MDM server. The
# old one is backed up (refused until a backup password is set, then encrypted) and the backup is
# restored onto the new one over the real protocol. On the new iPhone the backed-up management
# configuration and enrollment are deleted (D1) and the device enrolls again through the
# assignment service at its first check-in (D2), with the organisation of its own ADE profile;
# managed app data follows D3 (apps removed on unenrollment get none), enterprise books come back
# (D4), profiles installed through the old enrollment stay behind (D5), and a new passcode is needed
# (R1). Every item is compared with `ferry plan restore` made before the restore.
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm

step "the old iPhone: ADE, forceEncryptedBackup, checked in"
OLD="$TMP/old"; NEW="$TMP/new"
new_device "$OLD" ade-iphone "Old iPhone" 101 --mdm-url "$BASE/mdm"
[ "$(dev_get "$OLD" 'd["Restrictions"]["forceEncryptedBackup"]')" = True ] || fail "the old iPhone does not force encryption"
OLD_ORG=$(dev_get "$OLD" 'd["CloudConfigurationDetails"]["OrganizationName"]')
UO=$(udid_of "$OLD")

step "the new iPhone: erased, registered in Apple Business Manager, assigned"
new_device "$NEW" unmanaged-personal "New iPhone" 102
"$FERRY" device set "$NEW" version "$(version_of "$OLD")" >/dev/null
register "$NEW" "Ferry New Org"
UN=$(udid_of "$NEW")
serve "$OLD" "$NEW"
[ "$(mdm_get "$UO" 'd and d["state"]')" = enrolled ] || fail "the old iPhone did not check in when served"

step "B6: the backup is refused until a backup password is set"
scn_backup_refused "$UO" "$TMP/bk"
grep -qi "encrypt" "$TMP/out" "$TMP/err" || fail "B6: the refusal does not say why: $(cat "$TMP/out" "$TMP/err")"
[ -z "$(find "$TMP/bk" -name '*.db' 2>/dev/null)" ] || fail "B6: files were transferred before the refusal"
scn_encrypt "$UO" "move pw"
scn_backup "$UO" "$TMP/bk"
FERRY_BACKUP_PASSWORD="move pw" run_ok "$FERRY" info "$TMP/bk/$UO" --json
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["encrypted"] is True' "$TMP/out" || fail "the backup is not encrypted"

step "the plan: a different device, D rules"
FERRY_BACKUP_PASSWORD="move pw" plan_restore "$TMP/plan.json" "$TMP/bk/$UO" --to "$NEW" --mdm accept \
    --assignment-url "$BASE"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["context"]["path"] == "different-device", p["context"]' \
    "$TMP/plan.json" || fail "the plan does not follow the D rules"

step "restore onto the new iPhone, then its first check-in"
scn_restore "$UN" "$TMP/bk" "$UO" "move pw"
[ "$(wait_checkin "$NEW")" = enrolled ] || fail "D2: the new iPhone did not enroll at its check-in"
check_plan "$TMP/plan.json" "$NEW"
expect_items management-configuration:re-enrolled mdm-enrollment:re-enrolled \
    app-data:com.acme.expenses:placeholder app-data:com.acme.mail:dropped app-data:com.acme.vault:not-in-backup \
    book:com.acme.handbook:restored profile:com.acme.wifi:dropped passcode:not-in-backup biometrics:not-in-backup
has_rule "$TMP/plan.json" passcode R1

step "D1, D2: the configuration comes from the new iPhone's own ADE profile"
ORG=$(dev_get "$NEW" 'd["CloudConfigurationDetails"]["OrganizationName"]')
[ "$ORG" = "Ferry New Org" ] || fail "D1/D2: the configuration is '$ORG' (the backup's was '$OLD_ORG')"
[ "$(dev_get "$NEW" 'd["EnrollmentType"]')" = ade ] || fail "D2: the new iPhone is not enrolled by ADE"
[ "$(mdm_get "$UN" 'd["state"]')" = enrolled ] || fail "D2: the server does not list the new iPhone as enrolled"
[ "$(dev_get "$NEW" '[a["Status"] for a in d["Apps"] if a["Identifier"]=="com.acme.expenses"][0]')" = ManagedButUninstalled ] \
    || fail "D3/S5: the managed app without its binary is not ManagedButUninstalled"
[ -f "$NEW/files/BooksDomain/Managed/com.acme.handbook.epub" ] || fail "D4: the enterprise book file is missing"
cmp -s "$OLD/files/AppDomain-com.acme.expenses/Library/Preferences/com.acme.expenses.plist" \
    "$NEW/files/AppDomain-com.acme.expenses/Library/Preferences/com.acme.expenses.plist" || fail "D3: app data differs"
[ ! -e "$NEW/files/AppDomain-com.acme.mail" ] || fail "D3: data of an app removed on unenrollment came back"
[ "$(dev_get "$NEW" 'd["State"]["PasscodePresent"]')" = False ] || fail "R1: the passcode came back"
stop_server
echo "PASS: scenario_1_new_iphone"
