#!/usr/bin/env bash
# run_token_manager.sh - what `make cpp-demo` runs: the C++ token-manager example.
#
# Same behaviour as examples/run_token_manager.sh (which it uses): without GITHUB_TOKENS or
# GITHUB_TOKEN in the environment, it starts the local GitHub API emulator with its demo tokens
# (one revoked, two with a quota of 2 per 8-second window), points the example at it, and stops
# the emulator on exit; with a token set, the example runs as is against GITHUB_API_URL
# (default: GitHub).
#
# Builds nothing: `make cpp-demo` builds the example and the emulator first.
# Usage: examples/cpp/run_token_manager.sh [EXAMPLE_BINARY] [EMULATOR_BINARY]
#   defaults: build/cpp/examples/token_manager_cpp, target/debug/gitfleet-emulator

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../run_token_manager.sh" \
    "${1:-build/cpp/examples/token_manager_cpp}" \
    "${2:-target/debug/gitfleet-emulator}"
