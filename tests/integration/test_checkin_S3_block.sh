#!/usr/bin/env bash
# test_checkin_S3_block.sh: rejection and its limits, on loopback. S1/S2: an accepted TokenUpdate
# keeps the enrollment; an unreachable server or a 500 is not a rejection (S2, ferry choice); a 403
# com.apple.unrecognized.device on iOS 16 is not honoured (only 401 is). S3: after `ferry mdm block`
# the device (iOS 18) gets 403 and removes exactly what S3 says, compared item by item with
# `ferry plan restore ... --mdm reject-403`: the enrollment profile, the profiles the MDM installed
# (with their keychain items), the apps with ManagementFlags & 1 and their data; the management
# configuration, other managed apps (now unmanaged), enterprise books and the Wi-Fi the user joined
# stay. 401 on a profile-de device follows E1 too.
. "$(dirname "$0")/checkin_lib.sh"

D="$TMP/dev"
# --- S2: no server at all: the enrollment stays, exit 1 ---------------------------------------------
"$FERRY" device create "$D" --template ade-iphone --seed 21 --files 4 --size 32K --mdm-url http://127.0.0.1:9/mdm >/dev/null
checkin "$D" --timeout 5
[ "$CHECKIN_RC" = 1 ] && [ "$(outcome)" = kept ] || fail "unreachable server: rc $CHECKIN_RC $(cat "$TMP/checkin.json")"
show "$D"; [ "$(dev_py 'd["EnrollmentType"]')" = ade ] || fail "an unreachable server unenrolled the device"

start_server --unknown-device accept
rm -rf "$D"
"$FERRY" device create "$D" --template ade-iphone --seed 21 --files 4 --size 32K --mdm-url "$BASE/mdm" >/dev/null
make_restrictions
checkin "$D"
[ "$(outcome)" = accepted ] || fail "first check-in: $(cat "$TMP/checkin.json")"
show "$D"; UDID=$(dev_py 'd["UniqueDeviceID"]')
"$FERRY" mdm enqueue "$UDID" InstallApplication Identifier=com.example.flag5 ManagementFlags=5 >/dev/null
"$FERRY" mdm enqueue "$UDID" InstallProfile "Payload=@$TMP/restrictions.mobileconfig" >/dev/null
checkin "$D"
[ "$(outcome)" = accepted ] || fail "command check-in: $(cat "$TMP/checkin.json")"

# --- S1/S2: a restored device's TokenUpdate accepted keeps everything -------------------------------
cp -a "$D" "$TMP/before"
checkin "$D" --restored
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = accepted ] || fail "restored check-in: $(cat "$TMP/checkin.json")"
grep -q '"step":"Authenticate"' "$TMP/checkin.json" && fail "a restored device must not Authenticate (S2)"
show "$D"; [ "$(dev_py 'len(d["Profiles"])')" = "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Profiles"]))' < <("$FERRY" device show "$TMP/before" --json --no-files))" ] \
    || fail "an accepted check-in changed the profiles"

# --- S3: blocked with 403 ----------------------------------------------------------------------------
"$FERRY" plan restore --from-device "$TMP/before" --encrypted --to "$TMP/before" --mdm reject-403 --force --json >"$TMP/plan.json"
"$FERRY" mdm block "$UDID" --status 403 2>/dev/null
checkin "$D"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = unenrolled ] || fail "blocked device: rc $CHECKIN_RC $(cat "$TMP/checkin.json")"
grep -q '"result":"rejected-403"' "$TMP/checkin.json" || fail "no 403 in the report"
show "$D"
"$FERRY" device show "$TMP/before" --json --no-files >"$TMP/before.json"
python3 - "$TMP/before.json" "$TMP/show.json" "$TMP/plan.json" "$TMP/checkin.json" "$D" <<'PY' || fail "S3 check"
import json, os, sys
before, after, plan, report = (json.load(open(p)) for p in sys.argv[1:5])
ddir = sys.argv[5]
assert plan["verdict"] == "ok" and sum(i["outcome"] == "removed-after-checkin" for i in plan["items"]) >= 5, plan
assert after["EnrollmentType"] == "none", after["EnrollmentType"]
assert "CloudConfigurationDetails" in after, "S3: the management configuration stays (S1)"
bprof = {p["PayloadIdentifier"]: p for p in before["Profiles"]}
aprof = {p["PayloadIdentifier"] for p in after["Profiles"]}
for pid, p in bprof.items():
    gone = p["Source"] in ("MDM", "Enrollment")
    assert (pid not in aprof) == gone, (pid, p["Source"])
assert "com.ferry.test.restrictions" not in aprof
bapps = {a["Identifier"]: a for a in before["Apps"]}
aapps = {a["Identifier"]: a for a in after["Apps"]}
for bid, a in bapps.items():
    flag1 = a.get("IsManaged") and not a.get("DeclarationIdentifier") and (a.get("ManagementFlags", 0) & 1)
    if flag1:
        assert bid not in aapps, bid
        assert not os.path.exists(os.path.join(ddir, "files", "AppDomain-" + bid)), "data of " + bid
    elif a.get("IsManaged") and a.get("Installed", True):
        assert bid in aapps and not aapps[bid].get("IsManaged"), ("stays unmanaged", bid)
    elif not a.get("IsManaged"):
        assert bid in aapps and aapps[bid] == a, ("personal app untouched", bid)
assert "com.example.flag5" not in aapps
# books stay, enterprise ones included
assert [b.get("PersistentID") or b.get("iTunesStoreID") for b in before["Books"]] == \
       [b.get("PersistentID") or b.get("iTunesStoreID") for b in after["Books"]]
# Wi-Fi: the user's networks stay, the profile's go
bwifi = {k["acct"] for k in before["Keychain"] if k.get("svce") == "AirPort" and "PayloadUUID" not in k}
awifi = {k["acct"] for k in after["Keychain"] if k.get("svce") == "AirPort"}
assert bwifi and bwifi == awifi, (bwifi, awifi)
# no keychain item of a removed profile is left
payload_uuids = {pl["PayloadUUID"] for p in after["Profiles"] for pl in p["PayloadContent"]}
assert all(k.get("PayloadUUID") in (None, *payload_uuids) for k in after["Keychain"])
# item by item against ferry plan's prediction for the same device and a 403
for it in plan["items"]:
    kind, name, out = it["kind"], it["item"], it["outcome"]
    if kind == "profile":
        assert (name in aprof) == (out != "removed-after-checkin"), (name, out)
    elif kind == "mdm-enrollment":
        assert out == "removed-after-checkin" and after["EnrollmentType"] == "none"
    elif kind == "app" and out == "removed-after-checkin":
        assert name not in aapps, name
    elif kind == "app-data" and out == "removed-after-checkin":
        assert name not in aapps and not os.path.exists(os.path.join(ddir, "files", "AppDomain-" + name)), name
    elif kind == "app-data" and out in ("restored", "placeholder") and "S3" in it["rules"]:
        assert name in aapps and not aapps[name].get("IsManaged"), name
    elif kind == "management-configuration":
        assert out == "restored"
    elif kind == "book" and out == "restored":
        assert any(b.get("PersistentID") == name for b in after["Books"]), name
# the device's own report names S3 on every removal
for it in report["unenroll"]:
    assert "S3" in it["rules"], it
    if it["action"] == "remove":
        assert it["outcome"] == "removed-after-checkin", it
PY
"$FERRY" mdm devices --json | python3 -c '
import json,sys; d={x["udid"]: x for x in json.load(sys.stdin)}[sys.argv[1]]; assert d["last_reply"] == 403, d' "$UDID" \
    || fail "the server did not record its 403"
# S3/S7: the unenrolled device keeps its configuration and does not start ADE on its own, even assigned
"$FERRY" mdm assign "$(dev_py 'd["SerialNumber"]')" >/dev/null 2>&1
checkin "$D"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = not-enrolled ] || fail "after S3: $(cat "$TMP/checkin.json")"
grep -q '"step":"ADE"' "$TMP/checkin.json" && fail "an unenrolled device started ADE on its own"

# --- S2: a block of restored devices only (`--restore-only`) spares the ordinary check-in ------------
R="$TMP/restore-only"
"$FERRY" device create "$R" --template ade-iphone --seed 24 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$R"
show "$R"; RUDID=$(dev_py 'd["UniqueDeviceID"]')
"$FERRY" mdm block "$RUDID" --status 403 --restore-only 2>/dev/null
checkin "$R"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = accepted ] || fail "restore-only block, ordinary check-in: $(cat "$TMP/checkin.json")"
checkin "$R" --restored
[ "$(outcome)" = unenrolled ] || fail "restore-only block, restored check-in: $(cat "$TMP/checkin.json")"
grep -q '"step":"TokenUpdate","http_status":403,"result":"rejected-403","rules":"S2 S3"' "$TMP/checkin.json" \
    || fail "the restored TokenUpdate was not the rejected message: $(cat "$TMP/checkin.json")"

# --- S2: 403 on iOS 16 is not honoured; 401 is (E1 on a profile-de device) --------------------------
O="$TMP/old"
"$FERRY" device create "$O" --template ade-iphone --seed 22 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
"$FERRY" device set "$O" version 16.7 >/dev/null
checkin "$O"
show "$O"; OUDID=$(dev_py 'd["UniqueDeviceID"]')
"$FERRY" mdm block "$OUDID" --status 403 2>/dev/null
checkin "$O"
[ "$CHECKIN_RC" = 1 ] && [ "$(outcome)" = kept ] || fail "iOS 16 and 403: $(cat "$TMP/checkin.json")"
show "$O"; [ "$(dev_py 'd["EnrollmentType"]')" = ade ] || fail "iOS 16 unenrolled on a 403"
"$FERRY" mdm block "$OUDID" --status 401 2>/dev/null
checkin "$O"
[ "$(outcome)" = unenrolled ] || fail "iOS 16 and 401: $(cat "$TMP/checkin.json")"
grep -q '"result":"rejected-401"' "$TMP/checkin.json" || fail "no 401 in the report"

E="$TMP/pde"
"$FERRY" device create "$E" --template profile-de-ipad --seed 23 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$E"
[ "$(outcome)" = accepted ] || fail "profile-de check-in: $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
show "$E"; EUDID=$(dev_py 'd["UniqueDeviceID"]')
"$FERRY" mdm block "$EUDID" --status 401 2>/dev/null
checkin "$E"
[ "$(outcome)" = unenrolled ] || fail "profile-de and 401: $(cat "$TMP/checkin.json")"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
assert all("E1" in i["rules"] for i in r["unenroll"]), r["unenroll"]
assert not any(i["kind"] == "management-configuration" for i in r["unenroll"])' "$TMP/checkin.json" || fail "E1 rules"
echo "PASS: test_checkin_S3_block"
