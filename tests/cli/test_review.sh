#!/usr/bin/env bash
# test_review.sh: `ferry review` (X1) and the command-line side of the X1/U1 options: the review of an
# encrypted backup lists the categories item by item and says how to leave each out; an unencrypted
# backup's keychain export is listed as certificates, never passwords (B3); a wrong password is exit
# 3; `ferry plan restore --skip` marks the categories skipped (X1); bad lists and missing arguments
# are usage errors (exit 2); `ferry device icloud-backup` refusals exit 5 and write nothing (B4).
. "$(dirname "$0")/lib.sh"

D="$TMP/dev"; F="$TMP/fresh"
"$FERRY" device create "$D" --template ade-iphone --seed 91 --files 3 --size 16K >/dev/null
"$FERRY" device create "$F" --template unmanaged-personal --seed 92 --files 3 --size 16K >/dev/null
"$FERRY" device set "$F" version 18.1 >/dev/null # the backup is from 18.1 (R3)
U=$(python3 -c 'import plistlib,sys; print(plistlib.load(open(sys.argv[1]+"/device.plist","rb"))["Identity"]["UniqueDeviceID"])' "$D")
FERRY_BACKUP_PASSWORD=review-pw "$FERRY" device backup "$D" "$TMP/enc" --encrypted --kdf-dpic 10 >/dev/null

FERRY_BACKUP_PASSWORD=review-pw expect_exit 0 "$FERRY" review "$TMP/enc" --json
python3 - "$TMP/out" <<'PY' || fail "review --json: $(cat "$TMP/out")"
import json, sys
r = json.load(open(sys.argv[1]))
g = {x["group"]: x for x in r["groups"]}
assert r["encrypted"] is True and r["refused"] == 0
assert list(g) == ["passwords", "call-history", "health", "website-history", "wifi", "photos", "accounts",
                   "messages", "contacts", "certificates", "app-data"], list(g)
assert [i["path"] for i in g["passwords"]["items"]] == ["keychain-backup.plist"]
assert g["passwords"]["rules"] == ["X1", "B3"] and g["photos"]["rules"] == ["X1", "B1"]
assert all(g[c]["skippable"] for c in ("passwords", "health", "photos")) and not g["app-data"]["skippable"]
assert g["health"]["files"] == len(g["health"]["items"]) > 0
assert sum(i["bytes"] for i in g["health"]["items"]) == g["health"]["bytes"]
apps = {i["app"]: i for i in g["app-data"]["items"]}
assert "com.acme.expenses" in apps and "com.acme.vault" not in apps, apps  # B8
PY
FERRY_BACKUP_PASSWORD=review-pw expect_exit 0 "$FERRY" review "$TMP/enc"
grep -q "^passwords .*leave out with --skip passwords" "$TMP/out" || fail "the table: $(cat "$TMP/out")"
grep -q "KeychainDomain/keychain-backup.plist" "$TMP/out" || fail "the table lists no item"
FERRY_BACKUP_PASSWORD=wrong expect_exit 3 "$FERRY" review "$TMP/enc"

# B3: an unencrypted backup holds no saved passwords
"$FERRY" device create "$TMP/pde" --template profile-de-ipad --seed 93 --files 3 --size 16K >/dev/null
"$FERRY" device backup "$TMP/pde" "$TMP/plain" >/dev/null
expect_exit 0 "$FERRY" review "$TMP/plain"
grep -q "^passwords *none: an unencrypted backup never holds saved passwords (B3)" "$TMP/out" || fail "B3: $(cat "$TMP/out")"

# X1 in the plan
FERRY_BACKUP_PASSWORD=review-pw expect_exit 0 "$FERRY" plan restore "$TMP/enc/$U" --to "$F" --skip passwords,photos --json
python3 -c '
import json,sys; p=json.load(open(sys.argv[1])); c={i["item"]: i for i in p["items"] if i["kind"]=="category"}
assert c["passwords"]["outcome"] == "skipped" and "X1" in c["passwords"]["rules"], c["passwords"]
assert c["photos"]["outcome"] == "skipped" and c["health"]["outcome"] == "restored", c' "$TMP/out" || fail "X1 plan"

# usage errors
expect_exit 2 "$FERRY" review
expect_exit 2 "$FERRY" review "$TMP/enc" "$TMP/plain"
expect_exit 2 "$FERRY" plan restore "$TMP/enc/$U" --to "$F" --skip passwords,,wifi
expect_exit 2 "$FERRY" plan restore "$TMP/enc/$U" --to "$F" --skip app-data
expect_exit 2 "$FERRY" device serve "$D" --listen "UNIX:$TMP/s.sock" --restore-host itunes
expect_exit 2 "$FERRY" device icloud-backup "$F"
expect_exit 2 "$FERRY" device icloud-restore "$F" --store "$TMP/icloud"

# B4 through the device: not on power, the automatic backup waits; nothing is written
"$FERRY" device set "$F" power false >/dev/null
expect_exit 5 "$FERRY" device icloud-backup "$F" --store "$TMP/icloud" --kdf-dpic 10
grep -q "\[B4\]" "$TMP/err" || fail "B4 not cited: $(cat "$TMP/err")"
[ ! -e "$TMP/icloud" ] || fail "a refused iCloud Backup wrote to the store"
expect_exit 0 "$FERRY" device icloud-backup "$F" --store "$TMP/icloud" --kdf-dpic 10 --manual
grep -q "(encrypted)" "$TMP/out" || fail "icloud-backup: $(cat "$TMP/out")"
echo "PASS: test_review"
