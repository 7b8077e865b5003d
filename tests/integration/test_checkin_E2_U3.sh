#!/usr/bin/env bash
# test_checkin_E2_U3.sh: unenrollment of the account-based enrollments on loopback. Under ue-account
# and de-account a rejected check-in removes every profile installed through the enrollment and
# every managed app with its data, whatever ManagementFlags says (E2, U3); personal apps and
# profiles the user installed stay.
. "$(dirname "$0")/checkin_lib.sh"
start_server --unknown-device accept

seed=50
for tmpl in ue-account-iphone de-account-iphone; do
    seed=$((seed + 1)) # one UDID per seed, whatever the template
    D="$TMP/$tmpl"
    "$FERRY" device create "$D" --template "$tmpl" --seed "$seed" --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
    checkin "$D"
    [ "$(outcome)" = accepted ] || fail "$tmpl first check-in: $(cat "$TMP/checkin.json") $(cat "$TMP/checkin.err")"
    show "$D"; UDID=$(dev_py 'd["UniqueDeviceID"]')
    "$FERRY" mdm enqueue "$UDID" InstallApplication Identifier=com.example.flag0 ManagementFlags=0 >/dev/null
    "$FERRY" mdm enqueue "$UDID" InstallApplication Identifier=com.example.flag4 ManagementFlags=4 >/dev/null
    checkin "$D"
    [ "$(outcome)" = accepted ] || fail "$tmpl commands: $(cat "$TMP/checkin.json")"
    "$FERRY" device show "$D" --json --no-files >"$TMP/before.json"
    "$FERRY" mdm block "$UDID" --status 401 2>/dev/null
    checkin "$D"
    [ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = unenrolled ] || fail "$tmpl 401: $(cat "$TMP/checkin.json")"
    show "$D"
    python3 - "$TMP/before.json" "$TMP/show.json" "$TMP/checkin.json" "$D" <<'PY' || fail "$tmpl: E2/U3"
import json, os, sys
before, after, rep = (json.load(open(p)) for p in sys.argv[1:4])
ddir = sys.argv[4]
assert after["EnrollmentType"] == "none"
aapps = {a["Identifier"]: a for a in after["Apps"]}
managed = [a["Identifier"] for a in before["Apps"] if a.get("IsManaged")]
assert "com.example.flag0" in managed and "com.example.flag4" in managed
for bid in managed:
    assert bid not in aapps, ("U3: a managed app stays", bid)
    assert not os.path.exists(os.path.join(ddir, "files", "AppDomain-" + bid)), ("U3: data stays", bid)
for a in before["Apps"]:
    if not a.get("IsManaged"):
        assert aapps.get(a["Identifier"]) == a, ("personal app changed", a["Identifier"])
aprof = {p["PayloadIdentifier"] for p in after["Profiles"]}
for p in before["Profiles"]:
    assert (p["PayloadIdentifier"] in aprof) == (p["Source"] not in ("MDM", "Enrollment")), p["PayloadIdentifier"]
for it in rep["unenroll"]:
    assert "E2" in it["rules"], it
    if it["kind"] == "app":
        assert it["action"] == "remove" and "U3" in it["rules"], it
PY
done
echo "PASS: test_checkin_E2_U3"
