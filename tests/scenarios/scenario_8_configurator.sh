#!/usr/bin/env bash
# scenario_8_configurator.sh: Apple Configurator semantics (issue 8, scenario 8). The host type of a
# restore is `configurator`. A supervised ADE iPhone's backup restored onto a new iPhone (counted as
# supervised: a supervised ADE profile is assigned to it, R4) gives the managed apps' data back without
# placeholders (S5: outcome `restored`, no app ManagedButUninstalled), where the Finder host type shows
# placeholders. Its backup is refused on an unsupervised iPhone: `ferry plan
# restore --host configurator` refuses it (R4, exit 5: the host's preflight, before any transfer);
# under the finder host type the same restore is only warned about (R4) and goes ahead.
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm

step "a supervised ADE iPhone; a new iPhone assigned a supervised ADE profile; an unsupervised one"
S="$TMP/supervised"; C="$TMP/cart"; P="$TMP/personal"
new_device "$S" ade-iphone "Source iPhone" 801 --mdm-url "$BASE/mdm"
new_device "$C" unmanaged-personal "Cart iPhone" 803
new_device "$P" unmanaged-personal "Personal iPhone" 802
for d in "$C" "$P"; do "$FERRY" device set "$d" version "$(version_of "$S")" >/dev/null; done
register "$C" "Ferry Cart Org" --is-supervised
US=$(udid_of "$S"); UC=$(udid_of "$C"); UP=$(udid_of "$P")
SCN_HOST=configurator
serve "$S" "$C" "$P"
scn_encrypt "$US" "cfg pw"
scn_backup "$US" "$TMP/bk"
export FERRY_BACKUP_PASSWORD="cfg pw"
# the cart iPhone counts as supervised: its serial has a supervised ADE profile assigned (R4)
plan_restore "$TMP/plan-cfg.json" "$TMP/bk/$US" --to "$C" --mdm accept --host configurator --assignment-url "$BASE"
plan_restore "$TMP/plan-finder.json" "$TMP/bk/$US" --to "$C" --mdm accept --host finder --assignment-url "$BASE"

step "S5: under configurator the data comes back without placeholders"
python3 - "$TMP/plan-cfg.json" "$TMP/plan-finder.json" <<'PY' || fail "S5: the plans"
import json, sys
cfg, finder = (json.load(open(p)) for p in sys.argv[1:3])
assert cfg["context"]["host"] == "configurator", cfg["context"]
assert not [i for i in cfg["items"] if i["outcome"] == "placeholder"], "placeholders under configurator"
ph = [i["item"] for i in finder["items"] if i["kind"] == "app-data" and i["outcome"] == "placeholder"]
assert ph, "the finder plan shows no placeholder: nothing to compare"
c = {i["item"]: i for i in cfg["items"] if i["kind"] == "app-data"}
for name in ph:
    assert c[name]["outcome"] == "restored" and "S5" in c[name]["rules"], c[name]
print("S5: restored without placeholder:", " ".join(ph))
PY
scn_restore "$UC" "$TMP/bk" "$US" "cfg pw"
wait_checkin "$C" >/dev/null
check_plan "$TMP/plan-cfg.json" "$C"
expect_items app-data:com.acme.expenses:restored
[ "$(dev_get "$C" 'sum(a.get("Status") == "ManagedButUninstalled" for a in d["Apps"])')" = 0 ] \
    || fail "S5: an app is a placeholder after a configurator restore"
[ -d "$C/files/AppDomain-com.acme.expenses" ] || fail "S5: the app's data was not restored"

step "R4: the supervised backup on an unsupervised iPhone"
set +e
"$FERRY" plan restore "$TMP/bk/$US" --to "$P" --host configurator --json >"$TMP/r4.json"
rc=$?
set -e
[ "$rc" = 5 ] || fail "R4: ferry plan restore --host configurator exited $rc, expected 5"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["verdict"]=="refused" and "R4" in p["rules"], p' "$TMP/r4.json" \
    || fail "R4: the refusal does not cite R4"
plan_restore "$TMP/r4-finder.json" "$TMP/bk/$US" --to "$P" --host finder
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert any("R4" in w["rules"] for w in p["warnings"]), p["warnings"]' \
    "$TMP/r4-finder.json" || fail "R4: no warning under finder"
unset FERRY_BACKUP_PASSWORD
stop_server

step "R4 under finder: only a warning, the restore goes ahead (D rules)"
SCN_HOST=finder
serve "$S" "$C" "$P"
scn_restore "$UP" "$TMP/bk" "$US" "cfg pw"
wait_checkin "$P" >/dev/null
check_plan "$TMP/r4-finder.json" "$P"
stop_server
echo "PASS: scenario_8_configurator"
