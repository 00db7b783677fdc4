# cpp.mk — make targets of the C++ wrapper (bindings/cpp). Included by the top Makefile and
# run from the repository root:
#
#   make cpp-lib         the Rust library the wrapper links (cargo build --release -p gitfleet)
#   make cpp-test        configure, build and ctest three times: plain (build/cpp), under
#                        AddressSanitizer + UndefinedBehaviorSanitizer (build/cpp-asan), and
#                        under ThreadSanitizer (build/cpp-tsan)
#   make cpp-demo        the C++ token-manager example (against the emulator when no token is set)
#   make cpp-demo-test   the example against the emulator, its output checked like the C one's,
#                        then again from an encrypted credential store
#   make cpp-bench       the call-cost benchmark: C API vs C++ wrapper, one run
#
# Needs cmake (>= 3.16), g++ (C++17), GoogleTest (Debian: libgtest-dev) and nlohmann/json
# (Debian: nlohmann-json3-dev); `make cpp-deps` installs the two libraries with apt-get when
# run as root.

CPP_CARGO    ?= cargo
CPP_CMAKE    ?= cmake
CPP_CTEST    ?= ctest
CPP_JOBS     ?= 2
CPP_SRC      := bindings/cpp
CPP_RUST_LIB := $(CURDIR)/target/release/libgitfleet.a
CPP_RUST_SO  := $(CURDIR)/target/release/libgitfleet.so
CPP_EMULATOR := $(CURDIR)/target/debug/gitfleet-emulator
CPP_DEMO     := build/cpp/examples/token_manager_cpp
CPP_STORE    := build/cpp/examples/store_tokens_cpp
CPP_CONFIG   := -DGITFLEET_EMULATOR=$(CPP_EMULATOR)

.PHONY: cpp-lib cpp-emulator cpp-deps cpp-build cpp-test cpp-test-plain cpp-test-asan \
        cpp-test-tsan cpp-demo cpp-demo-test cpp-bench

# Cargo decides what is stale, so these always run.
cpp-lib:
	$(CPP_CARGO) build --release -p gitfleet

cpp-emulator:
	$(CPP_CARGO) build -p gitfleet-emulator

# GoogleTest and nlohmann/json, from Debian's packages.
cpp-deps:
	@if [ -f /usr/include/gtest/gtest.h ] && [ -f /usr/include/nlohmann/json.hpp ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq cmake libgtest-dev nlohmann-json3-dev; \
	else \
		echo "Please install: sudo apt-get install cmake libgtest-dev nlohmann-json3-dev"; \
		exit 1; \
	fi

# The plain build: tests, examples and bench, optimised with debug information.
cpp-build: cpp-lib cpp-emulator cpp-deps
	$(CPP_CMAKE) -S $(CPP_SRC) -B build/cpp -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGITFLEET_RUST_LIB=$(CPP_RUST_LIB) $(CPP_CONFIG)
	$(CPP_CMAKE) --build build/cpp -j $(CPP_JOBS)

cpp-test: cpp-test-plain cpp-test-asan cpp-test-tsan

cpp-test-plain: cpp-build
	cd build/cpp && $(CPP_CTEST) -j $(CPP_JOBS) --output-on-failure

# Sanitizer builds: tests only, unoptimised (compiles much faster; the tests wait on sockets).
cpp-test-asan: cpp-lib cpp-emulator cpp-deps
	$(CPP_CMAKE) -S $(CPP_SRC) -B build/cpp-asan -DCMAKE_BUILD_TYPE=Debug \
		-DGITFLEET_SANITIZE=address,undefined -DGITFLEET_RUST_LIB=$(CPP_RUST_LIB) \
		-DGITFLEET_BUILD_EXAMPLES=OFF -DGITFLEET_BUILD_BENCH=OFF $(CPP_CONFIG)
	$(CPP_CMAKE) --build build/cpp-asan -j $(CPP_JOBS)
	cd build/cpp-asan && $(CPP_CTEST) -j $(CPP_JOBS) --output-on-failure

# ThreadSanitizer links the shared library so that the suppressions file can ignore the
# uninstrumented library's own libc calls, and only those (tests/support/tsan.supp).
cpp-test-tsan: cpp-lib cpp-emulator cpp-deps
	$(CPP_CMAKE) -S $(CPP_SRC) -B build/cpp-tsan -DCMAKE_BUILD_TYPE=Debug \
		-DGITFLEET_SANITIZE=thread -DGITFLEET_RUST_LIB=$(CPP_RUST_SO) \
		-DGITFLEET_BUILD_EXAMPLES=OFF -DGITFLEET_BUILD_BENCH=OFF $(CPP_CONFIG)
	$(CPP_CMAKE) --build build/cpp-tsan -j $(CPP_JOBS)
	cd build/cpp-tsan && $(CPP_CTEST) -j $(CPP_JOBS) --output-on-failure

cpp-demo: cpp-build
	examples/cpp/run_token_manager.sh $(CPP_DEMO) $(CPP_EMULATOR)

# As demo-test for the C example: the run must show the emulator notice, the revoked token,
# rotation, exhaustion, the wait for the reset, the summary, and never a token. Then the same
# from an encrypted store filled by the C++ store tool.
cpp-demo-test: cpp-build
	env -u GITHUB_TOKEN -u GITHUB_TOKENS -u GITHUB_API_URL -u GITFLEET_STORE \
		examples/cpp/run_token_manager.sh $(CPP_DEMO) $(CPP_EMULATOR) > build/demo-cpp.log 2>&1 \
		|| { cat build/demo-cpp.log; exit 1; }
	tests/c/check_demo.sh build/demo-cpp.log
	env -u GITHUB_TOKEN -u GITHUB_TOKENS -u GITHUB_API_URL -u GITFLEET_STORE \
		DEMO_STORE_TOOL=$(CPP_STORE) examples/cpp/run_token_manager.sh $(CPP_DEMO) \
		$(CPP_EMULATOR) > build/store-demo-cpp.log 2>&1 \
		|| { cat build/store-demo-cpp.log; exit 1; }
	grep -q "Loaded 3 token(s) from the credential store" build/store-demo-cpp.log
	tests/c/check_demo.sh build/store-demo-cpp.log

cpp-bench: cpp-build
	build/cpp/bench/gitfleet_call_cost
