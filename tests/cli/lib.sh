# lib.sh: shared helpers for the command-line tests (sourced). FERRY is the binary under test,
# FERRY_FIXTURES the shared fixtures folder; a test that needs fixtures exits 77 (skipped) without them.
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
: "${FERRY_TESTS:?FERRY_TESTS must name the tests folder}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-cli-XXXXXX")
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
need_fixtures() {
    if [ ! -d "${FERRY_FIXTURES:-/nonexistent}/reference" ]; then
        echo "SKIP: the shared fixtures folder is absent (${FERRY_FIXTURES:-unset})"
        exit 77
    fi
}
# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE; its stderr is kept in $TMP/err.
expect_exit() {
    local want=$1; shift
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$TMP/err" >&2; fail "'$*' exited $got, expected $want"; }
}
