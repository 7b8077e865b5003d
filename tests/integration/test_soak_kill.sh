#!/usr/bin/env bash
# test_soak_kill.sh: five trials of the kill -9 soak (scripts/soak-kill.sh): backups and restores
# killed with SIGKILL at random moments; after each, no half-made snapshot, every snapshot verifies,
# the emulator and the device directory are fine, and the next run succeeds. The long soak (50 trials
# and more) is `scripts/soak-kill.sh --trials 50`; its figures are in docs/security.md.
set -euo pipefail
: "${FERRY:?FERRY must name the ferry binary}"
: "${FERRY_TESTS:?FERRY_TESTS must name the tests folder}"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
SOAK_FILES=600 exec bash "$FERRY_TESTS/../scripts/soak-kill.sh" --trials 5 --seed "${FERRY_SOAK_SEED:-7}"
