#!/usr/bin/env bash
# run.sh - runs the C test of the header (tests/c/test_abi.c) against the
# GitHub API emulator.
#
# Starts two emulators: one answering at once, with the tokens the test uses,
# and a slow one (every answer delayed) for the cancel and free-in-flight
# tests. Runs the test binary with both URLs, stops the emulators on exit,
# and exits with the test's status.
#
# Usage: tests/c/run.sh [TEST_BINARY] [EMULATOR_BINARY]
#   defaults: build/test_abi, target/debug/gitfleet-emulator
# Set TEST_WRAPPER to run the test under a tool, e.g.
#   TEST_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite \
#                 --error-exitcode=99" tests/c/run.sh

set -euo pipefail

test_binary=${1:-build/test_abi}
emulator=${2:-target/debug/gitfleet-emulator}

readonly URL_TIMEOUT_S=10
readonly PREFIX="gitfleet-emulator listening on "

workdir=$(mktemp -d)
emulator_pids=()

die() {
    echo "run.sh: $*" >&2
    exit 1
}

cleanup() {
    local status=$?
    local pid
    for pid in "${emulator_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$workdir"
    exit "$status"
}

# start_emulator NAME ARGS... - starts an emulator and sets EMULATOR_URL.
start_emulator() {
    local name=$1
    shift
    : >"$workdir/$name.out" # exists before the emulator writes to it
    "$emulator" "$@" >"$workdir/$name.out" 2>"$workdir/$name.err" &
    local pid=$!
    emulator_pids+=("$pid")

    local line="" tries=$((URL_TIMEOUT_S * 10))
    while ((tries-- > 0)); do
        line=$(head -n 1 "$workdir/$name.out")
        if [[ $line == "$PREFIX"* ]]; then
            EMULATOR_URL=${line#"$PREFIX"}
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$workdir/$name.err" >&2
            die "the $name emulator exited before printing its URL"
        fi
        sleep 0.1
    done
    cat "$workdir/$name.err" >&2
    die "the $name emulator printed no URL within ${URL_TIMEOUT_S} s"
}

main() {
    [[ -x $test_binary ]] || die "no test binary at $test_binary"
    [[ -x $emulator ]] || die "no emulator at $emulator (cargo build -p gitfleet-emulator)"
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    start_emulator main --port 0 --lifetime 300 --window 600 --delay-ms 0 \
        --token c_tok_a:20 --token c_tok_b:20 --token c_tok_c:20 \
        --revoked c_tok_revoked --token c_tok_slow:1000 --token c_tok_d:1000 \
        --token c_tok_misc:1000 --token c_tok_async:1000
    local url=$EMULATOR_URL
    start_emulator slow --port 0 --lifetime 300 --window 600 --delay-ms 500 \
        --token c_tok_slow:1000
    local slow_url=$EMULATOR_URL

    local wrapper=()
    read -r -a wrapper <<<"${TEST_WRAPPER:-}"
    local status=0
    ${wrapper[@]+"${wrapper[@]}"} "$test_binary" "$url" "$slow_url" || status=$?
    return "$status"
}

main "$@"
