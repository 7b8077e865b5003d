# "Set up one, restore to many": one snapshot restored onto 8 emulated devices at once (--jobs 8).
# Every device gets the snapshot's app files byte-identical and its own report line; the JSON result
# holds the 8 devices, each restored, read back and matching its plan (D rules for the 7 others).
# Then a device that refuses (Find My on: 211, not retried) fails alone while the others succeed
# (exit code 6).
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
dirs=()
for i in 1 2 3 4 5 6 7 8; do
    make_device "$TMP/d$i" unmanaged-personal "Fleet $i" "$i"
    "$FERRY" device set "$TMP/d$i" findmy false >/dev/null
    dirs+=("$TMP/d$i")
done
start_server "${dirs[@]}"
SRC=$(udid_of "$TMP/d1")
SNAP=$(snapshot_of "$SRC")
run_ok "$FERRY" extract "$TMP/bk-$SRC/$SRC" "$TMP/orig"
app_file=$(cd "$TMP/orig" && find . -path './AppDomain-*' -type f | head -1)
[ -n "$app_file" ] || fail "the template has no app files"
to=()
for i in 1 2 3 4 5 6 7 8; do to+=(--to "$(udid_of "$TMP/d$i")"); done

run_ok "$FERRY" restore "$SNAP" "${to[@]}" --repo "$TMP/repo" --yes --reboot-wait 0 --jobs 8 --system --json
cp "$TMP/out" "$TMP/events"
json_check "$TMP/events" '
assert result["event"] == "result" and result["ok"] is True, result
assert len(result["devices"]) == 8, len(result["devices"])
for d in result["devices"]:
    assert d["status"] == "ok" and d["attempts"] == 1 and d["mismatches"] == 0, d
    assert d["items"], d
plans = [l for l in lines if l["event"] == "plan"]
assert len(plans) == 8 and all(p["plan"]["verdict"] == "ok" for p in plans)
paths = sorted(p["plan"]["context"]["path"] for p in plans)
assert paths == ["different-device"] * 7 + ["same-device"], paths
done = [l for l in lines if l["event"] == "done"]
assert len(done) == 8 and all(l["restored"] for l in done), done
'
for i in 1 2 3 4 5 6 7 8; do
    cmp -s "$TMP/orig/$app_file" "$TMP/d$i/files/$app_file" || fail "device $i does not hold the snapshot's $app_file"
done

# text report: one block per device
run_ok "$FERRY" restore "$SNAP" "${to[@]}" --repo "$TMP/repo" --yes --reboot-wait 0 --jobs 8
for i in 1 2 3 4 5 6 7 8; do
    grep -q "^Device $(udid_of "$TMP/d$i"): ok" "$TMP/out" || fail "no report for device $i"
done
grep -q "8 of 8 device(s) restored as planned" "$TMP/out" || fail "no fleet summary"

# one device refuses (Find My, 211): it fails alone, once, and the others are restored
"$FERRY" device set "$TMP/d5" findmy true >/dev/null
stop_server
start_server "${dirs[@]}"
for i in 1 2 3 4 5 6 7 8; do echo changed >"$TMP/d$i/files/$app_file"; done
set +e
timeout 300 "$FERRY" restore "$SNAP" "${to[@]}" --repo "$TMP/repo" --yes --reboot-wait 0 --jobs 4 --system --json >"$TMP/events" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 6 ] || fail "a device that refuses should make the exit code 6, got $rc"
json_check "$TMP/events" '
bad = [d for d in result["devices"] if d["status"] != "ok"]
assert len(bad) == 1 and bad[0]["udid"] == "'"$(udid_of "$TMP/d5")"'", bad
assert bad[0]["deviceError"] == 211 and bad[0]["attempts"] == 1, bad[0]
assert "Find My" in bad[0]["deviceErrorText"], bad[0]
'
for i in 1 2 3 4 6 7 8; do
    cmp -s "$TMP/orig/$app_file" "$TMP/d$i/files/$app_file" || fail "device $i was not restored next to a failing one"
done
[ "$(cat "$TMP/d5/files/$app_file")" = changed ] || fail "the refusing device changed"
stop_server
echo PASS
