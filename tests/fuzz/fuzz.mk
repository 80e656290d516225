# SPDX-License-Identifier: MIT
# tests/fuzz/fuzz.mk - `make fuzz`: libFuzzer harnesses (clang), not part
# of `make check`.  Every layer's sources are compiled again with clang,
# coverage instrumentation and ASan+UBSan into one archive; each harness
# tests/fuzz/fuzz_<name>.c links against it.  `make fuzz` builds them and
# runs each for FUZZ_RUNS executions (default 10 million) on its seed
# corpus tests/fuzz/corpus/<name>/ (new inputs go to build/fuzz/corpus/).
# Crashes land in build/fuzz/ (crash-*, leak-*, timeout-*); each one
# becomes a unit test in the failing module's tests/unit/ file, so
# `make check` keeps it fixed.  `contrib/install-deps --fuzz` installs
# clang.  Harnesses run from the project root (they read tests/data).

FUZZ_CC    ?= clang
FUZZ_RUNS  ?= 10000000
FUZZ_FLAGS  = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
              -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC    = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN    = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ    = $(LIB_SRC:%.c=build/fuzz/obj/%.o) build/fuzz/obj/build/gen/ui_assets.o
FUZZ_LIB    = build/fuzz/libtsunagu-fuzz.a

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(ALL_INC) -I$(dir $<) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(ALL_INC) -Itests/fuzz -o $@ $< \
	  $(FUZZ_LIB) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)

# Options of one harness.  fuzz_http: inputs up to 8 KiB, room for every
# seed (the largest, a rule-impact body, is 5.4 KiB) and for long headers,
# where libFuzzer would otherwise stop at the largest corpus file.
FUZZ_ARGS_http = -max_len=8192

# One harness: make fuzz-run-icalbusy FUZZ_RUNS=1000000
fuzz-run-%: build/fuzz/fuzz_%
	@mkdir -p build/fuzz/corpus/$*
	@echo "== fuzz_$* ($(FUZZ_RUNS) runs)"
	build/fuzz/fuzz_$* -runs=$(FUZZ_RUNS) $(FUZZ_ARGS_$*) \
	  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	  -artifact_prefix=build/fuzz/ build/fuzz/corpus/$* tests/fuzz/corpus/$*

fuzz:
	@contrib/install-deps --fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@for h in $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%); do \
	  $(MAKE) --no-print-directory fuzz-run-$$h || exit 1; done

.PHONY: fuzz fuzz-build
