#!/usr/bin/env bash
# test_checkin_S4_acme.sh: S4 on loopback. A device whose MDM identity is a hardware-bound ACME key
# checks in after a restore (--restored): the enrollment cannot come back, so it is removed with E1's
# effects, and the device, registered in Apple Business Manager, enrolls again by ADE (D2, outcome
# re-enrolled) with a new identity that the server binds. Unregistered, it stays unenrolled. A
# restored device whose identity is not hardware-bound sends TokenUpdate without Authenticate (S2).
# V1 (version 26, do_not_use_profile_from_backup) replaces the restored enrollment by ADE; S6 (an
# Employee plan) drops it and waits for the user.
. "$(dirname "$0")/checkin_lib.sh"
start_server --unknown-device accept

A="$TMP/acme"
"$FERRY" device create "$A" --template ade-ipad-acme --seed 31 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$A"
[ "$(outcome)" = accepted ] || fail "first check-in: $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
grep -q '"step":"Identity","http_status":0,"result":"generated","rules":"R6"' "$TMP/checkin.json" || fail "no hardware-bound key generated"
show "$A"
SERIAL=$(dev_py 'd["SerialNumber"]'); UDID=$(dev_py 'd["UniqueDeviceID"]')
[ "$(dev_py 'd["AssignmentService"]')" = ABM ] || fail "template is not registered"
cp -a "$A" "$TMP/unregistered"
"$FERRY" device show "$A" --json --no-files >"$TMP/before.json"
"$FERRY" mdm assign "$SERIAL" --acme-hardware-bound --org "Ferry Test Org" >/dev/null 2>&1

checkin "$A" --restored
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = re-enrolled ] || fail "S4: rc $CHECKIN_RC $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
show "$A"
python3 - "$TMP/before.json" "$TMP/show.json" "$TMP/checkin.json" <<'PY' || fail "S4 effects"
import json, sys
before, after, rep = (json.load(open(p)) for p in sys.argv[1:4])
steps = [s["step"] for s in rep["steps"]]
assert steps[:3] == ["Restore", "Unenroll", "ADE"], steps
assert "S4" in rep["steps"][0]["rules"] and rep["steps"][2]["rules"] == "S4 D2", rep["steps"]
assert "Authenticate" in steps  # a new enrollment authenticates
# E1 effects of the removed enrollment
for it in rep["unenroll"]:
    assert "S4" in it["rules"] and "E1" in it["rules"], it
gone = {i["item"] for i in rep["unenroll"] if i["action"] == "remove"}
assert any(p["Source"] == "Enrollment" and p["PayloadIdentifier"] in gone for p in before["Profiles"])
aprof = {p["PayloadIdentifier"]: p for p in after["Profiles"]}
for p in before["Profiles"]:
    assert (p["PayloadIdentifier"] in aprof) == (p["Source"] not in ("MDM", "Enrollment")), p["PayloadIdentifier"]
# enrolled again through the fetched profile, with a new hardware-bound identity
assert after["EnrollmentType"] == "ade"
assert aprof["com.ferry.mdm.enroll"]["Source"] == "Enrollment"
assert after["CloudConfigurationDetails"]["OrganizationName"] == "Ferry Test Org"
assert after["HardwareBound"] is True
PY
"$FERRY" mdm devices --json | python3 -c '
import json,sys; d={x["udid"]: x for x in json.load(sys.stdin)}[sys.argv[1]]
assert d["state"] == "enrolled" and d["last_reply"] == 200, d' "$UDID" || fail "server state after S4"
checkin "$A" # the new enrollment keeps working with the new identity
[ "$(outcome)" = accepted ] || fail "after re-enrollment: $(cat "$TMP/checkin.json")"

# --- unregistered: S4 removes the enrollment and nothing follows --------------------------------------
U="$TMP/unregistered"
"$FERRY" device set "$U" assignment "" >/dev/null
checkin "$U" --restored
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = unenrolled ] || fail "S4 unregistered: $(cat "$TMP/checkin.json")"
show "$U"; [ "$(dev_py 'd["EnrollmentType"]')" = none ] || fail "still enrolled"

# --- S2: a restored ade-iphone (PKCS#12 identity) only sends TokenUpdate --------------------------------
P="$TMP/p12"
"$FERRY" device create "$P" --template ade-iphone --seed 32 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$P"
checkin "$P" --restored
[ "$(outcome)" = accepted ] || fail "restored PKCS#12 device: $(cat "$TMP/checkin.json")"
grep -q '"step":"Authenticate"' "$TMP/checkin.json" && fail "restored device authenticated"
grep -q '"step":"Restore"' "$TMP/checkin.json" && fail "S4 applied to a PKCS#12 identity"
# --- V1: version 26 and an ADE profile with do_not_use_profile_from_backup ------------------------------
V="$TMP/v1"
"$FERRY" device create "$V" --template ade-iphone --seed 33 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
"$FERRY" device set "$V" version 26.0 >/dev/null
checkin "$V"
[ "$(outcome)" = accepted ] || fail "V1 device first check-in: $(cat "$TMP/checkin.json")"
show "$V"; VSERIAL=$(dev_py 'd["SerialNumber"]')
"$FERRY" mdm assign "$VSERIAL" --org "V1 Org" >/dev/null 2>&1
checkin "$V" --restored # assigned, but without the key: the restored enrollment stays
[ "$(outcome)" = accepted ] || fail "V1 not in force: $(cat "$TMP/checkin.json")"
"$FERRY" mdm assign "$VSERIAL" --org "V1 Org" --do-not-use-profile-from-backup >/dev/null 2>&1
checkin "$V" --restored
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = re-enrolled ] || fail "V1: $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
st={s["step"]: s for s in r["steps"]}
assert st["Restore"]["rules"] == "V1" and st["ADE"]["rules"] == "V1 D2", r["steps"]
assert all("V1" in i["rules"] for i in r["unenroll"])' "$TMP/checkin.json" || fail "V1 rules: $(cat "$TMP/checkin.json")"
show "$V"
[ "$(dev_py 'd["CloudConfigurationDetails"]["OrganizationName"]')" = "V1 Org" ] || fail "V1: configuration not from the service"
# --- S6: an Employee-plan ADE enrollment is not resumed after a restore; no ADE follows ---------------
B="$TMP/abe"
"$FERRY" device create "$B" --template abe-employee-iphone --seed 34 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$B"
[ "$(outcome)" = accepted ] || fail "ABE first check-in: $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
show "$B"; "$FERRY" mdm assign "$(dev_py 'd["SerialNumber"]')" >/dev/null 2>&1
checkin "$B" --restored
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = unenrolled ] || fail "S6: $(cat "$TMP/checkin.json")"
grep -q '"step":"ADE"' "$TMP/checkin.json" && fail "S6 must not enroll by ADE"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
assert r["unenroll"] and all("S6" in i["rules"] for i in r["unenroll"]), r' "$TMP/checkin.json" || fail "S6 rules"
echo "PASS: test_checkin_S4_acme"
