# The soak (examples/soak.rs): 32 threads call through the C ABI, blocking
# and async, against the in-process emulator with every kind of fault
# switched on; resident memory and thread count are sampled every second.
# It fails when a call does not return, a callback is lost or doubled, an
# error names a token, or memory or threads grow past the stated bounds.
#
#   make soak                      # 3 minutes, release build
#   make soak SOAK_SECONDS=600     # longer
#   make soak-short                # 20 seconds, debug build (part of `make test`)

.PHONY: soak soak-short

SOAK_SECONDS ?= 180

soak:
	$(CARGO) run --release --example soak -- --seconds $(SOAK_SECONDS)

soak-short:
	$(CARGO) run --example soak -- --seconds 20
