#!/usr/bin/env bash
# scripts/tour.sh: `make tour`: a short tour of ferry's backup-format commands on a backup that
# ferry's own writer generates (encrypted, with a known demo password), and on the shared reference
# fixtures when they are next to this checkout.
set -euo pipefail
FERRY=$(realpath "${1:-build/ferry}")
MKBACKUP=$(dirname "$FERRY")/tests/ferry_mkbackup
LAB=${LAB:-lab}
mkdir -p "$LAB"
LAB=$(realpath "$LAB")
BK="$LAB/demo-backup/00008030-00D3A0D3A0D3A0D3"
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

rm -rf "$LAB/demo-backup" "$LAB/demo-extract"
export FERRY_DEMO_PW="correct horse battery staple"
step "Generate an encrypted backup with ferry's writer (200 files, 20 MB)" \
     "ferry_mkbackup $BK --files 200 --size 20000000 --password-env FERRY_DEMO_PW --dpic 100000"
"$MKBACKUP" "$BK" --files 200 --size 20000000 --seed 7 --password-env FERRY_DEMO_PW --dpic 100000

# The password is never an argument: here it comes from the environment.
export FERRY_BACKUP_PASSWORD="$FERRY_DEMO_PW"
step "What is this backup?" "ferry info $BK"
"$FERRY" info "$BK"
step "Its first records" "ferry ls $BK | head"
"$FERRY" ls "$BK" > "$LAB/ls.txt"
head -n 12 "$LAB/ls.txt"
step "One file, decrypted on the fly" "ferry cat $BK DOMAIN PATH"
"$FERRY" ls "$BK" --json | python3 -c '
import json,sys
r=sorted((x for x in json.load(sys.stdin)["records"] if x["flags"]==1 and x["size"]>=16), key=lambda x: x["size"])[0]
print(r["domain"]); print(r["relativePath"])' > "$LAB/pick"
DOM=$(sed -n 1p "$LAB/pick"); REL=$(sed -n 2p "$LAB/pick")
printf '(picked %s / %s)\n' "$DOM" "$REL"
"$FERRY" cat "$BK" "$DOM" "$REL" > "$LAB/cat.bin"
od -A d -t x1 "$LAB/cat.bin" | sed -n 1,4p
step "Extract everything (modes, mtimes, safe symlinks)" "ferry extract $BK $LAB/demo-extract"
"$FERRY" extract "$BK" "$LAB/demo-extract"
find "$LAB/demo-extract" -maxdepth 2 > "$LAB/tree.txt"
sed -n 1,8p "$LAB/tree.txt"
step "Verify: structure, records, blobs, and every file decrypted against its record" "ferry verify $BK"
"$FERRY" verify "$BK"
step "A damaged blob is found and named" "truncate one blob; ferry verify $BK"
victim=$(find "$BK" -path '*/[0-9a-f][0-9a-f]/*' -type f -size +1k | sort | sed -n 1p)
truncate -s 100 "$victim"
"$FERRY" verify "$BK" || echo "(exit $? : verify reports the problem)"
unset FERRY_BACKUP_PASSWORD

# Emulated managed devices and the rules engine: an employee's ADE iPhone and a new one.
rm -rf "$LAB/old-iphone" "$LAB/new-iphone" "$LAB/old-iphone-backup"
step "Two emulated ADE iPhones (supervised, forced encryption, managed apps)" \
     "ferry device create $LAB/old-iphone --template ade-iphone --seed 1"
"$FERRY" device create "$LAB/old-iphone" --template ade-iphone --seed 1
"$FERRY" device create "$LAB/new-iphone" --template ade-iphone --seed 2 --name "New iPhone"
"$FERRY" device show "$LAB/old-iphone" > "$LAB/show.txt"
sed -n 1,12p "$LAB/show.txt"
step "What would an unencrypted backup hold? (forceEncryptedBackup: refused)" "ferry plan backup $LAB/old-iphone"
"$FERRY" plan backup "$LAB/old-iphone" || echo "(exit $?: refused by the rules)"
step "An encrypted backup of the old iPhone" "ferry device backup $LAB/old-iphone $LAB/old-iphone-backup --encrypted"
export FERRY_BACKUP_PASSWORD="$FERRY_DEMO_PW"
"$FERRY" device backup "$LAB/old-iphone" "$LAB/old-iphone-backup" --encrypted --kdf-dpic 100000
step "What a restore to the new iPhone will keep, drop or re-enroll, and why" \
     "ferry plan restore $LAB/old-iphone-backup --to $LAB/new-iphone --force"
"$FERRY" plan restore "$LAB/old-iphone-backup" --to "$LAB/new-iphone" --force || echo "(exit $?)"
unset FERRY_BACKUP_PASSWORD

FIX="$(realpath -m "$(dirname "$0")/../../shared/fixtures")"
if [ -d "$FIX/reference" ]; then
    step "A wrong password is refused before any file is touched" "ferry ls reference/encrypted_pw_test1234_dpic1000"
    FERRY_BACKUP_PASSWORD=not-it "$FERRY" ls "$FIX"/reference/encrypted_pw_test1234_dpic1000/ || echo "(exit $?)"
    step "A Manifest.db written without PKCS#7 padding is readable but fails verification" \
         "ferry verify reference/NEGATIVE_manifest_db_without_pkcs7"
    FERRY_BACKUP_PASSWORD=test1234 "$FERRY" verify "$FIX"/reference/NEGATIVE_manifest_db_without_pkcs7/ || echo "(exit $?)"
    step "A real iOS 14.3 backup database (mvt's decrypted copy)" "ferry info real/ios14.3-mvt-decrypted"
    "$FERRY" info "$FIX/real/ios14.3-mvt-decrypted" 2>/dev/null
fi
printf '\nDemo done. Files are in %s.\n' "$LAB"
