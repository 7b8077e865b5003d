#!/usr/bin/env bash
# scenario_4_golden_master.sh: set up one iPad, restore it to a cart (issue 8, scenario 4). A
# supervised iPad is set up and backed up encrypted. `ferry review` lists the private data the
# backup holds, by category and item (X1: saved passwords, Health, website history, photos, each
# app's data ...), before it goes to other devices; the administrator leaves the saved passwords and
# the website history out of the restore (X1, `--skip passwords,website-history`). The backup is then restored onto 8
# iPads of the cart at once, each registered in Apple Business Manager: each drops the backed-up
# enrollment (D1) and enrolls by ADE at its first check-in (D2). A per-device report says whether
# each restore succeeded, how its check-in ended and whether the device agrees item by item with
# `ferry plan restore --skip passwords,website-history` for it (no saved passwords and no website
# history on any).
. "$FERRY_TESTS/scenarios/scenario_lib.sh"
start_mdm
N=8

step "the golden master iPad and a cart of $N iPads registered in Apple Business Manager"
G="$TMP/master"
new_device "$G" ade-ipad-acme "Golden Master" 401 --mdm-url "$BASE/mdm"
UG=$(udid_of "$G")
TARGETS=()
for i in $(seq 1 $N); do
    d="$TMP/cart-$i"
    new_device "$d" ade-ipad-acme "Cart iPad $i" $((410 + i)) --mdm-url "$BASE/mdm"
    register "$d" "Ferry Cart Org" --acme-hardware-bound
    TARGETS+=("$d")
done
SCN_SKIP=passwords,website-history
serve "$G" "${TARGETS[@]}"
scn_encrypt "$UG" "gm pw"
scn_backup "$UG" "$TMP/bk"

step "X1: ferry review lists the backup's private data by category and item"
FERRY_BACKUP_PASSWORD="gm pw" run_ok "$FERRY" review "$TMP/bk/$UG" --json
cp "$TMP/out" "$TMP/review.json"
FERRY_BACKUP_PASSWORD="gm pw" run_ok "$FERRY" review "$TMP/bk/$UG"
sed -n '1,12p' "$TMP/out"
grep -q "leave out with --skip passwords" "$TMP/out" || fail "X1: the review does not say how to leave passwords out"
python3 - "$TMP/review.json" "$G" <<'PY' || fail "X1: the review"
import json, os, sys
r, dev = json.load(open(sys.argv[1])), sys.argv[2]
g = {x["group"]: x for x in r["groups"]}
assert r["encrypted"] is True
assert [i["path"] for i in g["passwords"]["items"]] == ["keychain-backup.plist"], g["passwords"]
assert g["passwords"]["skippable"] and "X1" in g["passwords"]["rules"]
for cat in ("website-history", "wifi", "photos"):
    assert g[cat]["files"] > 0 and g[cat]["items"], cat
    for it in g[cat]["items"]:  # every item is a file of the device
        assert os.path.isfile(os.path.join(dev, "files", it["domain"], it["path"])), it
apps = {i["app"]: i for i in g["app-data"]["items"]}
assert apps and all(os.path.isdir(os.path.join(dev, "files", "AppDomain-" + a)) or a.startswith("group.") for a in apps), apps
assert not g["app-data"]["skippable"]
PY

step "the plan for each iPad: passwords and website history left out (X1), D1 then D2"
for d in "${TARGETS[@]}"; do
    FERRY_BACKUP_PASSWORD="gm pw" plan_restore "$d.plan.json" "$TMP/bk/$UG" --to "$d" --mdm accept --force \
        --skip "$SCN_SKIP" --assignment-url "$BASE"
done
has_rule "${TARGETS[0]}.plan.json" passwords X1
has_rule "${TARGETS[0]}.plan.json" website-history X1

step "restore onto the $N iPads at once"
UDIDS=()
for d in "${TARGETS[@]}"; do UDIDS+=("$(udid_of "$d")"); done
scn_restore_many "$TMP/bk" "$UG" "gm pw" "${UDIDS[@]}"

step "per-device report"
failed=0
printf '%-28s %-42s %-8s %-12s %s\n' device udid restore check-in "agrees with the plan"
for i in $(seq 0 $((N - 1))); do
    d=${TARGETS[$i]}; u=${UDIDS[$i]}
    r=failed; c=-; a=-
    if restore_ok "$u"; then
        r=ok
        c=$(wait_checkin "$d")
        if python3 "$SCN_DIR/check_plan.py" "$d.plan.json" <("$FERRY" device show "$d" --json) "$d" >"$TMP/seen" 2>"$TMP/why"; then
            a="yes ($(wc -w <"$TMP/seen") item outcomes)"
            grep -qw "category:passwords:skipped" "$TMP/seen" && grep -qw "category:website-history:skipped" "$TMP/seen" \
                && grep -qw "category:photos:restored" "$TMP/seen" || a="no: X1 categories $(cat "$TMP/seen")"
        else
            a="no: $(cat "$TMP/why")"
        fi
    fi
    printf '%-28s %-42s %-8s %-12s %s\n' "$(basename "$d")" "$u" "$r" "$c" "$a"
    [ "$r" = ok ] && case "$c" in enrolled|re-enrolled) true ;; *) false ;; esac && [ "${a%% *}" = yes ] || failed=$((failed + 1))
done
[ "$failed" = 0 ] || fail "$failed of $N iPads did not end as planned (report above)"
for d in "${TARGETS[@]}"; do
    [ "$(dev_get "$d" 'd["CloudConfigurationDetails"]["OrganizationName"]')" = "Ferry Cart Org" ] || fail "D2: $d"
    [ ! -e "$d/files/HomeDomain/Library/Safari/History.db" ] || fail "X1: website history on $d"
done
stop_server
echo "PASS: scenario_4_golden_master"
