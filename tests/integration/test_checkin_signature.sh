#!/usr/bin/env bash
# test_checkin_signature.sh: Mdm-Signature on loopback. A copy of an enrolled device with another
# key (a forger: same UDID, different identity) is refused with 403 text/plain, which is not a
# rejection: the forger's enrollment is kept and retried (S2), the server keeps the device bound to
# its real identity, and the real device goes on checking in. An unsigned TokenUpdate for the device
# is refused the same way. Every refusal is logged by the server.
. "$(dirname "$0")/checkin_lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
start_server --unknown-device accept

D="$TMP/real"
"$FERRY" device create "$D" --template ade-ipad-acme --seed 41 --files 2 --size 16K --mdm-url "$BASE/mdm" >/dev/null
checkin "$D"
[ "$(outcome)" = accepted ] || fail "first check-in: $(cat "$TMP/checkin.json")"
show "$D"; UDID=$(dev_py 'd["UniqueDeviceID"]')

# the forger: the same device directory without the identity key; its check-in makes a new one
F="$TMP/forger"
cp -a "$D" "$F"
python3 - "$F/keychain.plist" <<'PY'
import plistlib, sys
kc = plistlib.load(open(sys.argv[1], "rb"))
n = 0
for cls in ("cert", "keys"):
    for it in kc.get(cls, []):
        if "v_Data" in it and it.get("PayloadUUID"):
            del it["v_Data"]; n += 1
assert n == 2, n
plistlib.dump(kc, open(sys.argv[1], "wb"))
PY
checkin "$F"
[ "$CHECKIN_RC" = 1 ] && [ "$(outcome)" = kept ] || fail "forged signature: rc $CHECKIN_RC $(cat "$TMP/checkin.json")"
python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
tu=[s for s in r["steps"] if s["http_status"]][0]
assert tu["step"] == "Commands" and tu["http_status"] == 403 and tu["result"] == "kept" and tu["rules"] == "S2", tu
assert r["unenroll"] == []' "$TMP/checkin.json" || fail "forged: $(cat "$TMP/checkin.json")"
show "$F"; [ "$(dev_py 'd["EnrollmentType"]')" = ade ] || fail "a refused signature unenrolled the forger"

# an unsigned TokenUpdate for the same UDID
cat >"$TMP/token.plist" <<PL
<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>
<key>MessageType</key><string>TokenUpdate</string><key>UDID</key><string>$UDID</string>
<key>Topic</key><string>com.apple.mgmt.External.x</string><key>PushMagic</key><string>M</string>
<key>Token</key><data>AAECAwQ=</data></dict></plist>
PL
code=$(curl -s -m 30 -o "$TMP/resp" -w '%{http_code}' -X PUT -H 'Content-Type: application/x-apple-aspen-mdm-checkin' \
    --data-binary "@$TMP/token.plist" "$BASE/checkin")
[ "$code" = 403 ] || fail "unsigned TokenUpdate got $code"
grep -q com.apple.unrecognized.device "$TMP/resp" && fail "an unsigned message must not unenroll the device"

# the real device is still the server's device
checkin "$D"
[ "$CHECKIN_RC" = 0 ] && [ "$(outcome)" = accepted ] || fail "real device after forgery: $(cat "$TMP/checkin.json")"
"$FERRY" mdm devices --json | python3 -c '
import json,sys; d={x["udid"]: x for x in json.load(sys.stdin)}[sys.argv[1]]
assert d["state"] == "enrolled" and d["last_reply"] == 200 and d["decision"] == 200, d' "$UDID" || fail "server state"
echo "PASS: test_checkin_signature"
