# mobilebackup2 incremental backups with the emulator's stat cache (mb2_backup.c): a file whose stat
# is unchanged is recorded without being re-read, and the backup is still the one a full build makes:
# a file rewritten with the same size and its old mtime (only its ctime moves) is re-sent with its new
# bytes, and the Manifest.db rows of the incremental backup equal those of a fresh offline backup.
. "$FERRY_TESTS/integration/emu_lib.sh"
need_tools idevicebackup2 python3
make_device "$TMP/dev" unmanaged-personal "Stat Phone"
U=$(udid_of "$TMP/dev")
start_server "$TMP/dev"
mkdir "$TMP/bk"
received() { grep -ao "Received [0-9]* files" "$TMP/out" | tail -1 | awk '{print $2}'; }
rows() {
    python3 -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute("select fileID,domain,relativePath,flags,hex(file) from Files order by fileID"): print(*r)' "$1"
}

run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
grep -q "Backup Successful" "$TMP/out" || fail "first backup did not succeed"
check_backup "$U" "$TMP/bk" "$TMP/dev"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
[ "$(received)" = 3 ] || fail "unchanged incremental backup sent $(received) files, expected 3"
python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); sys.exit(0 if any(len(x.split(" ")) > 2 for x in d.get("Blobs", "").splitlines()) else 1)' \
    "$TMP/mux.sock.d/$U/last_backup.plist" || fail "the device kept no stat cache of its last backup"

# same size, same mtime, other bytes: only the ctime tells
chg=$(grep '^\./HomeDomain/' "$TMP/expected" | head -1)
[ -n "$chg" ] || fail "no home file to change"
p="$TMP/dev/files/$chg"
size=$(stat -c %s "$p")
[ "$size" -gt 0 ] || fail "$chg is empty"
cp -p "$p" "$TMP/ref"
head -c "$size" /dev/urandom >"$p"
touch -r "$TMP/ref" "$p"
cmp -s "$p" "$TMP/ref" && fail "the rewrite did not change $chg"
run_ok idevicebackup2 -u "$U" backup "$TMP/bk"
[ "$(received)" = 4 ] || fail "a same-size same-mtime rewrite: sent $(received) files, expected 4"
check_backup "$U" "$TMP/bk" "$TMP/dev"
id=$(python3 -c 'import hashlib,sys; d,r=sys.argv[1].split("/",2)[1:]; print(hashlib.sha1((d+"-"+r).encode()).hexdigest())' "$chg")
cmp -s "$p" "$TMP/bk/$U/${id:0:2}/$id" || fail "the blob of $chg does not hold its new bytes"

# the rows of the stat-cached incremental backup are those of a backup built from scratch
stop_server
run_ok "$FERRY" device backup "$TMP/dev" "$TMP/offline"
rows "$TMP/bk/$U/Manifest.db" >"$TMP/rows.inc"
rows "$TMP/offline/$U/Manifest.db" >"$TMP/rows.full"
[ -s "$TMP/rows.full" ] || fail "the offline backup has no rows"
diff -q "$TMP/rows.inc" "$TMP/rows.full" >/dev/null || fail "Manifest.db rows differ from a fresh backup: $(diff "$TMP/rows.inc" "$TMP/rows.full" | head -5)"
echo PASS
