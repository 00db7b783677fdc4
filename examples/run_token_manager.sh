#!/usr/bin/env bash
# run_token_manager.sh - what `make demo` runs.
#
# Runs the token-manager example. Without GITFLEET_STORE, GITHUB_TOKENS or
# GITHUB_TOKEN in the environment, it first starts the local GitHub API emulator with its demo
# tokens (one revoked, two with a quota of 2 per 8-second window) and points
# the example at it; the emulator is stopped when this script exits. With
# DEMO_STORE_TOOL set (make store-demo), the demo tokens are first saved with
# that tool into an encrypted store and the example reads them from there.
# With a token or a store set, the example runs as is against GITHUB_API_URL
# (default: GitHub).
#
# Builds nothing: the Makefile builds the example and the emulator first.
# Usage: run_token_manager.sh [EXAMPLE_BINARY] [EMULATOR_BINARY]

set -euo pipefail

example=${1:-build/token_manager}
emulator=${2:-target/debug/gitfleet-emulator}

readonly URL_TIMEOUT_S=10
readonly PREFIX="gitfleet-emulator listening on "

emulator_pid=""
workdir=""

die() {
    echo "run_token_manager.sh: $*" >&2
    exit 1
}

stop_emulator() {
    if [[ -n $emulator_pid ]]; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
        emulator_pid=""
    fi
    if [[ -n $workdir ]]; then
        rm -rf "$workdir"
        workdir=""
    fi
}

# Starts the emulator in demo mode and sets EMULATOR_URL from its first line.
start_emulator() {
    [[ -x $emulator ]] || die "no emulator at $emulator (run: cargo build -p gitfleet-emulator)"
    workdir=$(mktemp -d)
    : >"$workdir/stdout" # exists before the emulator writes to it
    "$emulator" --demo --port 0 --lifetime 300 >"$workdir/stdout" 2>"$workdir/stderr" &
    emulator_pid=$!

    local line="" tries=$((URL_TIMEOUT_S * 10))
    while ((tries-- > 0)); do
        line=$(head -n 1 "$workdir/stdout")
        if [[ $line == "$PREFIX"* ]]; then
            EMULATOR_URL=${line#"$PREFIX"}
            return 0
        fi
        if ! kill -0 "$emulator_pid" 2>/dev/null; then
            cat "$workdir/stderr" >&2
            die "the emulator exited before printing its URL"
        fi
        sleep 0.1
    done
    cat "$workdir/stderr" >&2
    die "the emulator printed no URL within ${URL_TIMEOUT_S} s"
}

main() {
    [[ -x $example ]] || die "no example binary at $example (run: make)"

    if [[ -n ${GITFLEET_STORE:-} || -n ${GITHUB_TOKENS:-} || -n ${GITHUB_TOKEN:-} ]]; then
        exec "$example"
    fi

    trap stop_emulator EXIT
    trap 'exit 130' INT TERM
    start_emulator
    echo "No GITHUB_TOKENS or GITHUB_TOKEN set: using the local GitHub API emulator"
    echo "at $EMULATOR_URL with simulated demo tokens."
    echo

    export GITHUB_API_URL=$EMULATOR_URL
    export GITHUB_TOKENS=demo_token_revoked,demo_token_alpha,demo_token_bravo
    export GITFLEET_EMULATOR=1
    export GITFLEET_MAX_WAIT=15
    if [[ -n ${DEMO_STORE_TOOL:-} ]]; then
        # `make store-demo`: keep the demo tokens in an encrypted store first,
        # then run the example from the store alone.
        export GITFLEET_STORE=$workdir/demo-tokens.gfs
        export GITFLEET_STORE_PASSWORD=demo-password
        "$DEMO_STORE_TOOL" "$GITFLEET_STORE"
        echo
        unset GITHUB_TOKENS
    fi
    "$example"
}

main "$@"
