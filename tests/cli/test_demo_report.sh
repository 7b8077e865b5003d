#!/usr/bin/env bash
# test_demo_report.sh: the report of `make demo` (scripts/demo_report.py) from real ferry output: an
# emulated ADE iPhone backed up (encrypted) and the restore plan onto a second one. The text report
# names the domains and the rule IDs; the HTML page renders in headless Chromium: a screenshot is taken
# and must not be blank, and the text of the rendered page (its DOM after load) holds the sections,
# the chart and the plan items with their rules.
. "$(dirname "$0")/lib.sh"
REPORT="$FERRY_TESTS/../scripts/demo_report.py"
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (make deps installs it)"; exit 77; }

"$FERRY" device create "$TMP/old" --template ade-iphone --seed 1 --files 5 --size 64K >/dev/null
"$FERRY" device create "$TMP/new" --template ade-iphone --seed 2 --files 5 --size 64K >/dev/null
export FERRY_BACKUP_PASSWORD="demo password"
"$FERRY" device backup "$TMP/old" "$TMP/bk" --encrypted --kdf-dpic 1000 >/dev/null
BK=$(echo "$TMP"/bk/*)
"$FERRY" ls "$BK" --json >"$TMP/ls.json"
"$FERRY" plan restore "$BK" --to "$TMP/new" --force --json >"$TMP/plan.json"
"$FERRY" device show "$TMP/new" --json --no-files >"$TMP/device.json"
printf 'Back up the old iPhone\t1.50\tferry backup -u OLD\nRestore to the new iPhone\t2.25\tferry restore\n' >"$TMP/steps.tsv"
python3 "$REPORT" --steps "$TMP/steps.tsv" --ls "$TMP/ls.json" --plan "$TMP/plan.json" \
    --device "$TMP/device.json" --text "$TMP/report.txt" --html "$TMP/report.html"

grep -q '^What was backed up: [0-9]* files' "$TMP/report.txt" || fail "text report: no backup summary"
grep -q 'HomeDomain' "$TMP/report.txt" || fail "text report: no domains"
grep -q 'mdm-enrollment.*\[D1,D2\]' "$TMP/report.txt" || fail "text report: no rule IDs for the enrollment"
grep -q '3.75 s  in all' "$TMP/report.txt" || fail "text report: step times do not add up"

# Chromium as root needs --no-sandbox; a private profile folder keeps the test independent.
chrome() { timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$TMP/chrome" "$@" 2>>"$TMP/chrome.log"; }
chrome --window-size=1200,1600 --screenshot="$TMP/shot.png" "file://$TMP/report.html" >/dev/null \
    || fail "chromium could not render the report: $(tail -3 "$TMP/chrome.log")"
chrome --dump-dom "file://$TMP/report.html" >"$TMP/dom.html" || fail "chromium --dump-dom failed"
python3 - "$TMP/shot.png" "$TMP/dom.html" <<'PY' || fail "the rendered report is not what it should be"
import re, struct, sys, zlib
png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h, depth, ctype = struct.unpack(">IIBB", png[16:26])
assert w == 1200 and h == 1600, (w, h)
# Decode the image data enough to count distinct byte values: a blank page is one colour.
pos, idat = 8, b""
while pos < len(png):
    n = struct.unpack(">I", png[pos:pos + 4])[0]
    if png[pos + 4:pos + 8] == b"IDAT":
        idat += png[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
assert len(set(raw[: 200000])) > 20, "the screenshot is blank"
dom = open(sys.argv[2], encoding="utf-8").read()
text = re.sub(r"<[^>]+>", " ", dom)
for want in ("What was backed up", "What came back on the new device, and why", "Steps and their time",
             "HomeDomain", "mdm-enrollment", "re-enrolled", "D2", "Restore verdict"):
    assert want in text, "missing in the rendered page: " + want
assert "<svg" in dom and dom.count("<rect") >= 3, "no chart"
print("report renders: %dx%d screenshot, %d distinct bytes" % (w, h, len(set(raw[:200000]))))
PY
echo "ok: demo report (text and HTML rendered in Chromium)"
