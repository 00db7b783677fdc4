# gitfleet: build, demo and tests. `make demo` runs the token-manager
# example (against the local emulator when no token is set); `make test`
# runs every check and test. Both build what they need first.

CARGO    ?= cargo
CC       ?= gcc
STRICT   := -std=c11 -Wall -Wextra -Wpedantic -Werror
LIB      := target/debug/libgitfleet.a
EMULATOR := target/debug/gitfleet-emulator
LDLIBS   := -lpthread -ldl -lm
JSON_C   := -ljson-c

.PHONY: all lib demo store-demo test lint rust-test c-test c-memcheck demo-test header deps clean

all: lib

# Cargo decides what is stale, so it always runs.
lib:
	$(CARGO) build -p gitfleet -p gitfleet-emulator

build/token_manager: examples/token_manager.c include/gitfleet.h lib deps
	@mkdir -p build
	$(CC) $(STRICT) -Iinclude examples/token_manager.c $(LIB) $(JSON_C) $(LDLIBS) -o $@

build/test_%: tests/c/test_%.c tests/c/check.h include/gitfleet.h lib
	@mkdir -p build
	$(CC) $(STRICT) -Iinclude $< $(LIB) $(LDLIBS) -o $@

demo: build/token_manager
	examples/run_token_manager.sh build/token_manager $(EMULATOR)

build/store_tokens: examples/store_tokens.c include/gitfleet.h lib
	@mkdir -p build
	$(CC) $(STRICT) -Iinclude examples/store_tokens.c $(LIB) $(LDLIBS) -o $@

# The demo again, its tokens kept in an encrypted credential store.
store-demo: build/token_manager build/store_tokens
	DEMO_STORE_TOOL=build/store_tokens \
		examples/run_token_manager.sh build/token_manager $(EMULATOR)

test: lint rust-test c-test c-memcheck c-hardening c-asan c-tsan demo-test \
	go-test go-demo-test cpp-test cpp-demo-test soak-short fuzz-short miri bench-build

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-test:
	$(CARGO) test --workspace

c-test: build/test_abi build/test_store build/readme_example
	tests/c/run.sh build/test_abi $(EMULATOR)
	build/test_store

# The C tests again under valgrind: no invalid access, no definite leak.
# ("Possibly lost" blocks belong to library threads still running at exit.)
VALGRIND := valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
c-memcheck: build/test_abi build/test_store
	TEST_WRAPPER="$(VALGRIND)" tests/c/run.sh build/test_abi $(EMULATOR)
	$(VALGRIND) build/test_store

# The README's C example must compile as printed.
build/readme_example: README.md include/gitfleet.h lib
	@mkdir -p build
	awk '/^```c$$/ { inside = 1; next } /^```$$/ { inside = 0 } inside' README.md > build/readme_example.c
	$(CC) $(STRICT) -Iinclude build/readme_example.c $(LIB) $(LDLIBS) -o $@

# The example must run end to end against the emulator and show rotation,
# the revoked token, exhaustion and the earliest reset.
demo-test: build/token_manager build/store_tokens
	env -u GITHUB_TOKEN -u GITHUB_TOKENS -u GITHUB_API_URL -u GITFLEET_STORE \
		examples/run_token_manager.sh build/token_manager $(EMULATOR) > build/demo.log 2>&1 \
		|| { cat build/demo.log; exit 1; }
	tests/c/check_demo.sh build/demo.log
	env -u GITHUB_TOKEN -u GITHUB_TOKENS -u GITHUB_API_URL -u GITFLEET_STORE \
		$(MAKE) -s store-demo > build/store-demo.log 2>&1 || { cat build/store-demo.log; exit 1; }
	grep -q "Loaded 3 token(s) from the credential store" build/store-demo.log
	tests/c/check_demo.sh build/store-demo.log

# Refreshes the committed header after an ABI change.
header:
	GITFLEET_WRITE_HEADER=1 $(CARGO) build -p gitfleet

# The example reads JSON with json-c (Debian: libjson-c-dev).
deps:
	@test -f /usr/include/json-c/json.h || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq libjson-c-dev; \
		else \
			echo "Please install json-c first: sudo apt-get install libjson-c-dev"; exit 1; \
		fi; }

clean:
	$(CARGO) clean
	rm -rf build

# The Go binding's targets (go-test, go-demo, ...) and the C++ wrapper's
# (cpp-test, cpp-demo, ...).
include bindings/go/go.mk
include bindings/cpp/cpp.mk

# The C tests under ASan+UBSan and TSan (c-asan, c-tsan, c-hardening).
include tests/c/sanitize.mk

# gitfleet beside the Python reference (make bench-reference).
include tests/bench/reference/reference.mk

# The soak under faults (soak, soak-short).
include tests/soak.mk

# Building every benchmark without running it (bench-build).
include tests/bench/bench.mk

# Fuzzing (fuzz-short, fuzz) and Miri on the pure core (miri).
include tests/fuzz/fuzz.mk
include tests/miri.mk
