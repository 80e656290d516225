# tsunagu build.  `make` builds bin/tsunagud and bin/tsunagu; `make check`
# runs every test (unit tests three times: plain, under ASan+UBSan and
# under valgrind's memcheck; then the integration tests);
# `make bench` runs the benchmarks; `make run` starts the demo city.
#
# Sources are picked up by wildcard: every .c under calendars/, rules/ and
# daemon/ goes into build/libtsunagu.a except the two program mains.
# Every tests/unit/test_*.c becomes its own cmocka binary.

CC      ?= cc
PKGS     = libevent libevent_pthreads libcurl libical sqlite3 jansson libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS)
LDLIBS   = $(PKG_LIBS) -lm
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

MAINS    = daemon/main_tsunagud.c daemon/main_tsunagu.c
LIB_SRC  = $(filter-out $(MAINS), $(wildcard calendars/*.c rules/*.c daemon/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=build/obj/%.o)
SAN_OBJ  = $(LIB_SRC:%.c=build/san/%.o)
TEST_SRC = $(wildcard tests/unit/test_*.c)
TEST_BIN = $(TEST_SRC:tests/unit/%.c=build/tests/%)
TEST_SAN = $(TEST_SRC:tests/unit/%.c=build/tests-san/%)
TEST_SUPPORT = $(wildcard tests/support/*.c)
ITEST_SRC = $(wildcard tests/integration/itest_*.c)
ITEST_BIN = $(ITEST_SRC:tests/integration/%.c=build/itests/%)
BENCH_SRC = $(wildcard tests/bench/bench_*.c)
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=build/bench/%)

.PHONY: all deps check unit unit-san integration bench run clean valgrind
all: bin/tsunagud bin/tsunagu

deps:
	@contrib/install-deps

build/obj/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/san/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c $< -o $@

build/libtsunagu.a: $(LIB_OBJ)
	@mkdir -p build
	rm -f $@ && ar rcs $@ $^

build/libtsunagu-san.a: $(SAN_OBJ)
	@mkdir -p build
	rm -f $@ && ar rcs $@ $^

bin/tsunagud: build/obj/daemon/main_tsunagud.o build/libtsunagu.a
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

bin/tsunagu: build/obj/daemon/main_tsunagu.o build/libtsunagu.a
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build/tests/%: tests/unit/%.c $(TEST_SUPPORT) build/libtsunagu.a
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT) build/libtsunagu.a $(LDLIBS) -lcmocka

build/tests-san/%: tests/unit/%.c $(TEST_SUPPORT) build/libtsunagu-san.a
	@mkdir -p build/tests-san
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Itests/support -o $@ $< $(TEST_SUPPORT) build/libtsunagu-san.a $(LDLIBS) -lcmocka

build/itests/%: tests/integration/%.c $(TEST_SUPPORT) build/libtsunagu.a
	@mkdir -p build/itests
	$(CC) $(ALL_CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT) build/libtsunagu.a $(LDLIBS) -lcmocka

build/bench/%: tests/bench/%.c build/libtsunagu.a
	@mkdir -p build/bench
	$(CC) $(ALL_CFLAGS) -O2 -Itests/support -o $@ $< $(TEST_SUPPORT) build/libtsunagu.a $(LDLIBS)

# Unit tests run from the project root so they find tests/data.
unit: $(TEST_BIN) all
	@tests/run-tests build/tests $(TEST_BIN)

unit-san: $(TEST_SAN) all
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  tests/run-tests build/tests-san $(TEST_SAN)

valgrind: $(TEST_BIN)
	@tests/run-valgrind $(TEST_BIN)

integration: all $(ITEST_BIN)
	@tests/run-tests build/itests $(ITEST_BIN)

check:
	@contrib/install-deps --test
	@rm -f build/results.txt
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-san
	@$(MAKE) --no-print-directory valgrind
	@$(MAKE) --no-print-directory integration
	@tests/summary

bench: all $(BENCH_BIN)
	@contrib/install-deps --test
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

run:
	@contrib/install-deps
	@$(MAKE) --no-print-directory all
	@contrib/demo

clean:
	rm -rf build bin
