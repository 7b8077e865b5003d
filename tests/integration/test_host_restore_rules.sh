# ferry restore refuses before sending anything: R3 (a backup of a newer OS onto an older device,
# also with --force: the device itself would fail), R4 (an unsupervised device's backup onto a
# supervised device with --as configurator, unless --force; with the default host type finder only a
# warning), and one refused target stops the whole restore.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3
for i in 1 2 3 4; do
    make_device "$TMP/d$i" unmanaged-personal "Rules $i" "$i"
    "$FERRY" device set "$TMP/d$i" findmy false >/dev/null
done
"$FERRY" device set "$TMP/d2" version 15.0 >/dev/null
"$FERRY" device set "$TMP/d3" supervised true >/dev/null
start_server "$TMP/d1" "$TMP/d2" "$TMP/d3" "$TMP/d4"
U1=$(udid_of "$TMP/d1"); U2=$(udid_of "$TMP/d2"); U3=$(udid_of "$TMP/d3"); U4=$(udid_of "$TMP/d4")
SNAP=$(snapshot_of "$U1")
run_ok "$FERRY" extract "$TMP/bk-$U1/$U1" "$TMP/orig"
app_file=$(cd "$TMP/orig" && find . -path './AppDomain-*' -type f | head -1)
[ -n "$app_file" ] || fail "the template has no app files"
for i in 1 2 3 4; do echo changed >"$TMP/d$i/files/$app_file"; done

restore_rc() {
    set +e
    timeout 120 "$FERRY" restore "$SNAP" --repo "$TMP/repo" --yes --reboot-wait 0 --system "$@" >"$TMP/out" 2>"$TMP/err"
    echo $? >"$TMP/rc"
    set -e
}
unchanged() { [ "$(cat "$TMP/$1/files/$app_file")" = changed ] || fail "$1 was changed by a refused restore"; }

test_R3_newer_backup_onto_older_device() {
    restore_rc --to "$U2"
    [ "$(cat "$TMP/rc")" = 5 ] || fail "R3: exit $(cat "$TMP/rc"), expected 5"
    grep -q "R3" "$TMP/err" || fail "R3 is not named: $(cat "$TMP/err")"
    unchanged d2
    restore_rc --to "$U2" --force
    [ "$(cat "$TMP/rc")" = 5 ] || fail "R3 with --force: exit $(cat "$TMP/rc"), expected 5 (the device would fail)"
    unchanged d2
}

test_R4_configurator_refuses_supervision_mismatch() {
    restore_rc --to "$U3" --as configurator
    [ "$(cat "$TMP/rc")" = 5 ] || fail "R4: exit $(cat "$TMP/rc"), expected 5"
    grep -q "R4" "$TMP/err" || fail "R4 is not named: $(cat "$TMP/err")"
    unchanged d3
    restore_rc --to "$U3" --as configurator --force
    [ "$(cat "$TMP/rc")" = 0 ] || { cat "$TMP/out" "$TMP/err" >&2; fail "R4 with --force: exit $(cat "$TMP/rc")"; }
    cmp -s "$TMP/orig/$app_file" "$TMP/d3/files/$app_file" || fail "R4 --force did not restore"
    echo changed >"$TMP/d3/files/$app_file"
}

test_R4_finder_only_warns() {
    restore_rc --to "$U3"
    [ "$(cat "$TMP/rc")" = 0 ] || { cat "$TMP/out" "$TMP/err" >&2; fail "R4 under finder: exit $(cat "$TMP/rc")"; }
    grep -q "R4" "$TMP/out" || fail "the R4 warning is not in the plan: $(cat "$TMP/out")"
    cmp -s "$TMP/orig/$app_file" "$TMP/d3/files/$app_file" || fail "the finder restore did not restore"
}

test_R3_one_refused_target_stops_all() {
    restore_rc --to "$U4" --to "$U2" --json
    [ "$(cat "$TMP/rc")" = 5 ] || fail "exit $(cat "$TMP/rc"), expected 5"
    json_check "$TMP/out" '
v = {l["udid"]: l["plan"]["verdict"] for l in lines if l["event"] == "plan"}
assert v == {"'"$U4"'": "ok", "'"$U2"'": "refused"}, v
assert not any(l["event"] in ("start", "done") for l in lines), lines
st = {d["udid"]: d["status"] for d in result["devices"]}
assert result["event"] == "result" and result["ok"] is False, result
assert st == {"'"$U4"'": "not-started", "'"$U2"'": "refused"}, st
'
    unchanged d4
    unchanged d2
}

test_R3_newer_backup_onto_older_device
test_R4_configurator_refuses_supervision_mismatch
test_R4_finder_only_warns
test_R3_one_refused_target_stops_all
stop_server
echo PASS
