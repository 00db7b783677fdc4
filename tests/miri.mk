# miri.mk — the pure core under Miri (undefined behaviour, data races, leaks in unsafe-free and
# unsafe code alike): the token pool (with its threaded test), the response classifier and
# Link/segment parsing. No network, no FFI, no runtime threads: those Miri cannot run.
#
#   make miri                       about a minute or two once Miri's sysroot is built;
#                                   part of `make test`
#   make miri MIRI_TESTS=classify:: one module only (libtest filters, any of which matches)
#
# Needs the nightly toolchain's miri and rust-src components (.ci/run adds them:
# `rustup component add --toolchain nightly miri rust-src`). Where they are missing the
# target prints that Miri was SKIPPED and succeeds.

MIRI_TESTS     ?= pool:: classify:: github::links::
MIRI_TOOLCHAIN ?= nightly

.PHONY: miri

miri:
	@if cargo +$(MIRI_TOOLCHAIN) miri --version >/dev/null 2>&1; then \
		echo "cargo +$(MIRI_TOOLCHAIN) miri test --lib -p gitfleet -- $(MIRI_TESTS)"; \
		cargo +$(MIRI_TOOLCHAIN) miri test --lib -p gitfleet -- $(MIRI_TESTS); \
	else \
		echo "miri: SKIPPED: Miri is not installed for toolchain $(MIRI_TOOLCHAIN)"; \
		echo "miri: (rustup component add --toolchain nightly miri rust-src)"; \
	fi
