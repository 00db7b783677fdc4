#!/usr/bin/env bash
# Runs gitfleet beside the reference (Python GitFleet 0.2.8) on the same
# emulator and workloads: builds a throwaway virtualenv with the reference
# from PyPI, then runs examples/reference_compare.rs with its Python.
#
#   tests/bench/reference/run.sh [reference_compare options...]
#
# REFERENCE_VENV picks the virtualenv's directory (default: a temporary one,
# deleted afterwards). Needs python3 with venv and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/../../.."

venv="${REFERENCE_VENV:-}"
if [ -z "$venv" ]; then
    venv="$(mktemp -d)/venv"
    trap 'rm -rf "$(dirname "$venv")"' EXIT
fi
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r tests/bench/reference/requirements.txt
fi
cargo build --quiet --release --example reference_compare
target/release/examples/reference_compare --python "$venv/bin/python" "$@"
