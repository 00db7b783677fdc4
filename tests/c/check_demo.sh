#!/usr/bin/env bash
# Checks the output of `make demo` against the emulator: the run must show
# the emulator notice, the revoked token as invalid, rotation, exhaustion
# with the earliest reset, the retry after the wait, the summary, and never
# a token secret. Usage: check_demo.sh LOG
set -euo pipefail
log=${1:?usage: check_demo.sh LOG}
failures=0
passes=0

expect() {
    if grep -qE -- "$1" "$log"; then
        passes=$((passes + 1))
    else
        echo "missing from the demo output: $1"
        failures=$((failures + 1))
    fi
}

expect 'DEMO MODE: this run talks to the local GitHub API emulator'
expect 'Token 1 \([0-9a-f]{12}\): .*Invalid'
expect 'Found 8 repositories for octocat'
expect 'per token: .* 1/2 left, .* 1/2 left'
expect 'Could not list [a-z0-9]+: GF_STATUS_RATE_LIMITED'
expect 'Every token is spent; the earliest reset is at'
expect 'Waiting until the earliest reset'
expect 'Total: 41 repositories'
expect 'Final token status'

if grep -q 'demo_token_' "$log"; then
    echo "a token secret appears in the demo output"
    failures=$((failures + 1))
else
    passes=$((passes + 1))
fi

echo "demo: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
