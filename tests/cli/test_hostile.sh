#!/usr/bin/env bash
# test_hostile.sh: hostile backups through the command line: path traversal and absolute paths in
# Manifest.db, a fileID that is not the hash of its path, a truncated blob, a Manifest.db that is not a
# database, and an absurd KDF iteration count. Each gets a clear error and a non-zero exit; nothing is
# written outside OUT; the other files are still extracted.
. "$(dirname "$0")/lib.sh"
MK="$(dirname "$FERRY")/tests/ferry_mkbackup"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed (make deps)"

BK="$TMP/clean/00008030-0000000000000001"
"$MK" "$BK" --files 60 --size 200000 --seed 3 >/dev/null
"$FERRY" verify "$BK" >/dev/null || fail "the generated backup does not verify"

sha1() { printf '%s' "$1" | sha1sum | cut -c1-40; }
copy() { rm -rf "$TMP/$1"; mkdir -p "$TMP/$1"; cp -a "$BK" "$TMP/$1/"; echo "$TMP/$1/$(basename "$BK")"; }
pick_file() { sqlite3 "$1/Manifest.db" "SELECT fileID, domain, relativePath FROM Files WHERE flags=1 ORDER BY fileID LIMIT 1"; }
outside_is_clean() {  # the folder that holds OUT must hold nothing but OUT
    local n; n=$(ls -A "$1" | grep -vx out || true)
    [ -z "$n" ] || fail "something was written next to OUT in $1: $n"
}

# 1-2. A relativePath that climbs out, and an absolute one (fileID recomputed so only the path is wrong).
for bad in "../../../escaped.txt" "/tmp/ferry-absolute-escape.txt"; do
    B=$(copy traversal)
    IFS='|' read -r fid dom rel < <(pick_file "$B")
    sqlite3 "$B/Manifest.db" "UPDATE Files SET relativePath='$bad', fileID='$(sha1 "$dom-$bad")' WHERE fileID='$fid'"
    mkdir -p "$TMP/x1"
    expect_exit 4 "$FERRY" extract "$B" "$TMP/x1/out"
    grep -q "relativePath" "$TMP/err" || fail "no message naming the relativePath: $(cat "$TMP/err")"
    outside_is_clean "$TMP/x1"
    [ ! -e /tmp/ferry-absolute-escape.txt ] || fail "absolute path written"
    [ "$(find "$TMP/x1/out" -type f | wc -l)" -gt 10 ] || fail "other files were not extracted"
    expect_exit 4 "$FERRY" ls "$B"
    rm -rf "$TMP/x1"
done

# 3. A fileID that is not sha1(domain-relativePath).
B=$(copy badid)
IFS='|' read -r fid dom rel < <(pick_file "$B")
sqlite3 "$B/Manifest.db" "UPDATE Files SET fileID='0000000000000000000000000000000000000000' WHERE fileID='$fid'"
expect_exit 4 "$FERRY" ls "$B"
grep -q "fileID" "$TMP/err" || fail "no message naming the fileID: $(cat "$TMP/err")"
expect_exit 4 "$FERRY" verify "$B"

# 4. A truncated blob: extract refuses that file (strict), verify names it, --lenient extracts the rest.
B=$(copy truncated)
fid=$(sqlite3 "$B/Manifest.db" "SELECT fileID FROM Files WHERE flags=1 ORDER BY fileID LIMIT 1 OFFSET 5")
blob="$B/${fid:0:2}/$fid"
size=$(stat -c %s "$blob")
[ "$size" -gt 2 ] || fail "picked an empty blob"
truncate -s $((size / 2)) "$blob"
mkdir -p "$TMP/x4"
expect_exit 4 "$FERRY" extract "$B" "$TMP/x4/out"
expect_exit 4 "$FERRY" verify "$B"
grep -q "$fid\|size" "$TMP/out" || fail "verify does not name the truncated file: $(cat "$TMP/out")"
"$FERRY" extract "$B" "$TMP/x4/lenient" --lenient 2>/dev/null || fail "lenient extract failed"

# 5. A Manifest.db that is not a database.
B=$(copy notadb)
head -c 8192 /dev/urandom > "$B/Manifest.db"
expect_exit 1 "$FERRY" ls "$B"
grep -qi "database\|Manifest.db" "$TMP/err" || fail "unclear message for a non-database: $(cat "$TMP/err")"

# 6. An encrypted backup whose keybag asks for 4,000,000,000 PBKDF2 iterations: refused before deriving.
export HOSTILE_PW="pw"
EB="$TMP/enc/00008030-0000000000000002"
"$MK" "$EB" --files 5 --size 1000 --seed 4 --password-env HOSTILE_PW --dpic 1000 >/dev/null
python3 - "$EB/Manifest.plist" <<'PY'
import plistlib, struct, sys
p = sys.argv[1]
m = plistlib.load(open(p, "rb"))
kb = bytearray(m["BackupKeyBag"])
i = 0
while i + 8 <= len(kb):
    tag, ln = kb[i:i+4], struct.unpack(">I", kb[i+4:i+8])[0]
    if tag == b"DPIC":
        kb[i+8:i+12] = struct.pack(">I", 4000000000)
    i += 8 + ln
m["BackupKeyBag"] = bytes(kb)
plistlib.dump(m, open(p, "wb"), fmt=plistlib.FMT_BINARY)
PY
expect_exit 1 env FERRY_BACKUP_PASSWORD=pw "$FERRY" ls "$EB"
grep -q "4000000000" "$TMP/err" || fail "the iteration cap message does not name the value: $(cat "$TMP/err")"
echo "test_hostile: all passed"
