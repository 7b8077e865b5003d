#!/usr/bin/env bash
# test_demo.sh: `make demo` (scripts/demo.sh) end to end in a temporary lab: the MDM server and the
# assignment service, two emulated iPhones over the real protocols, ferry password/backup/restore, the
# new iPhone's check-in (D1, D2) and the report. The demo must succeed, its report must say what was
# backed up, what came back and why, with the rule IDs and the time of each step, and the HTML page
# must be written. (test_demo_report.sh renders a report in Chromium.)
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
: "${FERRY_TESTS:?FERRY_TESTS must name the tests folder}"
for t in python3 bc; do command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }; done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; tail -40 "$TMP/demo.out" >&2; exit 1; }
LAB="$TMP/lab" timeout 600 bash "$FERRY_TESTS/../scripts/demo.sh" "$FERRY" >"$TMP/demo.out" 2>&1 || fail "the demo failed"
R="$TMP/lab/report.txt"
[ -s "$R" ] && [ -s "$TMP/lab/report.html" ] || fail "no report"
grep -q '^What was backed up: [0-9]* files, .* (encrypted)' "$R" || fail "the report does not say what was backed up"
grep -q 're-enrolled .*mdm-enrollment.*\[D1,D2\]' "$R" || fail "the report does not show the re-enrollment with D1, D2"
grep -q 'placeholder .*app-data' "$R" || fail "the report does not show the managed app data (D3)"
grep -q 'restored .*book' "$R" || fail "the report does not show the enterprise book (D4)"
grep -q 'New iPhone now: enrollment ade, supervised True, passcode cleared (R1)' "$R" || fail "the new iPhone's state"
grep -q ' s  in all' "$R" || fail "no step times"
grep -q 'every item of the plan holds on the new iPhone' "$TMP/demo.out" || fail "the item-by-item check did not run"
! grep -q 'read back: mismatch' "$R" || fail "the restore's read-back found a mismatch"
echo "PASS: the demo ran in $(awk '/ s  in all/ {print $1}' "$R") s of steps"
