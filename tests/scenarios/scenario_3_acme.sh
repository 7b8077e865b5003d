#!/usr/bin/env bash
# scenario_3_acme.sh: an MDM identity that is a hardware-bound ACME key (issue 8, scenario 3). Two
# supervised iPads enroll with a hardware-bound ACME identity (the key is generated in the emulated
# Secure Enclave at their first check-in). Each is backed up encrypted and restored onto itself. The
# key cannot come back (R6), so the restored enrollment is removed with E1's effects (S4): the iPad
# registered in Apple Business Manager then enrolls again by ADE with a new key (outcome
# `re-enrolled`, S4 D2) and the server binds its new identity; the unregistered one stays unenrolled.
# Each is compared item by item with `ferry plan restore`, which asks the assignment service.
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm

step "two iPads with a hardware-bound ACME MDM identity; one registered in Apple Business Manager"
A="$TMP/registered"; B="$TMP/unregistered"
new_device "$A" ade-ipad-acme "ABM iPad" 301 --mdm-url "$BASE/mdm"
new_device "$B" ade-ipad-acme "Lone iPad" 302 --mdm-url "$BASE/mdm"
register "$A" "Ferry ACME Org" --acme-hardware-bound
"$FERRY" device set "$B" assignment "" >/dev/null
UA=$(udid_of "$A"); UB=$(udid_of "$B")
serve "$A" "$B"
for d in "$A" "$B"; do
    [ "$(dev_get "$d" 'd["HardwareBound"]')" = True ] || fail "$d: the MDM identity is not hardware-bound"
done
[ "$(mdm_get "$UA" 'd and d["state"]')" = enrolled ] && [ "$(mdm_get "$UB" 'd and d["state"]')" = enrolled ] \
    || fail "the iPads did not enroll when served"
OLD_KEY=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1]+"/keychain.plist","rb").read()).hexdigest())' "$A")

for pair in "$UA:$A" "$UB:$B"; do
    u=${pair%%:*}; d=${pair#*:}
    scn_encrypt "$u" "acme pw"
    scn_backup "$u" "$TMP/bk"
    FERRY_BACKUP_PASSWORD="acme pw" plan_restore "$d.plan.json" "$TMP/bk/$u" --to "$d" --mdm accept --force \
        --assignment-url "$BASE"
done

step "S4 with D2: the registered iPad loses its restored enrollment and enrolls again by ADE"
scn_restore "$UA" "$TMP/bk" "$UA" "acme pw"
# the restore already drops the enrollment (its key is not in the backup), so the check-in enrolls
case "$(wait_checkin "$A")" in enrolled|re-enrolled) ;; *) fail "S4: the registered iPad did not enroll again" ;; esac
check_plan "$A.plan.json" "$A"
expect_items mdm-enrollment:re-enrolled
has_rule "$A.plan.json" mdm-enrollment S4
has_rule "$A.plan.json" mdm-enrollment D2
[ "$(dev_get "$A" 'd["CloudConfigurationDetails"]["OrganizationName"]')" = "Ferry ACME Org" ] \
    || fail "S4/D2: the configuration is not the assigned one"
[ "$(dev_get "$A" 'd["HardwareBound"]')" = True ] || fail "S4: the new identity is not hardware-bound"
NEW_KEY=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1]+"/keychain.plist","rb").read()).hexdigest())' "$A")
[ "$OLD_KEY" != "$NEW_KEY" ] || fail "R6: the keychain still holds the old key"
[ "$(mdm_get "$UA" 'd["state"], d["last_reply"], sep=" "')" = "enrolled 200" ] || fail "the server did not bind the new identity"

step "S4 without registration: the enrollment is removed and nothing follows"
scn_restore "$UB" "$TMP/bk" "$UB" "acme pw"
case "$(wait_checkin "$B")" in unenrolled|not-enrolled) ;; *) fail "S4: the unregistered iPad did not stay unenrolled" ;; esac
check_plan "$B.plan.json" "$B"
has_rule "$B.plan.json" mdm-enrollment S4
[ "$(dev_get "$B" 'd["EnrollmentType"]')" = none ] || fail "S4: the unregistered iPad is still enrolled"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); i=[x for x in p["items"] if x["kind"]=="mdm-enrollment"][0]; assert i["outcome"] in ("dropped","removed-after-checkin"), i' \
    "$B.plan.json" || fail "S4: the plan keeps the enrollment of the unregistered iPad"
stop_server
echo "PASS: scenario_3_acme"
