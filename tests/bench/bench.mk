# bench.mk - builds every benchmark without running it, so that none can rot.
# The top-level Makefile includes it and `make test` runs it; BENCHMARKS.md
# gives each benchmark's command and latest figures.
#
#   make bench-build   the criterion benches (pool, pool_memory, pooled_quota)
#                      and the bench programs (call_cost, call_memory,
#                      reference_compare, soak), the Go call-cost program;
#                      the C++ one is part of cpp-build
#
# It builds the dev profile, which shares the test suite's artifacts; the
# figures come from release builds (`cargo bench`, `cargo build --release`).

.PHONY: bench-build

bench-build: go-lib
	$(CARGO) build -p gitfleet --benches --examples
	@mkdir -p build
	cd bindings/go && $(GO) build -buildvcs=false -o $(abspath build/go_callcost) ./bench/callcost
