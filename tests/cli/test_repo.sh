#!/usr/bin/env bash
# test_repo.sh: the repository commands end to end with ferry_mkbackup backups: ten imports of an
# unchanged backup cost about one on disk (du counts a hard-linked file once); `snapshots` table and
# JSON shape; `snapshots path`; `verify --repo` by id and by --latest; `prune --keep`; an unfinished
# backup refused with nothing committed; FERRY_REPO as the default; the shared reference fixtures
# imported and verified (skipped when absent).
. "$(dirname "$0")/lib.sh"
MKBACKUP="$(dirname "$FERRY")/tests/ferry_mkbackup"
[ -x "$MKBACKUP" ] || fail "ferry_mkbackup not built next to ferry ($MKBACKUP)"
UDID=00008030-00DEADBEEF000001
REPO="$TMP/repo"

"$MKBACKUP" "$TMP/src/$UDID" --files 200 --size 60000000 --seed 7 > /dev/null

for i in 1 2 3 4 5 6 7 8 9 10; do
    "$FERRY" snapshot import "$TMP/src/$UDID" --repo "$REPO" > "$TMP/imp.$i" || fail "import $i"
done
grep -q "^snapshot .* of $UDID: 200 files" "$TMP/imp.1" || fail "import output: $(cat "$TMP/imp.1")"
one=$(du -sk "$TMP/src" | cut -f1)
ten=$(du -sk "$REPO" | cut -f1)
echo "one backup: $one KiB; repository with ten snapshots: $ten KiB"
[ $((ten * 10)) -lt $((one * 13)) ] || fail "ten snapshots take $ten KiB, more than 1.3 x $one KiB"

# listing: table and JSON
"$FERRY" snapshots --repo "$REPO" > "$TMP/list"
[ "$(grep -c "$UDID" "$TMP/list")" = 10 ] || fail "table: $(cat "$TMP/list")"
"$FERRY" snapshots --repo "$REPO" --json > "$TMP/list.json"
python3 - "$TMP/list.json" "$UDID" <<'PY' || fail "snapshots --json shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["backend"] == "local" and d["count"] == 10 and len(d["snapshots"]) == 10, d
keys = {"id", "udid", "date", "backupDate", "encrypted", "files", "bytes", "addedBytes", "parent", "path"}
prev = None
for s in d["snapshots"]:
    assert set(s) == keys, set(s) ^ keys
    assert s["udid"] == sys.argv[2] and s["files"] == 200 and s["encrypted"] is False
    assert isinstance(s["bytes"], int) and s["bytes"] >= 60000000
    assert s["date"].endswith("Z") and s["path"].endswith("/" + sys.argv[2])
    assert s["parent"] == prev, (s["parent"], prev)
    if prev is not None:
        assert s["addedBytes"] < 1000000, s   # only the plists differ
        assert s["id"] > prev
    prev = s["id"]
PY
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshots"][0]["id"])' "$TMP/list.json")

# path and verify, by id and by --latest
p=$("$FERRY" snapshots path "$first" --repo "$REPO")
[ -f "$p/Manifest.db" ] || fail "snapshots path gave $p"
"$FERRY" verify --repo "$REPO" "$first" > "$TMP/v" || { cat "$TMP/v"; fail "verify --repo ID"; }
grep -q "^OK" "$TMP/v" || fail "verify verdict: $(cat "$TMP/v")"
"$FERRY" verify --repo "$REPO" --latest -u "$UDID" --quick --json > "$TMP/v.json" || fail "verify --latest"
grep -q '"verdict":"ok"' "$TMP/v.json" || fail "verify --latest json: $(cat "$TMP/v.json")"
expect_exit 1 "$FERRY" verify --repo "$REPO" 19990101T000000.000Z-00000000
grep -q "no snapshot" "$TMP/err" || fail "unknown id message: $(cat "$TMP/err")"
expect_exit 2 "$FERRY" verify --repo "$REPO" --latest
FERRY_REPO="$REPO" "$FERRY" snapshots path --latest -u "$UDID" > "$TMP/latest" || fail "FERRY_REPO default"
[ -f "$(cat "$TMP/latest")/Manifest.db" ] || fail "latest path"

# reading commands do not create a repository
expect_exit 1 "$FERRY" snapshots --repo "$TMP/typo"
grep -q "no repository" "$TMP/err" || fail "missing repo message: $(cat "$TMP/err")"
[ ! -e "$TMP/typo" ] || fail "listing created a repository"

# an unfinished backup is refused and nothing is committed
cp -a "$TMP/src/$UDID" "$TMP/unfinished"
python3 - "$TMP/unfinished/Status.plist" <<'PY'
import plistlib, sys
p = plistlib.load(open(sys.argv[1], "rb")); p["SnapshotState"] = "uploading"
plistlib.dump(p, open(sys.argv[1], "wb"), fmt=plistlib.FMT_BINARY)
PY
expect_exit 4 "$FERRY" snapshot import "$TMP/unfinished" --repo "$REPO"
grep -q "finished" "$TMP/err" || fail "unfinished message: $(cat "$TMP/err")"
[ "$("$FERRY" snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" = 10 ] \
    || fail "an unfinished import became a snapshot"

# prune
expect_exit 2 "$FERRY" prune --repo "$REPO"
expect_exit 2 "$FERRY" prune --repo "$REPO" --keep 0
"$FERRY" prune --repo "$REPO" --keep 3 --json > "$TMP/prune.json" || fail "prune"
python3 - "$TMP/prune.json" "$first" <<'PY' || fail "prune json: $(cat "$TMP/prune.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kept"] == 3 and d["removed"] == 7 and len(d["removedIds"]) == 7 and sys.argv[2] in d["removedIds"], d
PY
"$FERRY" snapshots --repo "$REPO" --json > "$TMP/list.json"
for id in $(python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(open(sys.argv[1]))["snapshots"]))' "$TMP/list.json"); do
    "$FERRY" verify --repo "$REPO" "$id" > /dev/null || fail "kept snapshot $id does not verify"
done
[ -z "$(ls -A "$REPO/.trash")" ] || fail "trash left behind"

# the shared reference fixtures, when present
if [ -d "${FERRY_FIXTURES:-/nonexistent}/reference" ]; then
    REF="$FERRY_FIXTURES/reference"
    printf 'test1234\n' > "$TMP/pw"
    "$FERRY" snapshot import "$REF/unencrypted" --repo "$TMP/r2" --verify --json > "$TMP/i.json" || fail "import fixture"
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/i.json")
    "$FERRY" verify --repo "$TMP/r2" "$id" > /dev/null || fail "verify imported fixture"
    "$FERRY" snapshots import "$REF/encrypted_pw_test1234_dpic1000" --repo "$TMP/r2" --verify \
        --password-file "$TMP/pw" > /dev/null || fail "import encrypted fixture"
    "$FERRY" verify --repo "$TMP/r2" --latest -u 00008101-00FEDCBA98765432 --password-file "$TMP/pw" > /dev/null \
        || fail "verify imported encrypted fixture"
else
    echo "SKIP (part): the shared fixtures folder is absent"
fi
echo "PASS"
