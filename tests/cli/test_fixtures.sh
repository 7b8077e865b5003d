#!/usr/bin/env bash
# test_fixtures.sh: `ferry ls`, `extract`, `cat`, `info` and `verify` on the shared reference backups:
# every file's size and sha256 as in <UDID>.expected.json, encrypted and not; wrong passwords refused;
# the deliberately broken fixture fails verify naming the problem; the real iOS 14.3 database listed
# whole. The password never appears in argv.
. "$(dirname "$0")/lib.sh"
need_fixtures
REF="$FERRY_FIXTURES/reference"
printf 'test1234\n' > "$TMP/pw"
printf 'wrong-password\n' > "$TMP/badpw"

check_backup() {  # name, then extra ferry options
    local name=$1; shift
    local dir; dir=$(echo "$REF/$name"/*/)
    local exp; exp=$(echo "$REF/$name"/*.expected.json)
    "$FERRY" ls "$dir" --json "$@" > "$TMP/$name.ls.json" || fail "ls $name"
    "$FERRY" extract "$dir" "$TMP/$name.out" "$@" 2>"$TMP/err" || { cat "$TMP/err"; fail "extract $name"; }
    python3 "$FERRY_TESTS/cli/compare_expected.py" "$exp" "$TMP/$name.ls.json" "$TMP/$name.out"
    # the symlink stays inside OUT and points at the extracted file
    [ "$(readlink "$TMP/$name.out/HomeDomain/Library/SMS/link")" = "big.bin" ] || fail "$name: symlink not mapped inside OUT"
    "$FERRY" cat "$dir" HomeDomain Library/SMS/sixteen.bin "$@" > "$TMP/sixteen" || fail "cat $name"
    [ "$(cat "$TMP/sixteen")" = "0123456789abcdef" ] || fail "cat $name: wrong content"
    "$FERRY" info "$dir" --json "$@" | grep -q '"files":7' || fail "info $name"
}

check_backup unencrypted
check_backup encrypted_pw_test1234_dpic1000 --password-file "$TMP/pw"
FERRY_BACKUP_PASSWORD=test1234 check_backup NEGATIVE_manifest_db_without_pkcs7

# The 10,000,000-iteration keybag: derive once, save the key, reuse it (no password the second time).
DPIC10M=$(echo "$REF"/encrypted_pw_test1234_dpic10M/*/)
"$FERRY" ls "$DPIC10M" --password-file "$TMP/pw" --derived-key-file "$TMP/kek" > /dev/null || fail "ls 10M"
[ "$(stat -c %a "$TMP/kek")" = 600 ] || fail "derived key file is not 0600"
check_backup encrypted_pw_test1234_dpic10M --derived-key-file "$TMP/kek"

# Wrong passwords: exit 3, a message that says so, nothing extracted.
expect_exit 3 "$FERRY" ls "$(echo "$REF"/encrypted_pw_test1234_dpic1000/*/)" --password-file "$TMP/badpw"
grep -qi "wrong password" "$TMP/err" || fail "wrong password message: $(cat "$TMP/err")"
expect_exit 3 "$FERRY" extract "$(echo "$REF"/encrypted_pw_test1234_dpic1000/*/)" "$TMP/never" --password-file "$TMP/badpw"
[ ! -e "$TMP/never" ] || [ -z "$(ls -A "$TMP/never")" ] || fail "wrong password still extracted files"
# No password and no terminal: a clear error, not a hang.
expect_exit 3 env -u FERRY_BACKUP_PASSWORD setsid -w "$FERRY" ls "$(echo "$REF"/encrypted_pw_test1234_dpic1000/*/)" </dev/null
grep -q "password" "$TMP/err" || fail "missing password message"

# verify: clean fixtures pass, the unpadded Manifest.db fails with a message naming the problem.
"$FERRY" verify "$(echo "$REF"/unencrypted/*/)" > "$TMP/v" || { cat "$TMP/v"; fail "verify unencrypted"; }
grep -q "^OK" "$TMP/v" || fail "verify verdict: $(cat "$TMP/v")"
"$FERRY" verify "$(echo "$REF"/encrypted_pw_test1234_dpic1000/*/)" --password-file "$TMP/pw" > "$TMP/v" || { cat "$TMP/v"; fail "verify encrypted"; }
expect_exit 4 "$FERRY" verify "$(echo "$REF"/NEGATIVE_manifest_db_without_pkcs7/*/)" --password-file "$TMP/pw"
grep -qi "padd" "$TMP/out" || fail "verify NEGATIVE does not name the padding: $(cat "$TMP/out")"
grep -q "^FAILED" "$TMP/out" || fail "verify NEGATIVE verdict"

# The real iOS 14.3 database: listed whole (3,721 records), blobs mostly missing so verify fails.
REAL="$FERRY_FIXTURES/real/ios14.3-mvt-decrypted"
"$FERRY" ls "$REAL" --json > "$TMP/real.json" 2>/dev/null || fail "ls real"
python3 - "$TMP/real.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = {}
for r in d["records"]:
    kinds[r["flags"]] = kinds.get(r["flags"], 0) + 1
assert d["count"] == 3721 and d["refused"] == 0, (d["count"], d["refused"])
assert kinds == {1: 1089, 2: 2618, 4: 14}, kinds
print("ok: real iOS 14.3 database listed whole:", d["count"], "records")
PY
expect_exit 4 "$FERRY" verify "$REAL"
grep -q "missing" "$TMP/out" || fail "verify real: no missing-blob finding"
echo "test_fixtures: all passed"
