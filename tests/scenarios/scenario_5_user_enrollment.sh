#!/usr/bin/env bash
# scenario_5_user_enrollment.sh: User Enrollment and account-driven Device Enrollment (issue 8,
# scenario 5). An employee's personal iPhone is enrolled by account-driven User Enrollment with their
# Managed Apple Account; the MDM server installs a managed app, and the iPhone backs up to iCloud with
# the Managed Apple Account (B11: managed app data only). On their new personal iPhone, enrolled with
# the same Managed Apple Account, the restore is offered inside the enrollment flow (U1): it is
# refused as a full device restore (R5), to another Managed Apple Account (U1) and when the user
# declines (U1); accepted, it restores the managed app's data (the app waits, managed, for the server
# to install it again) and skips the data of
# an app that is already installed, saying so (U2). When the server then ends the enrollment (401),
# every managed app goes with its data, whatever ManagementFlags says (U3, E2). The same restore and
# unenrollment are run for account-driven Device Enrollment (de-account).
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm
STORE="$TMP/icloud"

# checkin_ok DIR OUTCOME: `ferry device checkin DIR --url $BASE` ends with OUTCOME.
checkin_ok() {
    run_ok "$FERRY" device checkin "$1" --url "$BASE" --json
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["outcome"]==sys.argv[2], r' "$TMP/out" "$2" \
        || fail "check-in of $1: $(cat "$TMP/out")"
}

seed=500
for tmpl in ue-account-iphone de-account-iphone; do
    seed=$((seed + 10))
    step "$tmpl: the old iPhone, enrolled with a Managed Apple Account; the server installs an app"
    OLD="$TMP/$tmpl-old"; NEW="$TMP/$tmpl-new"
    new_device "$OLD" "$tmpl" "Old $tmpl" $seed --mdm-url "$BASE/mdm"
    new_device "$NEW" "$tmpl" "New $tmpl" $((seed + 1)) --mdm-url "$BASE/mdm"
    MAA=$(dev_get "$OLD" 'd["Accounts"]["ManagedAppleAccount"]')
    "$FERRY" device set "$NEW" managed-account "$MAA" >/dev/null # the same employee enrolls the new one
    UO=$(udid_of "$OLD"); UN=$(udid_of "$NEW")
    checkin_ok "$OLD" accepted
    checkin_ok "$NEW" accepted
    "$FERRY" mdm enqueue "$UO" InstallApplication Identifier=com.example.field ManagementFlags=0 >/dev/null
    checkin_ok "$OLD" accepted
    [ -d "$OLD/files/AppDomain-com.example.field" ] || fail "the managed app has no data on the old iPhone"
    echo "field notes" >"$OLD/files/AppDomain-com.example.field/Library/Preferences/notes.txt"

    step "$tmpl: B11: iCloud Backup with the Managed Apple Account holds managed app data only"
    run_ok "$FERRY" device icloud-backup "$OLD" --store "$STORE" --account managed --manual --kdf-dpic 1000 --json
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["verdict"]=="ok" and p["context"]["managed_apps_only"] is True and p["context"]["account"]=="managed", p["context"]' \
        "$TMP/out" || fail "B11: the backup is not a managed-apps-only backup"
    BK="$STORE/$MAA/$UO"
    [ -f "$BK/Manifest.db" ] || fail "no backup in the store at $BK"
    export FERRY_BACKUP_PASSWORD; FERRY_BACKUP_PASSWORD=$(cat "$STORE/$MAA/key")
    run_ok "$FERRY" review "$BK" --json
    python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); g={x["group"]: x for x in r["groups"]}
assert r["encrypted"] is True
assert all(not g[c]["items"] for c in ("passwords","call-history","health","website-history","wifi","photos","messages")), "B11: personal data in the backup"
apps={i["app"] for i in g["app-data"]["items"]}
assert "com.example.field" in apps and "net.whatsapp.WhatsApp" not in apps, apps' "$TMP/out" || fail "B11: the backup's content"

    step "$tmpl: U1: the restore is offered only inside the enrollment flow, to the same account"
    set +e
    "$FERRY" plan restore "$BK" --to "$NEW" --json >"$TMP/r5.json"; r5=$?
    "$FERRY" plan restore "$BK" --to "$NEW" --enrollment-account "someone.else@acme.example" --json >"$TMP/u1.json"; u1=$?
    "$FERRY" device icloud-restore "$NEW" --store "$STORE" --from "$UO" --account "$MAA" --json >/dev/null 2>"$TMP/err"; full=$?
    "$FERRY" device icloud-restore "$NEW" --store "$STORE" --from "$UO" --enrollment-flow --decline --json >/dev/null 2>&1; declined=$?
    set -e
    [ "$r5" = 5 ] && [ "$u1" = 5 ] && [ "$full" = 5 ] && [ "$declined" = 5 ] \
        || fail "U1/R5: refusals exited $r5 $u1 $full $declined, expected 5 each"
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert "R5" in p["rules"], p' "$TMP/r5.json" || fail "R5 not cited"
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert "U1" in p["rules"], p' "$TMP/u1.json" || fail "U1 not cited"
    [ -z "$(find "$NEW/files" -path '*com.example.field*' 2>/dev/null)" ] || fail "a refused restore wrote data"

    step "$tmpl: U1, U2: accepted inside the enrollment flow; installed apps are skipped and reported"
    plan_restore "$TMP/plan-u.json" "$BK" --to "$NEW" --enrollment-account "$MAA"
    "$FERRY" device show "$NEW" --json --no-files >"$TMP/new-before.json"
    run_ok "$FERRY" device icloud-restore "$NEW" --store "$STORE" --from "$UO" --enrollment-flow --json
    cp "$TMP/out" "$TMP/device-u.json"
    python3 - "$TMP/plan-u.json" "$TMP/device-u.json" "$NEW" <<'PY' || fail "U1/U2"
import json, os, sys
plan, done, ddir = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert plan["context"]["path"] == "enrollment-flow" and done["context"]["path"] == "enrollment-flow", done["context"]
items = {(i["kind"], i["item"]): i for i in plan["items"]}
assert [(i["kind"], i["item"], i["outcome"]) for i in plan["items"]] == [(i["kind"], i["item"], i["outcome"]) for i in done["items"]], "the device did not follow the plan"
f = items[("app-data", "com.example.field")]
assert f["outcome"] == "restored" and "U1" in f["rules"], f
m = items[("app-data", "com.acme.mail")]
assert m["outcome"] == "skipped" and "U2" in m["rules"], m
print("U2 (the user is told):", m["why"])
notes = os.path.join(ddir, "files", "AppDomain-com.example.field", "Library", "Preferences", "notes.txt")
assert open(notes).read() == "field notes\n", "the managed app data was not restored"
PY
    "$FERRY" device show "$NEW" --json --no-files >"$TMP/new-after.json"
    python3 - "$TMP/new-before.json" "$TMP/new-after.json" <<'PY' || fail "U1: the enrollment flow changed more than managed app data"
import json, sys
b, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["EnrollmentType"] == b["EnrollmentType"] != "none"
assert [p["PayloadIdentifier"] for p in a["Profiles"]] == [p["PayloadIdentifier"] for p in b["Profiles"]]
apps = {x["Identifier"]: x for x in a["Apps"]}
assert apps["com.example.field"]["IsManaged"] and not apps["com.example.field"]["Installed"], apps["com.example.field"]
assert apps["com.acme.mail"] == {x["Identifier"]: x for x in b["Apps"]}["com.acme.mail"], "U2: the installed app changed"
PY

    step "$tmpl: U3: the server ends the enrollment; every managed app goes with its data"
    "$FERRY" mdm block "$UN" --status 401 2>/dev/null
    checkin_ok "$NEW" unenrolled
    python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
gone={i["item"] for i in r["unenroll"] if i["kind"]=="app" and i["action"]=="remove"}
assert {"com.example.field","com.acme.mail"} <= gone, gone
assert all("U3" in i["rules"] for i in r["unenroll"] if i["kind"]=="app"), r["unenroll"]' "$TMP/out" || fail "U3: $(cat "$TMP/out")"
    [ ! -e "$NEW/files/AppDomain-com.example.field" ] || fail "U3: the restored app data stays after unenrollment"
    [ "$(dev_get "$NEW" '[a["Identifier"] for a in d["Apps"] if a.get("IsManaged")]')" = "[]" ] || fail "U3: a managed app stays"
    python3 -c '
import json,sys; b=json.load(open(sys.argv[1]))
personal=sorted(a["Identifier"] for a in b["Apps"] if not a.get("IsManaged"))
print(" ".join(personal))' "$TMP/new-before.json" >"$TMP/personal.txt"
    [ "$(dev_get "$NEW" '" ".join(sorted(a["Identifier"] for a in d["Apps"] if not a.get("IsManaged")))')" = "$(cat "$TMP/personal.txt")" ] \
        || fail "U3: a personal app was removed"
    unset FERRY_BACKUP_PASSWORD
done
echo "PASS: scenario_5_user_enrollment"
