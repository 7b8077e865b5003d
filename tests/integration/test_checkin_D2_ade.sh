#!/usr/bin/env bash
# test_checkin_D2_ade.sh: `ferry device checkin` end to end on loopback. D2: a device registered in
# Apple Business Manager without enrollment asks the assignment service (`ferry mdm assign`), fetches
# the enrollment profile with its MachineInfo and enrolls (ACME identity generated and kept in its
# keychain); then commands install a managed app with ManagementFlags 5 and a restrictions profile,
# and ManagedApplicationList, ProfileList and DeviceInformation report them in the server's database.
# Also: an ade-iphone device created with --mdm-url checks in with its PKCS#12 identity (S2), and
# an unregistered device has nothing to do.
. "$(dirname "$0")/checkin_lib.sh"
start_server --unknown-device accept
make_restrictions

# --- D2: a new device, registered, assigned ---------------------------------------------------------
D="$TMP/new"
"$FERRY" device create "$D" --template unmanaged-personal --seed 11 --files 2 --size 16K >/dev/null
"$FERRY" device set "$D" version 18.1 >/dev/null
checkin "$D" --url "$BASE"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = not-enrolled ] || fail "unregistered device: $(cat "$TMP/checkin.json")"
"$FERRY" device set "$D" assignment ABM >/dev/null
show "$D"
SERIAL=$(dev_py 'd["SerialNumber"]'); UDID=$(dev_py 'd["UniqueDeviceID"]')
checkin "$D" --url "$BASE"
[ "$(outcome)" = not-assigned ] || fail "registered but unassigned: $(cat "$TMP/checkin.json")"
"$FERRY" mdm assign "$SERIAL" --org "Ferry Test Org" --await-device-configured >/dev/null
checkin "$D" --url "$BASE"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = enrolled ] || fail "D2 enrollment: rc $CHECKIN_RC $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
grep -q '"rules":"D2"' "$TMP/checkin.json" || fail "the ADE step does not cite D2"
show "$D"
[ "$(dev_py 'd["EnrollmentType"]')" = ade ] || fail "enrollment after D2 is $(dev_py 'd["EnrollmentType"]')"
[ "$(dev_py 'd["CloudConfigurationDetails"]["OrganizationName"]')" = "Ferry Test Org" ] || fail "management configuration"
[ "$(dev_py 'd["IsSupervised"]')" = True ] || fail "ADE supervises"
"$FERRY" mdm devices --json >"$TMP/devices.json"
python3 - "$TMP/devices.json" "$UDID" <<'PY' || fail "server does not list the enrolled device"
import json, sys
devs = {d["udid"]: d for d in json.load(open(sys.argv[1]))}
d = devs[sys.argv[2]]
assert d["state"] == "enrolled" and d["has_identity"], d
PY

# --- commands: a managed app with ManagementFlags 5, a restrictions profile, the lists ----------------
"$FERRY" mdm enqueue "$UDID" InstallApplication Identifier=com.example.flag5 ManagementFlags=5 >/dev/null
"$FERRY" mdm enqueue "$UDID" InstallProfile "Payload=@$TMP/restrictions.mobileconfig" >/dev/null
"$FERRY" mdm enqueue "$UDID" InstallMedia MediaType=Book PersistentID=com.example.manual \
    MediaURL=https://books.example.com/manual.pdf Kind=pdf Title=Manual >/dev/null
"$FERRY" mdm enqueue "$UDID" ManagedApplicationList >/dev/null
"$FERRY" mdm enqueue "$UDID" ProfileList >/dev/null
"$FERRY" mdm enqueue "$UDID" ManagedMediaList >/dev/null
"$FERRY" mdm enqueue "$UDID" DeviceInformation Queries=IsCloudBackupEnabled,LastCloudBackupDate,IsSupervised,SerialNumber >/dev/null
"$FERRY" mdm enqueue "$UDID" RemoveApplication Identifier=net.whatsapp.WhatsApp >/dev/null # not managed: Error
checkin "$D" --url "$BASE"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = accepted ] || fail "command session: $(cat "$TMP/checkin.json")"
"$FERRY" mdm commands "$UDID" --json >"$TMP/commands.json"
python3 - "$TMP/commands.json" <<'PY' || fail "command results in the server's database: $(cat "$TMP/commands.json")"
import json, sys
cmds = json.load(open(sys.argv[1]))
by = {}
for c in cmds:
    by.setdefault(c["request_type"], []).append(c)
def one(rt):
    (c,) = by[rt]
    return c
for rt in ("InstallApplication", "InstallProfile", "InstallMedia", "ManagedApplicationList", "ProfileList",
           "ManagedMediaList", "DeviceInformation"):
    assert one(rt)["status"] == "Acknowledged", one(rt)
assert one("RemoveApplication")["status"] == "Error", one("RemoveApplication")
assert one("DeviceConfigured")["status"] == "Acknowledged"  # await_device_configured
mal = one("ManagedApplicationList")["result"]["ManagedApplicationList"]
assert mal["com.example.flag5"]["ManagementFlags"] == 5 and mal["com.example.flag5"]["Status"] == "Managed", mal
assert "net.whatsapp.WhatsApp" not in mal  # personal apps are not managed
pl = {p["PayloadIdentifier"]: p for p in one("ProfileList")["result"]["ProfileList"]}
assert pl["com.ferry.test.restrictions"]["IsManaged"] is True, pl
assert pl["com.ferry.mdm.enroll"]["IsManaged"] is True
books = one("ManagedMediaList")["result"]["Books"]
assert any(b.get("PersistentID") == "com.example.manual" and b["State"] == "Managed" for b in books), books
q = one("DeviceInformation")["result"]["QueryResponses"]
assert set(q) >= {"IsCloudBackupEnabled", "IsSupervised", "SerialNumber"} and q["IsSupervised"] is True, q
PY
show "$D"
[ "$(dev_py 'd["Restrictions"].get("allowCloudBackup")')" = False ] || fail "restrictions not in effect"
[ "$(dev_py '[a["ManagementFlags"] for a in d["Apps"] if a["Identifier"]=="com.example.flag5"][0]')" = 5 ] || fail "app flags"
[ -d "$D/files/AppDomain-com.example.flag5" ] || fail "the managed app has no data container"
[ -f "$D/files/BooksDomain/Managed/com.example.manual.pdf" ] || fail "the enterprise book file is missing"

# --- S2: ade-iphone with --mdm-url checks in with its own (PKCS#12) enrollment ------------------------
P="$TMP/ade-iphone"
"$FERRY" device create "$P" --template ade-iphone --seed 12 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$P"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = accepted ] || fail "ade-iphone check-in: $(cat "$TMP/checkin.json")"
grep -q '"step":"Authenticate","http_status":200' "$TMP/checkin.json" || fail "no Authenticate"
grep -q '"step":"TokenUpdate","http_status":200' "$TMP/checkin.json" || fail "no TokenUpdate"
checkin "$P" # the second time: only the command loop, as after a push
grep -q '"step":"Authenticate"' "$TMP/checkin.json" && fail "a second check-in authenticated again"
grep -q '"step":"TokenUpdate"' "$TMP/checkin.json" && fail "a second check-in sent TokenUpdate again"
[ "$(outcome)" = accepted ] || fail "second check-in: $(cat "$TMP/checkin.json")"
echo "PASS: test_checkin_D2_ade"
