#!/usr/bin/env bash
# scenario_6_icloud.sh: iCloud Backup (issue 8, scenario 6), with the simulated iCloud store of
# `ferry device icloud-backup`. A personal iPhone backs itself up only when the rules let it: the
# automatic backup waits until the device is locked, on power and on Wi-Fi and iCloud Backup is on;
# "Back Up Now" needs only Wi-Fi; no signed-in account, no backup (B4). A supervised iPhone whose
# restrictions set allowCloudBackup to false never backs up to iCloud (B5). Every iCloud Backup is
# encrypted (B4) and the device records LastCloudBackupDate, which the MDM server reads with
# DeviceInformation. A backup with the Managed Apple Account of a User Enrollment holds only managed
# app data and cannot be used for a full restore (B11, R5). Last, a new iPhone signed in to the same
# account is erased and restored from the iCloud Backup, item by item as `ferry plan restore` says
# (photos stay in iCloud Photos, B1; R1: a new passcode).
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm
STORE="$TMP/icloud"

# icloud_backup DIR EXIT [options]: `ferry device icloud-backup` exits EXIT; its output in $TMP/out.
icloud_backup() {
    local dir=$1 want=$2; shift 2
    set +e
    timeout 120 "$FERRY" device icloud-backup "$dir" --store "$STORE" --kdf-dpic 1000 "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    set -e
    [ "$rc" = "$want" ] || fail "icloud-backup $dir $*: exit $rc, expected $want: $(cat "$TMP/out" "$TMP/err")"
}
refused_by() { grep -q "\[$1\]" "$TMP/err" || fail "the refusal does not cite $1: $(cat "$TMP/err")"; }

step "B4: a personal iPhone, locked and on Wi-Fi but not on power"
P="$TMP/personal"
new_device "$P" unmanaged-personal "Personal iPhone" 601
"$FERRY" device set "$P" power false >/dev/null
UP=$(udid_of "$P"); ACCT=$(dev_get "$P" 'd["Accounts"]["PersonalAppleAccount"]')
icloud_backup "$P" 5; refused_by B4
[ ! -e "$STORE/$ACCT/$UP" ] || fail "B4: a refused backup wrote to the store"
"$FERRY" device set "$P" power true >/dev/null
"$FERRY" device set "$P" icloud-backup false >/dev/null
icloud_backup "$P" 5; refused_by B4 # iCloud Backup turned off in Settings
"$FERRY" device set "$P" icloud-backup true >/dev/null
icloud_backup "$P" 0 # locked, on power, on Wi-Fi: the automatic backup runs
[ "$(dev_get "$P" 'd["State"]["LastCloudBackupDate"] is not None')" = True ] || fail "B4: no LastCloudBackupDate"
python3 -c 'import plistlib,sys; assert plistlib.load(open(sys.argv[1],"rb"))["IsEncrypted"] is True' "$STORE/$ACCT/$UP/Manifest.plist" \
    || fail "B4: the iCloud Backup is not encrypted"
"$FERRY" device set "$P" wifi false >/dev/null
icloud_backup "$P" 5 --manual; refused_by B4 # Back Up Now still needs Wi-Fi
"$FERRY" device set "$P" wifi true >/dev/null
"$FERRY" device set "$P" locked false >/dev/null
"$FERRY" device set "$P" power false >/dev/null
icloud_backup "$P" 0 --manual # Back Up Now: Wi-Fi is enough
icloud_backup "$P" 5 --account managed; refused_by B4 # no Managed Apple Account signed in

step "B5: allowCloudBackup = false on a supervised iPhone"
S="$TMP/supervised"
new_device "$S" ade-iphone "Supervised iPhone" 602 --mdm-url "$BASE/mdm"
[ "$(dev_get "$S" 'd["Restrictions"]["allowCloudBackup"]')" = False ] || fail "the template does not restrict iCloud Backup"
LAST_S=$(dev_get "$S" 'd["State"]["LastCloudBackupDate"]')
icloud_backup "$S" 5 --manual; refused_by B5
[ "$(dev_get "$S" 'd["State"]["LastCloudBackupDate"]')" = "$LAST_S" ] || fail "B5: a refused backup changed LastCloudBackupDate"

step "B11, R5: a User Enrollment's backup with the Managed Apple Account; the MDM server sees it"
E="$TMP/byod"
new_device "$E" ue-account-iphone "BYOD iPhone" 603 --mdm-url "$BASE/mdm"
UE=$(udid_of "$E"); MAA=$(dev_get "$E" 'd["Accounts"]["ManagedAppleAccount"]')
run_ok "$FERRY" device checkin "$E" --url "$BASE"
icloud_backup "$E" 0 --manual --account managed --json
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["context"]["managed_apps_only"] is True, p["context"]' "$TMP/out" \
    || fail "B11: not a managed-apps-only backup"
"$FERRY" mdm enqueue "$UE" DeviceInformation Queries=IsCloudBackupEnabled,LastCloudBackupDate >/dev/null
run_ok "$FERRY" device checkin "$E" --url "$BASE"
WHEN=$(dev_get "$E" 'd["State"]["LastCloudBackupDate"]')
"$FERRY" mdm commands "$UE" --json | python3 -c '
import json,sys
(c,) = [c for c in json.load(sys.stdin) if c["request_type"] == "DeviceInformation"]
q = c["result"]["QueryResponses"]
assert q["IsCloudBackupEnabled"] is True and q["LastCloudBackupDate"] == sys.argv[1] != "2024-12-31T00:00:00Z", q' "$WHEN" \
    || fail "B4: the MDM server does not see the new LastCloudBackupDate"
F="$TMP/fresh"
new_device "$F" unmanaged-personal "Fresh iPhone" 604
"$FERRY" device set "$F" version "$(version_of "$E")" >/dev/null
set +e
"$FERRY" device icloud-restore "$F" --store "$STORE" --from "$UE" --account "$MAA" >/dev/null 2>"$TMP/err"; rc=$?
set -e
[ "$rc" = 5 ] && grep -q "R5" "$TMP/err" || fail "R5: a B11 backup was not refused for a full restore (exit $rc): $(cat "$TMP/err")"

step "erase and restore: a new iPhone signed in to the same Apple Account"
N="$TMP/new"
new_device "$N" unmanaged-personal "New iPhone" 605
"$FERRY" device set "$N" version "$(version_of "$P")" >/dev/null
"$FERRY" device set "$N" personal-account "$ACCT" >/dev/null
FERRY_BACKUP_PASSWORD=$(cat "$STORE/$ACCT/key") plan_restore "$TMP/plan.json" "$STORE/$ACCT/$UP" --to "$N"
run_ok "$FERRY" device icloud-restore "$N" --store "$STORE" --from "$UP" --json
check_plan "$TMP/plan.json" "$N"
expect_items category:photos:not-in-backup category:passwords:restored passcode:not-in-backup
has_rule "$TMP/plan.json" photos B1
cmp -s "$P/files/HomeDomain/Library/SMS/sms.db" "$N/files/HomeDomain/Library/SMS/sms.db" || fail "the messages are not the backup's"
[ -z "$(find "$N/files/CameraRollDomain" -type f 2>/dev/null)" ] || fail "erase: the new iPhone kept its own photos"
echo "PASS: scenario_6_icloud"
