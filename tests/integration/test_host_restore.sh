# ferry restore onto one emulated device: the plan is shown, refused without --yes when there is no
# terminal, asked on a terminal (n: nothing, y: restored), then a full restore (--system --remove) brings every file of the snapshot back
# byte-identical and the device, read back over MCInstall and installation_proxy, matches the plan;
# --json gives JSON-lines events (plan, start, done) and a final result object; --backup DIR restores
# a plain backup folder; a device that is not attached fails before anything is sent.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_restore_lib.sh"
need_tools idevicebackup2 python3 setsid script
make_device "$TMP/dev" unmanaged-personal "Restore One"
"$FERRY" device set "$TMP/dev" findmy false >/dev/null
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
SNAP=$(snapshot_of "$U")
[ -n "$SNAP" ] || fail "no snapshot id"
run_ok "$FERRY" extract "$TMP/bk-$U/$U" "$TMP/orig"
app_file=$(cd "$TMP/orig" && find . -path './AppDomain-*' -type f | head -1)
home_file=$(cd "$TMP/orig" && find . -path './HomeDomain/*' -type f | head -1)
[ -n "$app_file" ] && [ -n "$home_file" ] || fail "the template has no app or home files"

# no terminal and no --yes: the plan is shown, nothing is restored
echo changed >"$TMP/dev/files/$app_file"
set +e
setsid "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" </dev/null >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "no terminal and no --yes exited $rc, expected 2"
grep -q "Restore plan for $U" "$TMP/out" || fail "the plan was not shown"
grep -q -- "--yes" "$TMP/err" || fail "the refusal does not name --yes: $(cat "$TMP/err")"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "a file changed without confirmation"

# on a terminal (a pseudo-terminal from script): "n" restores nothing (exit 5), "y" restores
set +e
printf 'n\n' | timeout 120 script -qec "'$FERRY' restore '$SNAP' --to '$U' --repo '$TMP/repo' --system" /dev/null >"$TMP/out"
rc=$?
set -e
[ "$rc" = 5 ] || fail "an answer n exited $rc, expected 5"
grep -q "onto 1 device(s)? \[y/N\]" "$TMP/out" || fail "no question on the terminal: $(cat "$TMP/out")"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "a file changed after the answer n"
printf 'y\n' | timeout 120 script -qec "'$FERRY' restore '$SNAP' --to '$U' --repo '$TMP/repo' --system" /dev/null >"$TMP/out" \
    || fail "the answer y did not restore: $(cat "$TMP/out")"
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "the answer y did not restore the file"

# the restore, text report (the default --reboot-wait: the emulated device stays attached, it is read
# after the wait)
echo changed >"$TMP/dev/files/$home_file"
echo extra >"$TMP/dev/files/HomeDomain/extra.txt"
run_ok "$FERRY" restore "$SNAP" --to "$U" --repo "$TMP/repo" --yes --system --settings --remove
grep -q "^Device $U: ok" "$TMP/out" || fail "no ok report: $(cat "$TMP/out")"
grep -q "1 of 1 device(s) restored as planned" "$TMP/out" || fail "no summary line"
grep -q "profile .*restored .*match" "$TMP/out" || fail "the restored profile is not compared: $(cat "$TMP/out")"
! grep -q "mismatch" "$TMP/out" || fail "a mismatch after a plain restore"
same_files "$TMP/orig" "$TMP/dev/files" || fail "restored files differ from the snapshot"
[ "$(device_state "$TMP/dev" PasscodePresent)" = False ] || fail "the passcode was not cleared (R1)"
"$FERRY" verify --repo "$TMP/repo" "$SNAP" >/dev/null || fail "the snapshot does not verify after the restore"

# --json: events and the result object, one JSON value per line
echo changed >"$TMP/dev/files/$app_file"
run_ok "$FERRY" restore --latest -u "$U" --to "$U" --repo "$TMP/repo" --yes --reboot-wait 0 --json --system --remove
cp "$TMP/out" "$TMP/events"
json_check "$TMP/events" '
ev = [l["event"] for l in lines]
assert ev[0] == "plan" and lines[0]["plan"]["verdict"] == "ok", ev
assert "start" in ev and "done" in ev, ev
assert result["event"] == "result" and result["ok"] is True, result
d = result["devices"][0]
assert d["udid"] == "'"$U"'" and d["status"] == "ok" and d["mismatches"] == 0, d
assert any(i["kind"] == "profile" and i["actual"] == "match" for i in d["items"]), d
assert all(i["actual"] in ("match", "unverified") for i in d["items"]), d
'
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "--json restore did not restore the file"

# --backup DIR: a plain Finder-layout folder
echo changed >"$TMP/dev/files/$app_file"
run_ok "$FERRY" restore --backup "$TMP/bk-$U" --to "$U" --yes --reboot-wait 0 --system
cmp -s "$TMP/orig/$app_file" "$TMP/dev/files/$app_file" || fail "--backup restore did not restore the file"

# a target that is not attached: nothing is sent to any device
echo changed >"$TMP/dev/files/$app_file"
run_fails "$FERRY" restore "$SNAP" --to "$U" --to 0000000000000000000000000000000000000000 --repo "$TMP/repo" --yes --system
grep -q "0000000000000000000000000000000000000000" "$TMP/err" || fail "the missing device is not named"
[ "$(cat "$TMP/dev/files/$app_file")" = changed ] || fail "a device was restored although another target is missing"
stop_server
echo PASS
