# test_emu_restore_plan.sh: a restore through idevicebackup2 applies the rules engine's plan to the
# emulated device and the device then checks in by itself (S2), end to end on loopback. An ade-iphone
# enrolled with a `ferry mdm serve` on 127.0.0.1 checks in when `ferry device serve` starts, is backed
# up encrypted, and is restored onto itself with `restore --system --settings --password`. After the
# restore and its check-in the device must agree item by item with `ferry plan restore BACKUP --to
# DEVICE --mdm accept` (S1, S5, R1: profiles, enrollment, management configuration, apps, books,
# categories, passcode), and the server must have seen the restored device's TokenUpdate. Then, with
# `ferry mdm block` (403), a second restore ends with exactly what `--mdm reject-403` predicts (S3).
# The prediction is made with --force: the device is enrolled when it is asked, and ferry restores
# onto it as onto an erased device. Last, the backup is restored onto another device, registered in
# Apple Business Manager and assigned with `ferry mdm assign`: the backup's enrollment is deleted (D1),
# profiles and apps follow D5 and D3, and the device enrolls again through the assignment service at
# its check-in (D2), again item by item as `ferry plan restore` predicts.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3

MDM_PID=
stop_mdm() {
    if [ -n "$MDM_PID" ]; then kill "$MDM_PID" 2>/dev/null || true; wait "$MDM_PID" 2>/dev/null || true; fi
    MDM_PID=
}
trap 'stop_mdm; cleanup' EXIT
export FERRY_MDM_DB="$TMP/mdm.db"
"$FERRY" mdm serve --listen 127.0.0.1:0 --db "$FERRY_MDM_DB" --ready-file "$TMP/url" --unknown-device accept \
    2>"$TMP/mdm.log" &
MDM_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/url" ] && break; sleep 0.1; done
[ -s "$TMP/url" ] || fail "ferry mdm serve did not start"
BASE=$(cat "$TMP/url")

D="$TMP/dev"
"$FERRY" device create "$D" --template ade-iphone --name "Plan Phone" --seed 31 --files 5 --size 64K \
    --mdm-url "$BASE/mdm" >/dev/null || fail "ferry device create"
"$FERRY" device set "$D" findmy false >/dev/null
U=$(udid_of "$D")

# mdm_py EXPR: evaluates EXPR over d = this device's row of `ferry mdm devices --json` (None if absent)
mdm_py() {
    "$FERRY" mdm devices --json | python3 -c "
import json,sys; d={x['udid'].lower(): x for x in json.load(sys.stdin)}.get(sys.argv[1].lower()); print($1)" "$U"
}
checkin_state() {
    python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb")).get("MDMCheckIn",{}).get(sys.argv[2]))' "$D" "$1"
}
# wait_checkin: the check-in that follows a restore has answered (bounded)
wait_checkin() {
    for _ in $(seq 1 300); do
        [ "$(checkin_state RestorePending)" = False ] && [ "$(checkin_state LastOutcome)" != restored ] && return 0
        server_alive
        sleep 0.1
    done
    fail "the device did not check in after the restore: $(checkin_state LastOutcome)"
}

# --- serve start: an enrolled device checks in (issue 7) -------------------------------------------
start_server "$D" --checkin
[ "$(mdm_py 'd and d["last_reply"]')" = 200 ] || fail "the device did not check in when serve started"
grep -q "checks in with its MDM server" "$TMP/server.log" || fail "no check-in logged at serve start"

run_ok idevicebackup2 -u $U encryption on "plan pw"
mkdir "$TMP/bk"
run_ok idevicebackup2 -u $U backup "$TMP/bk"
FERRY_BACKUP_PASSWORD="plan pw" run_ok "$FERRY" plan restore "$TMP/bk/$U" --to "$D" --mdm accept --force --json
cp "$TMP/out" "$TMP/plan-accept.json"
FERRY_BACKUP_PASSWORD="plan pw" run_ok "$FERRY" plan restore "$TMP/bk/$U" --to "$D" --mdm reject-403 --force --json
cp "$TMP/out" "$TMP/plan-403.json"
"$FERRY" device set "$D" passcode true >/dev/null

# check_plan PLAN [DIR]: the device agrees with every item of the plan
check_plan() {
    "$FERRY" device show "${2:-$D}" --json >"$TMP/show.json" || fail "ferry device show"
    python3 - "$1" "$TMP/show.json" "${2:-$D}" <<'PY'
import json, os, sys
plan, dev = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ddir = sys.argv[3]
assert plan["verdict"] == "ok", plan
prof = {p["PayloadIdentifier"]: p for p in dev["Profiles"]}
apps = {a["Identifier"]: a for a in dev["Apps"]}
books = {str(b.get("PersistentID") or b.get("iTunesStoreID")): b for b in dev["Books"]}
cats = dev["Files"]["Categories"]
kept = ("restored", "placeholder")
seen = set()
for it in plan["items"]:
    kind, name, out = it["kind"], it["item"], it["outcome"]
    seen.add((kind, out))
    where = f"{kind} {name}: plan says {out} ({it['rules']})"
    present = out in ("restored", "re-enrolled")
    if kind == "profile":
        assert (name in prof) == (out == "restored"), where
    elif kind == "mdm-enrollment":
        assert (dev["EnrollmentType"] != "none") == present, where + ", device " + dev["EnrollmentType"]
    elif kind == "management-configuration":
        assert ("CloudConfigurationDetails" in dev) == present, where
    elif kind == "app-data":
        data = os.path.isdir(os.path.join(ddir, "files", "AppDomain-" + name))
        if out == "placeholder":
            assert name in apps and not apps[name]["Installed"] and apps[name]["IsManaged"] and data, where
        elif out == "restored":
            assert data, where
        elif out == "removed-after-checkin":
            assert name not in apps and not data, where
        elif out in ("dropped", "not-in-backup"):
            assert name not in apps or not apps[name].get("IsManaged"), where
    elif kind == "book" and name in books or kind == "book" and out == "restored":
        enterprise = books.get(name, {}).get("IsEnterpriseBook", True)
        if enterprise:
            assert (name in books) == (out == "restored"), where
    elif kind == "category":
        n = cats[name]["Files"]
        if name == "passwords":  # the keychain export is imported into the keychain, not kept as a file
            n += sum(1 for k in dev["Keychain"] if k.get("Category") == "passwords")
        assert (n > 0) if out == "restored" else (n == 0), f"{where}, device has {n} files"
    elif kind == "passcode":
        assert dev["State"]["PasscodePresent"] is False, where
    elif kind == "biometrics":
        assert dev["State"]["BiometricsEnrolled"] is False, where
print(" ".join(sorted(f"{k}:{o}" for k, o in seen)))
PY
}

# --- S1, S2, S5, R1: restore onto the same device, the server accepts --------------------------------
run_ok idevicebackup2 -u $U restore --system --settings --password "plan pw" "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "restore did not succeed"
wait_checkin
[ "$(checkin_state LastOutcome)" = accepted ] || fail "the restored check-in: $(checkin_state LastOutcome)"
check_plan "$TMP/plan-accept.json" >"$TMP/seen" || fail "S1/S5: the device differs from ferry plan --mdm accept"
echo "accept: $(cat "$TMP/seen")"
for want in profile:restored mdm-enrollment:restored management-configuration:restored app-data:placeholder \
            category:restored; do
    grep -qw "$want" "$TMP/seen" || fail "the plan has no $want item: $(cat "$TMP/seen")"
done
[ "$(mdm_py 'd["last_reply"]')" = 200 ] || fail "the server did not accept the restored device"
grep -q "TokenUpdate" "$TMP/server.log" || fail "no TokenUpdate after the restore (S2)"
grep -q "Authenticate" <(sed -n '/Restore/,$p' "$TMP/server.log") && fail "a restored device must not Authenticate (S2)"

# --- S3: the server blocks the device (403): the restore, then the check-in, ends as predicted -------
"$FERRY" mdm block "$U" --status 403 2>/dev/null
run_ok idevicebackup2 -u $U restore --system --settings --password "plan pw" "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "second restore did not succeed"
wait_checkin
[ "$(checkin_state LastOutcome)" = unenrolled ] || fail "S3: the blocked device: $(checkin_state LastOutcome)"
check_plan "$TMP/plan-403.json" >"$TMP/seen" || fail "S3: the device differs from ferry plan --mdm reject-403"
echo "reject-403: $(cat "$TMP/seen")"
grep -qw "mdm-enrollment:removed-after-checkin" "$TMP/seen" || fail "S3: the plan removes no enrollment"
[ "$(mdm_py 'd["last_reply"]')" = 403 ] || fail "the server did not record its 403"

stop_server

# --- D1, D2, D3, D5: the backup onto another device, registered and assigned -------------------------
D2="$TMP/other"
make_device "$D2" unmanaged-personal "Other Phone" 32
"$FERRY" device set "$D2" findmy false >/dev/null
"$FERRY" device set "$D2" version "$(python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["Identity"]["ProductVersion"])' "$D")" >/dev/null
"$FERRY" device set "$D2" assignment ABM >/dev/null
U2=$(udid_of "$D2")
SERIAL2=$("$FERRY" device show "$D2" --json --no-files | python3 -c 'import json,sys; print(json.load(sys.stdin)["SerialNumber"])')
"$FERRY" mdm assign "$SERIAL2" --org "Ferry Test Org" >/dev/null || fail "ferry mdm assign"
# the registered device enrolls at setup (D2); serve then finds it enrolled and checks it in
run_ok timeout 60 "$FERRY" device checkin "$D2" --url "$BASE"
[ "$("$FERRY" device show "$D2" --json --no-files | python3 -c 'import json,sys; print(json.load(sys.stdin)["EnrollmentType"])')" = ade ] \
    || fail "D2: the assigned device did not enroll"
start_server "$D2" --mdm-url "$BASE"
FERRY_BACKUP_PASSWORD="plan pw" run_ok "$FERRY" plan restore "$TMP/bk/$U" --to "$D2" --mdm accept --force --json
cp "$TMP/out" "$TMP/plan-other.json"
run_ok idevicebackup2 -u $U2 restore --source $U --system --settings --password "plan pw" "$TMP/bk"
grep -q "Restore Successful" "$TMP/out" || fail "the restore onto another device did not succeed"
D_SAVED=$D; D=$D2; wait_checkin; D=$D_SAVED
check_plan "$TMP/plan-other.json" "$D2" >"$TMP/seen" || fail "D: the other device differs from ferry plan"
echo "other device: $(cat "$TMP/seen")"
grep -qw "mdm-enrollment:re-enrolled" "$TMP/seen" || fail "D2: the plan does not re-enroll: $(cat "$TMP/seen")"
python3 -c 'import plistlib,sys; s=plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["MDMCheckIn"]; assert s["LastOutcome"] == "enrolled", s' "$D2" \
    || fail "D2: the other device did not enroll at its check-in"
stop_server
stop_mdm
echo "PASS: test_emu_restore_plan"
