# reference.mk - gitfleet beside the reference it replaces (the Python
# GitFleet 0.2.8). The top-level Makefile includes it; from the repository root:
#
#   make bench-reference   builds a throwaway virtualenv with gitfleet==0.2.8
#                          from PyPI and runs both on the same emulator and
#                          workloads (about 40 s); figures in BENCHMARKS.md
#
# REFERENCE_ARGS passes options to examples/reference_compare.rs, e.g.
# REFERENCE_ARGS="--seconds 10 --tokens 10 --quota 100".

REFERENCE_ARGS ?=

.PHONY: bench-reference

bench-reference:
	tests/bench/reference/run.sh $(REFERENCE_ARGS)
