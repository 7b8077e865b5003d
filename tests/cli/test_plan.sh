#!/usr/bin/env bash
# test_plan.sh: `ferry plan backup|restore` and `ferry device backup` on every device template. For
# each template: the backup plan (outcomes and rule IDs of chosen items), a restore onto a fresh device
# of the same template (same seed: the same device, S rules) and onto a different device (another
# seed: D rules), with the expected outcomes written out below from RULES.md, not computed by ferry;
# then `ferry device backup` writes the backup and `ferry plan restore BACKUP_DIR` must agree item
# for item with `--from-device`. Refused verdicts (B6, R3) exit 5.
. "$(dirname "$0")/lib.sh"

export FERRY_BACKUP_PASSWORD=plan-test-pw
D="$TMP/dev"
mkdir -p "$D"

cat >"$TMP/check.py" <<'PY'
# check.py JSON: every line on stdin "KIND ITEM OUTCOME RULE..." must match an item of the plan
# exactly (outcome and the set of rule IDs); "verdict V" and "path P" check the header;
# "reject KIND ITEM OUTCOME RULE..." checks the if_mdm_rejects branch.
import json, sys
plan = json.load(open(sys.argv[1]))
items = {(i["kind"], i["item"]): i for i in plan["items"]}
bad = 0
for line in sys.stdin:
    w = line.split()
    if not w:
        continue
    if w[0] == "verdict":
        got = plan["verdict"]
    elif w[0] == "path":
        got = plan.get("context", {}).get("path")
    elif w[0] == "rules":
        got = " ".join(plan.get("rules", []))
        if got != " ".join(w[1:]):
            print("refusal rules: got %r, expected %r" % (got, " ".join(w[1:]))); bad += 1
        continue
    else:
        rej = w[0] == "reject"
        if rej:
            w = w[1:]
        it = items.get((w[0], w[1]))
        if it is None:
            print("missing item %s %s" % (w[0], w[1])); bad += 1; continue
        d = it.get("if_mdm_rejects") if rej else it
        if d is None:
            print("%s %s: no if_mdm_rejects branch" % (w[0], w[1])); bad += 1; continue
        if d["outcome"] != w[2] or sorted(d["rules"]) != sorted(w[3:]):
            print("%s%s %s: got %s %s, expected %s %s" % ("reject " if rej else "", w[0], w[1], d["outcome"],
                  d["rules"], w[2], w[3:])); bad += 1
        continue
    if got != w[1]:
        print("%s: got %r, expected %r" % (w[0], got, w[1])); bad += 1
sys.exit(1 if bad else 0)
PY

# check JSON_FILE <<< expectations
check() { python3 "$TMP/check.py" "$1" || fail "plan $1 differs from the expectations above"; }

# plan JSON_OUT WANT_EXIT ferry-args...
plan() {
    local out=$1 want=$2; shift 2
    set +e
    "$FERRY" plan "$@" --json >"$out" 2>"$TMP/err"
    local got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$TMP/err" >&2; fail "ferry plan $* exited $got, expected $want"; }
}

# Items compared between --from-device and BACKUP_DIR: same items, outcomes, rules and reject branches.
same_items() {
    python3 - "$1" "$2" <<'PY' || fail "plan restore BACKUP_DIR ($2) disagrees with --from-device ($1)"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
key = lambda p: sorted((i["kind"], i["item"], i["outcome"], tuple(sorted(i["rules"])),
                        json.dumps(i.get("if_mdm_rejects"), sort_keys=True)) for i in p["items"])
ok = a["verdict"] == b["verdict"] and key(a) == key(b) and a.get("context") == b.get("context")
if not ok:
    for x, y in zip(key(a), key(b)):
        if x != y: print("from-device", x, "\nbackup     ", y)
    print(a.get("context"), b.get("context"))
sys.exit(0 if ok else 1)
PY
}

templates="ade-iphone ade-ipad-acme shared-ipad profile-de-ipad ue-account-iphone de-account-iphone
           abe-employee-iphone vision-pro-ade unmanaged-personal"
for t in $templates; do
    "$FERRY" device create "$D/$t" --template "$t" --files 4 --size 64K >/dev/null
    "$FERRY" device create "$D/fresh-$t" --template "$t" --files 4 --size 64K >/dev/null
    "$FERRY" device create "$D/other-$t" --template "$t" --files 4 --size 64K --seed 99 >/dev/null
done

# ---- backup plans ----------------------------------------------------------------------------------

# B6: forceEncryptedBackup without a backup password: the device does not start the backup (exit 5).
plan "$TMP/p.json" 5 backup "$D/ade-iphone"
check "$TMP/p.json" <<'X'
verdict refused
rules B6
X
plan "$TMP/p.json" 0 backup "$D/ade-iphone" --encrypted
check "$TMP/p.json" <<'X'
verdict ok
management-configuration management-configuration included B9
mdm-enrollment mdm-enrollment included B10
profile com.acme.wifi included B1
app-data com.acme.expenses included B1
app-data com.acme.vault excluded B8
app-data com.acme.crm excluded B8
app-data com.acme.notes excluded B8
app com.acme.mail excluded B2
book com.acme.handbook included B7
book 881256329 excluded B2 B7
category passwords included B3 X1
category photos included B1 X1
passcode passcode excluded B3
biometrics biometrics excluded B3
X
# B5: allowCloudBackup false turns iCloud Backup off.
plan "$TMP/p.json" 5 backup "$D/ade-iphone" --icloud --account personal
check "$TMP/p.json" <<'X'
verdict refused
rules B5
X
plan "$TMP/p.json" 0 backup "$D/ade-ipad-acme" --encrypted
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment included B10
app-data com.acme.crm excluded B8
category call-history skipped B3
category health skipped B3
category wifi included B3 X1
X
# B14: a host backup of a Shared iPad holds no user data; B10 unencrypted.
plan "$TMP/p.json" 0 backup "$D/shared-ipad"
check "$TMP/p.json" <<'X'
management-configuration management-configuration included B9
mdm-enrollment mdm-enrollment excluded B10
app-data edu.springfield.math excluded B8
category photos excluded B14
category wifi excluded B3
X
plan "$TMP/p.json" 0 backup "$D/shared-ipad" --encrypted
check "$TMP/p.json" <<'X'
category wifi included B3 X1
category photos excluded B14
X
# B9: a profile-based enrollment has no management configuration.
plan "$TMP/p.json" 0 backup "$D/profile-de-ipad"
check "$TMP/p.json" <<'X'
management-configuration management-configuration skipped B9
mdm-enrollment mdm-enrollment excluded B10
category passwords excluded B3
category photos included B1 X1
X
# B4: the automatic iCloud Backup waits for locked + power + Wi-Fi.
plan "$TMP/p.json" 5 backup "$D/ue-account-iphone" --icloud --account managed
check "$TMP/p.json" <<'X'
verdict refused
rules B4
X
"$FERRY" device set "$D/ue-account-iphone" power true >/dev/null
# B11: Managed Apple Account iCloud Backup of a User Enrollment: managed-app data only.
plan "$TMP/p.json" 0 backup "$D/ue-account-iphone" --icloud --account managed
check "$TMP/p.json" <<'X'
management-configuration management-configuration excluded B9 B11
mdm-enrollment mdm-enrollment excluded B10 B11
profile com.acme.vpn excluded B10 B11
app-data com.acme.mail included B11
app-data com.acme.crm excluded B8 B11
category passwords excluded B11
X
plan "$TMP/p.json" 0 backup "$D/de-account-iphone" --encrypted
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment excluded B10
app-data com.acme.mail included B1 B11 U3
X
plan "$TMP/p.json" 0 backup "$D/abe-employee-iphone" --encrypted
check "$TMP/p.json" <<'X'
management-configuration management-configuration included B9
mdm-enrollment mdm-enrollment included B10
X
plan "$TMP/p.json" 0 backup "$D/vision-pro-ade"
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment excluded B10
app-data com.acme.training included B1
app-data com.acme.viewer excluded B8
X
plan "$TMP/p.json" 0 backup "$D/unmanaged-personal"
check "$TMP/p.json" <<'X'
management-configuration management-configuration skipped B9
mdm-enrollment mdm-enrollment skipped B10
profile com.example.personal.webclip included B1
category photos excluded B1 B2
category health excluded B3
X

# ---- restore plans: same device (S) and a different device (D) ---------------------------------------

# An enrolled target is refused without --force (ferry's check: restore onto an erased device).
plan "$TMP/p.json" 5 restore --from-device "$D/ade-iphone" --encrypted --to "$D/fresh-ade-iphone"
check "$TMP/p.json" <<'X'
verdict refused
rules
X
# R3: a backup of a newer OS does not restore onto an older one.
plan "$TMP/p.json" 5 restore --from-device "$D/ade-iphone" --encrypted --to "$D/unmanaged-personal"
check "$TMP/p.json" <<'X'
verdict refused
rules R3
X

plan "$TMP/p.json" 0 restore --from-device "$D/ade-iphone" --encrypted --to "$D/fresh-ade-iphone" --force
check "$TMP/p.json" <<'X'
path same-device
management-configuration management-configuration restored S1
mdm-enrollment mdm-enrollment restored S1 S2
reject mdm-enrollment mdm-enrollment removed-after-checkin S2 S3
profile com.acme.vpn restored B1 S1
reject profile com.acme.vpn removed-after-checkin S3
app-data com.acme.expenses restored S5
app-data com.acme.vault not-in-backup B8
app-data com.acme.timesheet placeholder S5
app com.acme.timesheet reinstall-needed B2
book com.acme.handbook restored S5
book 881256329 not-in-backup B2
category health restored B3
passcode passcode not-in-backup B3 R1
X
plan "$TMP/p.json" 0 restore --from-device "$D/ade-iphone" --encrypted --to "$D/fresh-ade-iphone" --force --mdm reject-401
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment removed-after-checkin S2 S3
app-data com.acme.mail removed-after-checkin S3
app-data com.acme.expenses restored S3 S5
X
plan "$TMP/p.json" 0 restore --from-device "$D/ade-iphone" --encrypted --to "$D/other-ade-iphone" --force
check "$TMP/p.json" <<'X'
path different-device
management-configuration management-configuration re-enrolled D1 D2
mdm-enrollment mdm-enrollment re-enrolled D1 D2
profile com.acme.wifi dropped D1 E1 D5
app-data com.acme.expenses restored D3 S5
app-data com.acme.mail dropped D3
book com.acme.handbook restored D4
category passwords restored B3
X
# S4: a hardware-bound ACME identity cannot come back even on the same device: re-enrollment.
plan "$TMP/p.json" 0 restore --from-device "$D/ade-ipad-acme" --encrypted --to "$D/fresh-ade-ipad-acme" --force
check "$TMP/p.json" <<'X'
path same-device
management-configuration management-configuration re-enrolled S4 D2
mdm-enrollment mdm-enrollment re-enrolled S4 D2
profile com.acme.wifi dropped S4 E1
app-data com.acme.mail dropped S4 E1
book com.acme.handbook restored S5 E1
X
plan "$TMP/p.json" 0 restore --from-device "$D/ade-ipad-acme" --encrypted --to "$D/other-ade-ipad-acme" --force
check "$TMP/p.json" <<'X'
path different-device
mdm-enrollment mdm-enrollment re-enrolled D1 D2
app-data com.acme.mail dropped D3
book com.acme.handbook restored D4
X
plan "$TMP/p.json" 0 restore --from-device "$D/shared-ipad" --encrypted --to "$D/fresh-shared-ipad" --force
check "$TMP/p.json" <<'X'
path same-device
mdm-enrollment mdm-enrollment restored S1 S2
app-data edu.springfield.reader restored S5
app-data edu.springfield.math not-in-backup B8
X
plan "$TMP/p.json" 0 restore --from-device "$D/shared-ipad" --encrypted --to "$D/other-shared-ipad" --force
check "$TMP/p.json" <<'X'
path different-device
profile edu.springfield.webclip dropped D1 E1 D5
app-data edu.springfield.reader dropped D3
X
# B9: no management configuration to restore on a profile-based enrollment; D1 drops the enrollment.
plan "$TMP/p.json" 0 restore --from-device "$D/profile-de-ipad" --encrypted --to "$D/fresh-profile-de-ipad" --force
check "$TMP/p.json" <<'X'
management-configuration management-configuration skipped B9
mdm-enrollment mdm-enrollment restored S1 S2
profile com.acme.certificates restored B1 S1
X
plan "$TMP/p.json" 0 restore --from-device "$D/profile-de-ipad" --encrypted --to "$D/other-profile-de-ipad" --force
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment dropped D1
profile com.acme.certificates dropped D1 E1 D5
app-data com.acme.mail dropped D3
X
# R2/U3: account-based enrollments do not come back from a backup.
plan "$TMP/p.json" 0 restore --from-device "$D/ue-account-iphone" --encrypted --to "$D/fresh-ue-account-iphone" --force
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment not-in-backup B10 R2
profile com.acme.vpn dropped R2 E2
app-data com.acme.mail dropped R2 U3
category photos not-in-backup B1
X
plan "$TMP/p.json" 0 restore --from-device "$D/ue-account-iphone" --encrypted --to "$D/other-ue-account-iphone" --force
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment not-in-backup B10 D1
profile com.acme.vpn dropped D1 E2 D5
X
plan "$TMP/p.json" 0 restore --from-device "$D/de-account-iphone" --encrypted --to "$D/fresh-de-account-iphone" --force
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment not-in-backup B10 R2
app-data com.acme.mail dropped R2 U3
X
plan "$TMP/p.json" 0 restore --from-device "$D/de-account-iphone" --encrypted --to "$D/other-de-account-iphone" --force
check "$TMP/p.json" <<'X'
path different-device
profile com.acme.wifi dropped D1 E2 D5
X
# S6: Apple Business Essentials Employee plan: the enrollment does not come back.
plan "$TMP/p.json" 0 restore --from-device "$D/abe-employee-iphone" --encrypted --to "$D/fresh-abe-employee-iphone" --force
check "$TMP/p.json" <<'X'
management-configuration management-configuration restored S1
mdm-enrollment mdm-enrollment dropped S6
app-data com.acme.mail dropped S6 E1
X
plan "$TMP/p.json" 0 restore --from-device "$D/abe-employee-iphone" --encrypted --to "$D/other-abe-employee-iphone" --force
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment re-enrolled D1 D2
X
plan "$TMP/p.json" 0 restore --from-device "$D/vision-pro-ade" --encrypted --to "$D/fresh-vision-pro-ade" --force
check "$TMP/p.json" <<'X'
mdm-enrollment mdm-enrollment restored S1 S2
app-data com.acme.training restored S5
X
plan "$TMP/p.json" 0 restore --from-device "$D/vision-pro-ade" --encrypted --to "$D/other-vision-pro-ade" --force
check "$TMP/p.json" <<'X'
app-data com.acme.training dropped D3
X
plan "$TMP/p.json" 0 restore --from-device "$D/unmanaged-personal" --to "$D/fresh-unmanaged-personal"
check "$TMP/p.json" <<'X'
path same-device
mdm-enrollment mdm-enrollment skipped B10
profile com.example.personal.webclip restored B1
category health not-in-backup B3
X
plan "$TMP/p.json" 0 restore --from-device "$D/unmanaged-personal" --to "$D/other-unmanaged-personal"
check "$TMP/p.json" <<'X'
path different-device
profile com.example.personal.webclip restored B1 D5
X

# ---- a backup written by `ferry device backup` plans like --from-device -------------------------------

for t in $templates; do
    enc=--encrypted
    [ "$t" = unmanaged-personal ] || [ "$t" = profile-de-ipad ] && enc=""
    "$FERRY" device backup "$D/$t" "$TMP/bk-$t" $enc --kdf-dpic 10 >/dev/null
    udid=$(ls "$TMP/bk-$t")
    [ -f "$TMP/bk-$t/$udid/Manifest.db" ] || fail "ferry device backup $t wrote no Manifest.db"
    force=--force
    [ "$t" = unmanaged-personal ] && force=""
    for to in fresh-$t other-$t; do
        plan "$TMP/a.json" 0 restore --from-device "$D/$t" $enc --to "$D/$to" $force
        plan "$TMP/b.json" 0 restore "$TMP/bk-$t" --to "$D/$to" $force
        same_items "$TMP/a.json" "$TMP/b.json"
    done
done
# R5: a B11 backup (Managed Apple Account iCloud Backup) written by the device is refused for a full
# restore, read from the backup as from the device.
"$FERRY" device backup "$D/ue-account-iphone" "$TMP/bk-b11" --icloud --account managed --kdf-dpic 10 >/dev/null
plan "$TMP/a.json" 5 restore --from-device "$D/ue-account-iphone" --icloud --account managed --to "$D/fresh-ue-account-iphone" --force
plan "$TMP/b.json" 5 restore "$TMP/bk-b11" --to "$D/fresh-ue-account-iphone" --force
for f in a b; do check "$TMP/$f.json" <<'X'
verdict refused
rules R5 R2
X
done
# The backup is encrypted with the given password (never argv): a wrong one is exit 3.
FERRY_BACKUP_PASSWORD=wrong expect_exit 3 "$FERRY" plan restore "$TMP/bk-ade-iphone" --to "$D/fresh-ade-iphone" --force
# B6 through the device: no backup is written, exit 5, and OUT is not left behind.
expect_exit 5 "$FERRY" device backup "$D/ade-iphone" "$TMP/refused"
[ ! -e "$TMP/refused" ] || fail "a refused backup left $TMP/refused behind"
# Usage errors.
expect_exit 2 "$FERRY" plan restore --to "$D/ade-iphone"
expect_exit 2 "$FERRY" plan restore "$TMP/bk-ade-iphone" --from-device "$D/ade-iphone" --to "$D/ade-iphone"
expect_exit 2 "$FERRY" plan backup "$D/ade-iphone" --account managed
expect_exit 2 "$FERRY" plan restore "$TMP/bk-ade-iphone" --to "$D/ade-iphone" --mdm maybe
# A Finder-layout backup made by something else (the reference fixture: an unmanaged iPhone on iOS
# 17.5.1) plans as an unmanaged device's backup (D2: the ABM-registered target still enrolls with its
# own assignment); R3 refuses it onto the iOS 16 device.
if [ -d "${FERRY_FIXTURES:-/nonexistent}/reference/unencrypted" ]; then
    cp -a "$FERRY_FIXTURES/reference/unencrypted" "$TMP/ref"
    plan "$TMP/p.json" 0 restore "$TMP/ref" --to "$D/other-ade-iphone" --force
    check "$TMP/p.json" <<'X'
verdict ok
path different-device
management-configuration management-configuration re-enrolled D2
mdm-enrollment mdm-enrollment re-enrolled D2
X
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert not [i for i in p["items"] if i["kind"] in ("profile","app-data","book")]' "$TMP/p.json" \
        || fail "the reference backup should hold no profiles, managed apps or books"
    plan "$TMP/p.json" 5 restore "$TMP/ref" --to "$D/unmanaged-personal"
    check "$TMP/p.json" <<'X'
verdict refused
rules R3
X
else
    echo "SKIP (part): the shared fixtures folder is absent; the reference-backup checks did not run"
fi
# The table output says the same in words.
"$FERRY" plan backup "$D/shared-ipad" >"$TMP/t.txt"
grep -q "^Verdict: ok" "$TMP/t.txt" || fail "table output lacks the verdict"
grep -q "B14" "$TMP/t.txt" || fail "table output lacks rule B14"
echo "ok: plan backup/restore on every template, device backup agrees with --from-device"
