#!/usr/bin/env bash
# run_token_manager.sh - what `make go-demo` runs: the Go token-manager
# example, with the same behaviour as the C example's script, which it
# reuses: without GITFLEET_STORE, GITHUB_TOKENS or GITHUB_TOKEN in the
# environment, the local GitHub API emulator is started with its demo
# tokens (one revoked, two with a quota of 2 per 8-second window) and the
# example runs against it (with DEMO_STORE_TOOL set, e.g. to
# build/store_tokens_go, the tokens go through an encrypted store first);
# with a token or a store set, the example runs as is against
# GITHUB_API_URL (default: GitHub).
#
# Builds nothing: go.mk (`make go-demo`) builds the example and the
# emulator first.
# Usage: run_token_manager.sh [EXAMPLE_BINARY] [EMULATOR_BINARY]

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
example=${1:-build/token_manager_go}
emulator=${2:-target/debug/gitfleet-emulator}

if [[ ! -x $example ]]; then
    echo "run_token_manager.sh: no Go example binary at $example (run: make go-demo)" >&2
    exit 1
fi
exec "$here/../run_token_manager.sh" "$example" "$emulator"
