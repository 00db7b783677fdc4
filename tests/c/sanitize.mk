# sanitize.mk — the C tests' hardening targets. Included by the top Makefile and run from the
# repository root:
#
#   make c-hardening   the C tests added for hardening, plain: test_null (NULL in every pointer
#                      parameter), test_double_free (a debug build catches a second _free),
#                      test_threads (threads sharing a manager and a client), and
#                      null_coverage.py (fails when a pointer parameter of the header is never
#                      passed NULL by any C test)
#   make c-asan        every C test under AddressSanitizer + UndefinedBehaviorSanitizer (leaks
#                      are errors), linked with the debug static library
#   make c-tsan        test_threads and test_abi under ThreadSanitizer, linked with the debug
#                      shared library (see tests/c/tsan.supp for why, and for the one
#                      suppression)
#
# The Rust library itself is not instrumented (that would need a nightly -Zbuild-std build):
# the sanitizers check the C side, the library's malloc/free traffic, and every pointer the
# library hands out or takes back.

SAN_TESTS    := test_abi test_store test_null test_double_free test_threads
SAN_FLAGS    := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -fno-omit-frame-pointer
ASAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_FLAGS   := -fsanitize=thread
SAN_SO_DIR   := $(CURDIR)/target/debug
SAN_ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SAN_TSAN_ENV := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/c/tsan.supp"

.PHONY: c-hardening c-null-coverage c-asan c-tsan

c-null-coverage:
	python3 tests/c/null_coverage.py

c-hardening: c-null-coverage build/test_null build/test_double_free build/test_threads
	build/test_null
	build/test_double_free 2> build/test_double_free.err || { cat build/test_double_free.err; exit 1; }
	grep -q '^gitfleet: gf_error_free(0x[0-9a-f]*) ignored' build/test_double_free.err
	tests/c/run.sh build/test_threads $(EMULATOR)

build/asan/test_%: tests/c/test_%.c tests/c/check.h include/gitfleet.h lib
	@mkdir -p build/asan
	$(CC) $(SAN_FLAGS) $(ASAN_FLAGS) -Iinclude $< $(LIB) $(LDLIBS) -o $@

build/tsan/test_%: tests/c/test_%.c tests/c/check.h include/gitfleet.h lib
	@mkdir -p build/tsan
	$(CC) $(SAN_FLAGS) $(TSAN_FLAGS) -Iinclude $< -L$(SAN_SO_DIR) -lgitfleet \
		-Wl,-rpath,$(SAN_SO_DIR) $(LDLIBS) -o $@

c-asan: $(addprefix build/asan/,$(SAN_TESTS))
	$(SAN_ASAN_ENV) tests/c/run.sh build/asan/test_abi $(EMULATOR)
	$(SAN_ASAN_ENV) build/asan/test_store
	$(SAN_ASAN_ENV) build/asan/test_null
	$(SAN_ASAN_ENV) build/asan/test_double_free 2> build/asan/test_double_free.err \
		|| { cat build/asan/test_double_free.err; exit 1; }
	grep -q '^gitfleet: gf_error_free(0x[0-9a-f]*) ignored' build/asan/test_double_free.err
	$(SAN_ASAN_ENV) tests/c/run.sh build/asan/test_threads $(EMULATOR)

c-tsan: build/tsan/test_threads build/tsan/test_abi
	$(SAN_TSAN_ENV) tests/c/run.sh build/tsan/test_threads $(EMULATOR)
	$(SAN_TSAN_ENV) tests/c/run.sh build/tsan/test_abi $(EMULATOR)
