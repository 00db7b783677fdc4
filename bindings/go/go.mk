# go.mk - the Go binding's targets. The top-level Makefile includes it;
# run them from the repository root:
#
#   make go-test       gofmt and go vet, go test -race, then the whole suite
#                      again with GOGC=1 and the full cgo pointer checks
#   make go-demo       the Go token-manager example (against the emulator
#                      when no GITFLEET_STORE, GITHUB_TOKENS or GITHUB_TOKEN is set)
#   make go-store-demo the same, its tokens first saved in an encrypted store
#   make go-demo-test  both against the emulator, checked like the C ones
#   make go-bench      the Go benchmarks against the emulator
#
# Each builds what it needs first: the release static library that cgo
# links (bindings/go links target/release/libgitfleet.a) and the emulator.

GO       ?= go
CARGO    ?= cargo
EMULATOR ?= target/debug/gitfleet-emulator
GO_DEMO  := build/token_manager_go
GO_STORE := build/store_tokens_go
GO_ENV   := GITFLEET_EMULATOR_BIN=$(abspath $(EMULATOR))

.PHONY: go-lib go-emulator go-demo-build go-test go-demo go-store-demo go-demo-test go-bench

# Cargo decides what is stale, so these always run.
go-lib:
	$(CARGO) build --release -p gitfleet

go-emulator:
	$(CARGO) build -p gitfleet-emulator

go-demo-build: go-lib
	@mkdir -p build
	cd examples/go && $(GO) build -buildvcs=false -o $(abspath $(GO_DEMO)) ./token_manager
	cd examples/go && $(GO) build -buildvcs=false -o $(abspath $(GO_STORE)) ./store_tokens

# cgocheck2 (every pointer store checked) is a build-time experiment, hence
# GOEXPERIMENT (the first run rebuilds the standard library with it, a
# minute or two); GODEBUG=cgocheck=1 (the default) checks every cgo call.
go-test: go-lib go-emulator
	@unformatted=$$(gofmt -l bindings/go examples/go); \
		if [ -n "$$unformatted" ]; then echo "not gofmt-ed: $$unformatted"; exit 1; fi
	cd bindings/go && $(GO) vet ./...
	cd examples/go && $(GO) vet ./...
	cd bindings/go && $(GO_ENV) $(GO) test -race -count=1 ./...
	cd bindings/go && $(GO_ENV) GOGC=1 GOEXPERIMENT=cgocheck2 GODEBUG=cgocheck=1 \
		$(GO) test -count=1 ./...

go-demo: go-demo-build go-emulator
	examples/go/run_token_manager.sh $(GO_DEMO) $(EMULATOR)

go-store-demo: go-demo-build go-emulator
	DEMO_STORE_TOOL=$(GO_STORE) examples/go/run_token_manager.sh $(GO_DEMO) $(EMULATOR)

# The example must run end to end against the emulator, from the
# environment and from a store, and show what the C example shows
# (tests/c/check_demo.sh), never a token.
GO_DEMO_ENV := env -u GITHUB_TOKEN -u GITHUB_TOKENS -u GITHUB_API_URL -u GITFLEET_STORE
go-demo-test: go-demo-build go-emulator
	$(GO_DEMO_ENV) examples/go/run_token_manager.sh $(GO_DEMO) $(EMULATOR) \
		> build/demo-go.log 2>&1 || { cat build/demo-go.log; exit 1; }
	tests/c/check_demo.sh build/demo-go.log
	$(GO_DEMO_ENV) DEMO_STORE_TOOL=$(GO_STORE) examples/go/run_token_manager.sh $(GO_DEMO) \
		$(EMULATOR) > build/store-demo-go.log 2>&1 || { cat build/store-demo-go.log; exit 1; }
	grep -q "Loaded 3 token(s) from the credential store" build/store-demo-go.log
	tests/c/check_demo.sh build/store-demo-go.log

go-bench: go-lib go-emulator
	cd bindings/go && $(GO_ENV) $(GO) test -run '^$$' -bench . -benchtime 2000x ./...
