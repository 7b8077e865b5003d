#!/usr/bin/env bash
# scenario_7_newer_os.sh: newer OS behaviour (issue 8, scenario 7). Two supervised ADE iPhones, one on
# 26.4 and one on 26.3, each with a profile installed by hand, are registered with an ADE profile that
# sets do_not_use_profile_from_backup. Each is backed up and restored onto itself. On both, the
# restore does not use the backed-up management configuration or enrollment: the device reads its
# current ADE profile from the assignment service and enrolls through it (V1, outcome re-enrolled).
# Only the 26.4 iPhone also removes every configuration profile of the backup, the one installed by
# hand included (V2); the 26.3 one keeps it. A backup made on 26.4 cannot go onto the 26.3 iPhone
# (R3). Items are compared with `ferry plan restore --assignment-url`.
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm
python3 - "$TMP/manual.mobileconfig" <<'PY'
import plistlib, sys
p = {'PayloadType': 'Configuration', 'PayloadIdentifier': 'com.ferry.scenario.manual',
     'PayloadUUID': '0A0B0C0D-0E0F-4010-8111-121314151617', 'PayloadVersion': 1,
     'PayloadDisplayName': 'Installed by hand',
     'PayloadContent': [{'PayloadType': 'com.apple.webClip.managed', 'PayloadIdentifier': 'com.ferry.scenario.manual.clip',
                         'PayloadUUID': '1A1B1C1D-1E1F-4020-8121-222324252627', 'PayloadVersion': 1,
                         'Label': 'Intranet', 'URL': 'https://intranet.example.com'}]}
open(sys.argv[1], 'wb').write(plistlib.dumps(p))
PY

step "two ADE iPhones, 26.4 and 26.3, with do_not_use_profile_from_backup assigned"
N="$TMP/v264"; O="$TMP/v263"
new_device "$N" ade-iphone "iPhone 26.4" 701 --mdm-url "$BASE/mdm"
new_device "$O" ade-iphone "iPhone 26.3" 702 --mdm-url "$BASE/mdm"
"$FERRY" device set "$N" version 26.4 >/dev/null
"$FERRY" device set "$O" version 26.3 >/dev/null
for d in "$N" "$O"; do
    "$FERRY" device install-profile "$d" "$TMP/manual.mobileconfig" --source Manual >/dev/null || fail "install-profile"
    register "$d" "Ferry Current Org" --do-not-use-profile-from-backup
    # the device read this ADE profile when it enrolled; at a restore it applies it (V1, V2)
    "$FERRY" device set "$d" do_not_use_profile_from_backup true >/dev/null
done
UN=$(udid_of "$N"); UO=$(udid_of "$O")
serve "$N" "$O"
for pair in "$UN:$N" "$UO:$O"; do
    u=${pair%%:*}; d=${pair#*:}
    scn_encrypt "$u" "v pw"
    scn_backup "$u" "$TMP/bk"
    FERRY_BACKUP_PASSWORD="v pw" plan_restore "$d.plan.json" "$TMP/bk/$u" --to "$d" --mdm accept --force \
        --assignment-url "$BASE"
done

step "R3: the 26.4 backup cannot go onto the 26.3 iPhone"
set +e
FERRY_BACKUP_PASSWORD="v pw" "$FERRY" plan restore "$TMP/bk/$UN" --to "$O" --force --json >"$TMP/r3.json"
rc=$?
set -e
[ "$rc" = 5 ] || fail "R3: ferry plan restore exited $rc, expected 5 (refused)"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["verdict"]=="refused" and "R3" in p["rules"], p' "$TMP/r3.json" \
    || fail "R3: the refusal does not cite R3"

for d in "$N" "$O"; do
    u=$(udid_of "$d")
    step "V1: $(basename "$d") restored onto itself enrolls through its current ADE profile"
    scn_restore "$u" "$TMP/bk" "$u" "v pw"
    case "$(wait_checkin "$d")" in enrolled|re-enrolled) ;; *) fail "V1: $d did not enroll through the service" ;; esac
    check_plan "$d.plan.json" "$d"
    expect_items management-configuration:re-enrolled mdm-enrollment:re-enrolled
    has_rule "$d.plan.json" management-configuration V1
    [ "$(dev_get "$d" 'd["CloudConfigurationDetails"]["OrganizationName"]')" = "Ferry Current Org" ] \
        || fail "V1: $d uses the backed-up configuration"
done

step "V2: only 26.4 removes the profile installed by hand"
expect_manual() { # DIR PRESENT(True|False)
    [ "$(dev_get "$1" '"com.ferry.scenario.manual" in [p["PayloadIdentifier"] for p in d["Profiles"]]')" = "$2" ] \
        || fail "V2: the hand-installed profile on $1 should be present=$2"
}
expect_manual "$N" False
expect_manual "$O" True
has_rule "$N.plan.json" com.ferry.scenario.manual V2
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); i=[x for x in p["items"] if x["item"]=="com.ferry.scenario.manual"][0]; assert i["outcome"]=="restored" and "V2" not in i["rules"], i' \
    "$O.plan.json" || fail "V2 applied on 26.3"
stop_server
echo "PASS: scenario_7_newer_os"
