# fuzz.mk — coverage-guided fuzzing of the C boundary and the parsers (tests/fuzz, cargo fuzz
# with libFuzzer on the nightly toolchain). Included by the top Makefile, run from the
# repository root. Targets: classify (the response classifier), links (Link header, path
# segments, origins), manager, client and store (every exported function taking a string or
# a buffer, through the C ABI).
#
#   make fuzz-short                  every target for FUZZ_SHORT_SECONDS (10 s) each, after
#                                    replaying its regression inputs; part of `make test`
#   make fuzz                        the long run: FUZZ_SECONDS (600 s) per target
#   make fuzz FUZZ_SECONDS=3600 FUZZ_TARGETS="client store" FUZZ_PARALLEL=2
#
# Corpora grow in build/fuzz/corpus/TARGET from the committed seeds: tests/fuzz/seeds/classify
# and links are made from tests/fixtures/github by tests/fuzz/make_seeds.py; manager, store and
# client hold the edge-coverage-minimised corpus of a five-minute run (TARGET -merge=1
# -use_counters=0 SEEDS CORPUS), since their inputs are structured bytes; crashes land in
# build/fuzz/artifacts/TARGET. cargo-fuzz is installed from crates.io when missing. Without a
# nightly toolchain nothing is fuzzed: the targets say so and replay the seed and regression
# inputs on stable instead (see tests/fuzz/run.sh).

FUZZ_SECONDS       ?= 600
FUZZ_SHORT_SECONDS ?= 10
FUZZ_TARGETS       ?= classify links manager client store
FUZZ_PARALLEL      ?= 1

.PHONY: fuzz fuzz-short

fuzz:
	FUZZ_PARALLEL=$(FUZZ_PARALLEL) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-short:
	FUZZ_PARALLEL=1 tests/fuzz/run.sh $(FUZZ_SHORT_SECONDS) $(FUZZ_TARGETS)
