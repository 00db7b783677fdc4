#!/usr/bin/env bash
# run.sh - builds and runs the fuzz targets of tests/fuzz (see fuzz.mk for the make targets).
#
# Usage: tests/fuzz/run.sh SECONDS [TARGET...]
#   Every target (or the ones named) runs under libFuzzer for SECONDS, one after the other
#   (FUZZ_PARALLEL=N: N at a time). Before fuzzing, each target replays its regression
#   inputs (tests/fuzz/regressions/TARGET/*), which must all pass. The working corpus is
#   build/fuzz/corpus/TARGET, grown from the committed seeds (tests/fuzz/seeds/TARGET);
#   a crashing input lands in build/fuzz/artifacts/TARGET/ and the script fails.
#   Prints one summary line per target: seconds, executions, corpus size, crashes.
#
# Needs a nightly toolchain (FUZZ_TOOLCHAIN, default nightly) and cargo-fuzz, which it
# installs from crates.io when missing. Without a nightly toolchain nothing is fuzzed:
# it says so, then builds the same targets on stable (no coverage feedback, no
# sanitizer) and replays every seed and regression input through them instead.

set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(classify links manager client store)
toolchain=${FUZZ_TOOLCHAIN:-nightly}
parallel=${FUZZ_PARALLEL:-1}
work=build/fuzz
mkdir -p "$work"

# The inputs a target must pass before (or instead of) fuzzing.
replay_inputs() {
    local t=$1
    find "tests/fuzz/regressions/$t" "tests/fuzz/seeds/$t" -type f 2>/dev/null | sort
}

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "fuzz: NO FUZZING: toolchain '$toolchain' is not installed (cargo fuzz needs nightly)."
    echo "fuzz: fallback: replaying the seed and regression inputs through the same targets,"
    echo "fuzz: built on stable without coverage feedback or sanitizer."
    RUSTFLAGS="--cfg fuzzing" cargo build --release --manifest-path tests/fuzz/Cargo.toml \
        --target-dir target/fuzz-stable --bins
    for t in "${targets[@]}"; do
        mapfile -t inputs < <(replay_inputs "$t")
        if [ ${#inputs[@]} -eq 0 ]; then
            echo "fuzz: $t has no seed or regression input to replay" >&2
            exit 1
        fi
        target/fuzz-stable/release/"$t" "${inputs[@]}" > "$work/$t.replay.log" 2>&1 \
            || { tail -n 40 "$work/$t.replay.log"; echo "fuzz: $t FAILED on a replayed input" >&2; exit 1; }
        echo "fuzz (replay only, stable): $t: ${#inputs[@]} inputs passed"
    done
    exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz from crates.io"
    cargo install --locked cargo-fuzz
fi

host=$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')
# Release with debug assertions and overflow checks, AddressSanitizer (cargo fuzz's defaults).
cargo "+$toolchain" fuzz build --fuzz-dir tests/fuzz --target-dir target/fuzz
bin=target/fuzz/$host/release

run_one() {
    local t=$1 log=$work/$t.log
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
    local regressions=()
    [ -d "tests/fuzz/regressions/$t" ] && mapfile -t regressions < <(find "tests/fuzz/regressions/$t" -type f | sort)
    if [ ${#regressions[@]} -gt 0 ]; then
        "$bin/$t" "${regressions[@]}" > "$work/$t.regressions.log" 2>&1 \
            || { tail -n 40 "$work/$t.regressions.log"; echo "fuzz: $t FAILED a regression input" >&2; return 1; }
    fi
    local seeds=()
    [ -d "tests/fuzz/seeds/$t" ] && seeds=("tests/fuzz/seeds/$t")
    local start=$SECONDS status=0
    # The working corpus first: libFuzzer adds new inputs to the first directory only.
    "$bin/$t" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2560 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$t/" "$work/corpus/$t" "${seeds[@]}" > "$log" 2>&1 || status=$?
    local took=$((SECONDS - start))
    local execs files bytes crashes
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    files=$(find "$work/corpus/$t" -type f | wc -l)
    bytes=$(find "$work/corpus/$t" -type f -printf '%s\n' | awk '{ n += $1 } END { printf "%d", n / 1024 }')
    crashes=$(find "$work/artifacts/$t" -type f | wc -l)
    echo "fuzz: $t: ${took} s, ${execs:-?} executions, corpus ${files} inputs (${bytes} KiB)," \
        "${crashes} crash input(s) in $work/artifacts/$t"
    if [ "$status" -ne 0 ]; then
        grep -E -m 5 "^==[0-9]+==|panicked|ERROR: libFuzzer|SUMMARY" "$log" || tail -n 30 "$log"
        echo "fuzz: $t FAILED (log: $log; reproduce: $bin/$t $work/artifacts/$t/<input>)" >&2
        return 1
    fi
}

failed=0
pids=()
for t in "${targets[@]}"; do
    if [ "$parallel" -le 1 ]; then
        run_one "$t" || failed=1
    else
        run_one "$t" & pids+=($!)
        if [ ${#pids[@]} -ge "$parallel" ]; then
            wait "${pids[0]}" || failed=1
            pids=("${pids[@]:1}")
        fi
    fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
