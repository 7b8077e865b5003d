# ferry devices and ferry backup against emulated devices: `devices --json` shows each device's
# identity, supervision, password and encryption requirement; a first backup becomes a snapshot that
# holds exactly the device's own backup plan (check_backup) and passes `ferry verify --repo`; an
# unchanged incremental backup receives only the three manifests and shares every blob with the
# previous snapshot (hard links); --full receives everything again; `--all` backs up several devices
# at once; JSON-lines progress ends with a result object.
. "$FERRY_TESTS/integration/emu_lib.sh"
. "$FERRY_TESTS/integration/host_lib.sh"
need_tools python3
make_device "$TMP/dev" unmanaged-personal "Host Phone"
make_device "$TMP/ade" ade-iphone "ADE Phone" 2
U=$(udid_of "$TMP/dev")
A=$(udid_of "$TMP/ade")
start_server "$TMP/dev" "$TMP/ade"
R="$TMP/repo"

# devices
run_ok "$FERRY" devices --json
cp "$TMP/out" "$TMP/devices.json"
[ "$(json_get "$TMP/devices.json" 'len(d["devices"])')" = 2 ] || fail "devices --json lists $(cat "$TMP/devices.json")"
dev() { json_get "$TMP/devices.json" "[x for x in d['devices'] if x['udid']=='$1'][0]['$2']"; }
[ "$(dev "$U" name)" = "Host Phone" ] || fail "device name: $(dev "$U" name)"
[ "$(dev "$U" deviceClass)" = iPhone ] || fail "device class"
[ -n "$(dev "$U" productType)" ] && [ -n "$(dev "$U" productVersion)" ] || fail "product type or version missing"
[ "$(dev "$U" supervised)" = False ] || fail "unmanaged device shown supervised"
[ "$(dev "$A" supervised)" = True ] || fail "ADE device not shown supervised"
[ "$(dev "$U" passwordSet)" = False ] || fail "passwordSet"
[ "$(dev "$U" encryptionRequired)" = False ] || fail "encryptionRequired on an unmanaged device"
[ "$(dev "$A" encryptionRequired)" = True ] || fail "forceEncryptedBackup not shown as encryptionRequired"
[ "$(dev "$U" paired)" = True ] || fail "paired"
run_ok "$FERRY" devices
grep -q "Host Phone" "$TMP/out" && grep -q "$A" "$TMP/out" || fail "devices table: $(cat "$TMP/out")"

# several devices attached and no -u: refused with a usage error before anything
set +e; "$FERRY" backup --repo "$R" >/dev/null 2>"$TMP/err"; rc=$?; set -e
[ "$rc" = 2 ] || fail "backup without -u among 2 devices exited $rc"

# first backup
run_ok "$FERRY" backup -u "$U" --repo "$R" --json
cp "$TMP/out" "$TMP/b1.json"
[ "$(json_get "$TMP/b1.json" 'd["event"]')" = result ] || fail "no result object"
[ "$(json_get "$TMP/b1.json" 'd["devices"][0]["ok"]')" = True ] || fail "backup not ok: $(cat "$TMP/b1.json")"
grep -q '"event":"progress"' "$TMP/b1.json" || fail "no progress events"
S1=$(json_get "$TMP/b1.json" 'd["devices"][0]["snapshot"]')
first=$(json_get "$TMP/b1.json" 'd["devices"][0]["filesReceived"]')
[ "$(nsnap "$R" "$U")" = 1 ] || fail "one snapshot expected"
run_ok "$FERRY" snapshots path "$S1" --repo "$R"
P1=$(cat "$TMP/out")
check_backup "$U" "$(dirname "$P1")" "$TMP/dev"
want=$(wc -l <"$TMP/expected")
[ "$first" = $((want + 3)) ] || fail "first backup received $first files, expected $want + 3 manifests"
[ -f "$P1/Info.plist" ] || fail "no Info.plist in the snapshot"
grep -q "Host Phone" "$P1/Info.plist" || fail "Info.plist does not name the device"
run_ok "$FERRY" verify --repo "$R" --latest -u "$U"
[ "$(staging_count "$R")" = 0 ] || fail "a staging folder was left after a successful backup"

# unchanged incremental: only the manifests, every blob shared with the first snapshot
run_ok "$FERRY" backup -u "$U" --repo "$R" --json
cp "$TMP/out" "$TMP/b2.json"
[ "$(json_get "$TMP/b2.json" 'd["devices"][0]["filesReceived"]')" = 3 ] || fail "unchanged incremental received $(json_get "$TMP/b2.json" 'd["devices"][0]["filesReceived"]') files, expected 3"
[ "$(json_get "$TMP/b2.json" 'd["devices"][0]["parent"]')" = "$S1" ] || fail "the second snapshot's parent is not the first"
S2=$(json_get "$TMP/b2.json" 'd["devices"][0]["snapshot"]')
run_ok "$FERRY" snapshots path "$S2" --repo "$R"
P2=$(cat "$TMP/out")
blobs=$(find "$P2" -mindepth 2 -type f | wc -l)
shared=$(find "$P2" -mindepth 2 -type f -links +1 | wc -l)
[ "$blobs" = "$want" ] && [ "$shared" = "$blobs" ] || fail "$shared of $blobs blobs shared with the previous snapshot (expected all $want)"
while read -r f; do
    [ "$f" -ef "${P1}${f#"$P2"}" ] || fail "$f is not the same file as in the first snapshot"
done < <(find "$P2" -mindepth 2 -type f)
check_backup "$U" "$(dirname "$P2")" "$TMP/dev"

# one change: 1 blob + 3 manifests, the rest still shared
changed=$(grep '^\./AppDomain-' "$TMP/expected" | head -1)
echo "changed content" >"$TMP/dev/files/$changed"
run_ok "$FERRY" backup -u "$U" --repo "$R" --json
[ "$(json_get "$TMP/out" 'd["devices"][0]["filesReceived"]')" = 4 ] || fail "incremental after one change: $(tail -1 "$TMP/out")"
S3=$(json_get "$TMP/out" 'd["devices"][0]["snapshot"]')
run_ok "$FERRY" snapshots path "$S3" --repo "$R"
P3=$(cat "$TMP/out")
check_backup "$U" "$(dirname "$P3")" "$TMP/dev"
# the changed file's blob is new in the third snapshot; the first and second keep the old one
rel=${changed#./}
id=$(printf '%s' "${rel%%/*}-${rel#*/}" | sha1sum | cut -c1-40)
[ -f "$P1/${id:0:2}/$id" ] && [ -f "$P3/${id:0:2}/$id" ] || fail "no blob $id for $rel"
! cmp -s "$P1/${id:0:2}/$id" "$P3/${id:0:2}/$id" || fail "the changed file's blob is the same in both snapshots"
[ "$P1/${id:0:2}/$id" -ef "$P2/${id:0:2}/$id" ] || fail "the unchanged snapshots no longer share the blob"
run_ok "$FERRY" verify --repo "$R" "$S1"
grep -q "0 problems" "$TMP/out" || fail "the first snapshot no longer verifies"

# --full receives every blob again
run_ok "$FERRY" backup -u "$U" --repo "$R" --full --json
[ "$(json_get "$TMP/out" 'd["devices"][0]["filesReceived"]')" = $((want + 3)) ] || fail "--full: $(tail -1 "$TMP/out")"
[ "$(nsnap "$R" "$U")" = 4 ] || fail "four snapshots expected"

# --all: both devices at once (the ADE device needs a password: --encrypt sets it)
echo "ade secret" >"$TMP/pw"
run_ok "$FERRY" backup --all --repo "$R" --encrypt --password-file "$TMP/pw" --json
[ "$(json_get "$TMP/out" 'len(d["devices"])')" = 2 ] || fail "--all did not back up both devices"
[ "$(json_get "$TMP/out" 'all(x["ok"] for x in d["devices"])')" = True ] || fail "--all: $(tail -1 "$TMP/out")"
[ "$(json_get "$TMP/out" "[x for x in d['devices'] if x['udid']=='$A'][0]['encrypted']")" = True ] || fail "the ADE backup is not encrypted"
FERRY_BACKUP_PASSWORD="ade secret" run_ok "$FERRY" verify --repo "$R" --latest -u "$A"
grep -q "0 problems" "$TMP/out" || fail "verify of the encrypted snapshot: $(cat "$TMP/out")"
run_ok "$FERRY" snapshots --repo "$R"
[ "$(grep -c "$U" "$TMP/out")" = 5 ] && [ "$(grep -c "$A" "$TMP/out")" = 1 ] || fail "snapshots: $(cat "$TMP/out")"
stop_server
echo PASS
