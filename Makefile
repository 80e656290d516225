# SPDX-License-Identifier: MIT
# tsunagu build.  `make` builds bin/tsunagud and bin/tsunagu; `make check`
# runs every test (the layer check; unit tests three times: plain, under
# ASan+UBSan and under valgrind's memcheck; then the integration tests);
# `make bench` runs the benchmarks, the web UI's 日程調整 grid in headless
# Chromium included (`make bench-scale`, separately, the 100,000-feed one;
# `make bench-tls`, TLS handshake cost and connection reuse against a local
# https server); `make run` starts the demo city;
# `make install` installs (PREFIX, DESTDIR).
#
# Layers.  The code is built as one archive per layer, lowest first:
#
#   core      daemon/core/     util, log, time, holidays, sha256, the city model, config
#   calendars calendars/       intervals, feeds (curl on libevent), iCalendar, WebDAV, slots,
#                              Windows zone names (ICU)
#   rules     rules/           cases and the lead-agency rule engine
#   store     daemon/store/    SQLite: open, migrations, every domain's SQL
#   mail      daemon/mail/     iMIP, mail transports, the outbox
#   service   daemon/service/  what the daemon does: process context, feed
#                              scheduler, slots from the store, meetings
#   api       daemon/api/      the HTTP router and thin handlers
#   ui        daemon/ui/       the web UI: assets embedded at build time
#                              (daemon/ui/tools/ui_embed.c), served at /
#   cli       daemon/cli/      the tsunagu client (uses core, calendars, rules, mail)
#
# Each layer's headers live in include/<layer>/, and a layer is compiled
# with -I for itself and the layers it may use (LAYER_USES below) only, so
# an upward #include does not compile.  tests/check-layers (run by
# `make check`) also checks the archives' symbols and shows that an
# upward include fails.  Sources are picked up by wildcard.

CC      ?= cc
PKGS     = libevent libevent_pthreads libcurl libical sqlite3 jansson libxml-2.0 icu-i18n icu-uc libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -Wshadow -Wmissing-prototypes -Wcast-qual
CFLAGS  ?= -O2 -g
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS   = $(PKG_LIBS) -lm
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

PREFIX  ?= /usr/local
DESTDIR ?=

# Every object and binary depends on build/flags, which holds the compiler
# and its flags.  It is rewritten only when they differ from what it holds,
# so a changed CFLAGS, WARN or pkg-config answer rebuilds everything (a
# stale object built with other warnings cannot hide a hit), and an
# unchanged build rebuilds nothing.
FLAGS_STAMP = build/flags
FLAGS_TEXT  = $(CC) $(BASE_CFLAGS) | $(SAN) | $(LDLIBS)
# A dry run (make -n) leaves it alone.
ifeq ($(findstring n,$(firstword -$(MAKEFLAGS))),)
ifneq ($(strip $(file < $(FLAGS_STAMP))),$(strip $(FLAGS_TEXT)))
$(shell mkdir -p build)
$(file > $(FLAGS_STAMP),$(FLAGS_TEXT))
endif
endif

# ---- layers ---------------------------------------------------------------
LAYERS       = core calendars rules store mail service api ui cli
LAYER_DIR_core      = daemon/core
LAYER_DIR_calendars = calendars
LAYER_DIR_rules     = rules
LAYER_DIR_store     = daemon/store
LAYER_DIR_mail      = daemon/mail
LAYER_DIR_service   = daemon/service
LAYER_DIR_api       = daemon/api
LAYER_DIR_ui        = daemon/ui
LAYER_DIR_cli       = daemon/cli
# What each layer may use (itself included).  Keep tests/check-layers' copy
# of this table in step (it reads it from here: `make print-layer-uses`).
LAYER_USES_core      = core
LAYER_USES_calendars = core calendars
LAYER_USES_rules     = core calendars rules
LAYER_USES_store     = core calendars rules store
LAYER_USES_mail      = core calendars rules store mail
LAYER_USES_service   = core calendars rules store mail service
LAYER_USES_api       = core calendars rules store mail service api
LAYER_USES_ui        = core calendars rules store mail service api ui
LAYER_USES_cli       = core calendars rules mail cli
ALL_INC  = $(foreach l,$(LAYERS),-Iinclude/$(l))

MAINS     = daemon/main_tsunagud.c daemon/cli/main_tsunagu.c
layer_src = $(filter-out $(MAINS),$(wildcard $(LAYER_DIR_$(1))/*.c))
layer_inc = $(foreach u,$(LAYER_USES_$(1)),-Iinclude/$(u)) -I$(LAYER_DIR_$(1))
layer_lib = build/lib/lib$(1).a
layer_san = build/lib-san/lib$(1).a

# The program archives, highest layer first (static link order).
DAEMON_LAYERS = ui api service mail store rules calendars core
CLI_LAYERS    = cli mail rules calendars core
DAEMON_LIBS   = $(foreach l,$(DAEMON_LAYERS),$(call layer_lib,$(l)))
DAEMON_SAN    = $(foreach l,$(DAEMON_LAYERS),$(call layer_san,$(l)))
CLI_LIBS      = $(foreach l,$(CLI_LAYERS),$(call layer_lib,$(l)))
# Tests may use every layer.
TEST_LIBS     = $(call layer_lib,cli) $(DAEMON_LIBS)
TEST_SAN_LIBS = $(call layer_san,cli) $(DAEMON_SAN)

LIB_SRC  = $(foreach l,$(LAYERS),$(call layer_src,$(l)))
LIB_OBJ  = $(LIB_SRC:%.c=build/obj/%.o)
SAN_OBJ  = $(LIB_SRC:%.c=build/san/%.o)
TEST_SRC = $(wildcard tests/unit/test_*.c)
TEST_BIN = $(TEST_SRC:tests/unit/%.c=build/tests/%)
TEST_SAN = $(TEST_SRC:tests/unit/%.c=build/tests-san/%)
TEST_SUPPORT = $(wildcard tests/support/*.c)
SUPPORT_LIB  = build/lib/libsupport.a
SUPPORT_SAN  = build/lib-san/libsupport.a
ITEST_SRC = $(wildcard tests/integration/itest_*.c)
ITEST_BIN = $(ITEST_SRC:tests/integration/%.c=build/itests/%)
BENCH_SRC = $(wildcard tests/bench/bench_*.c)
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=build/bench/%)
TEST_CFLAGS = $(BASE_CFLAGS) $(ALL_INC) -Itests/support

.PHONY: all deps check unit unit-san integration bench bench-scale bench-tls run clean valgrind \
        layers install print-layer-uses ui-test
all: bin/tsunagud bin/tsunagu

deps:
	@contrib/install-deps

# One object rule per layer, each with only that layer's include path.
define layer_rules
build/obj/$(LAYER_DIR_$(1))/%.o: $(LAYER_DIR_$(1))/%.c $(FLAGS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $(call layer_inc,$(1)) -c $$< -o $$@

build/san/$(LAYER_DIR_$(1))/%.o: $(LAYER_DIR_$(1))/%.c $(FLAGS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $(call layer_inc,$(1)) $$(SAN) -O1 -c $$< -o $$@

$(call layer_lib,$(1)): $(patsubst %.c,build/obj/%.o,$(call layer_src,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(call layer_san,$(1)): $(patsubst %.c,build/san/%.o,$(call layer_src,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))

# The web UI's assets, embedded into the ui archive as generated C; the
# build id in their paths changes whenever any of them does.
UI_ASSETS = $(sort $(wildcard daemon/ui/assets/*))
build/tools/ui_embed: daemon/ui/tools/ui_embed.c daemon/core/sha256.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Iinclude/core -o $@ $(filter %.c,$^)

build/gen/ui_assets.c: build/tools/ui_embed $(UI_ASSETS)
	@mkdir -p $(dir $@)
	build/tools/ui_embed $@ $(UI_ASSETS)

build/obj/gen/ui_assets.o: build/gen/ui_assets.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call layer_inc,ui) -c $< -o $@

build/san/gen/ui_assets.o: build/gen/ui_assets.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call layer_inc,ui) $(SAN) -O1 -c $< -o $@

$(call layer_lib,ui): build/obj/gen/ui_assets.o
$(call layer_san,ui): build/san/gen/ui_assets.o

# The daemon's main wires every layer.
build/obj/daemon/main_tsunagud.o: daemon/main_tsunagud.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ALL_INC) -c $< -o $@

bin/tsunagud: build/obj/daemon/main_tsunagud.o $(DAEMON_LIBS)
	@mkdir -p bin
	$(CC) $(BASE_CFLAGS) -o $@ $^ $(LDLIBS)

bin/tsunagu: build/obj/daemon/cli/main_tsunagu.o $(CLI_LIBS)
	@mkdir -p bin
	$(CC) $(BASE_CFLAGS) -o $@ $^ $(LDLIBS)

# The test harness (tests/support) is an archive of its own.
build/obj/tests/support/%.o: tests/support/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

build/san/tests/support/%.o: tests/support/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SAN) -O1 -c $< -o $@

$(SUPPORT_LIB): $(TEST_SUPPORT:%.c=build/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SUPPORT_SAN): $(TEST_SUPPORT:%.c=build/san/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/tests/%: tests/unit/%.c $(SUPPORT_LIB) $(TEST_LIBS) $(FLAGS_STAMP)
	@mkdir -p build/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(SUPPORT_LIB) $(TEST_LIBS) $(LDLIBS) -lcmocka

build/tests-san/%: tests/unit/%.c $(SUPPORT_SAN) $(TEST_SAN_LIBS) $(FLAGS_STAMP)
	@mkdir -p build/tests-san
	$(CC) $(TEST_CFLAGS) $(SAN) -O1 -o $@ $< $(SUPPORT_SAN) $(TEST_SAN_LIBS) $(LDLIBS) -lcmocka

build/itests/%: tests/integration/%.c $(SUPPORT_LIB) $(TEST_LIBS) $(FLAGS_STAMP)
	@mkdir -p build/itests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(SUPPORT_LIB) $(TEST_LIBS) $(LDLIBS) -lcmocka

build/bench/%: tests/bench/%.c $(SUPPORT_LIB) $(TEST_LIBS) $(FLAGS_STAMP)
	@mkdir -p build/bench
	$(CC) $(TEST_CFLAGS) -O2 -o $@ $< $(SUPPORT_LIB) $(TEST_LIBS) $(LDLIBS)

# Generated header dependencies (-MMD -MP) of every object and binary.
include tests/fuzz/fuzz.mk

-include $(LIB_OBJ:.o=.d) $(SAN_OBJ:.o=.d) build/obj/daemon/main_tsunagud.d \
         build/obj/daemon/cli/main_tsunagu.d $(TEST_SUPPORT:%.c=build/obj/%.d) \
         $(TEST_SUPPORT:%.c=build/san/%.d) $(TEST_BIN:=.d) $(TEST_SAN:=.d) \
         $(ITEST_BIN:=.d) $(BENCH_BIN:=.d)

print-layer-uses:
	@$(foreach l,$(LAYERS),echo "$(l) $(LAYER_DIR_$(l)) $(LAYER_USES_$(l))";)

layers: $(foreach l,$(LAYERS),$(call layer_lib,$(l)))
	@tests/check-layers

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
	@$(MAKE) --no-print-directory layers
	@tests/check-spdx
	@tests/check-cli-options
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-san
	@$(MAKE) --no-print-directory valgrind
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory ui-test
	@tests/summary

# The web UI in a real browser: Debian's chromium driven by playwright-core
# (tests/ui, installed by `contrib/install-deps --test` with npm ci).
ui-test: all
	@node tests/ui/e2e.mjs

bench: all $(BENCH_BIN)
	@contrib/install-deps --test
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	@echo "== tests/bench/ui_grid_bench.mjs"; node tests/bench/ui_grid_bench.mjs

# Issue 14's scale benchmark (tests/bench/scale_bench.c): 10,000 and
# 100,000 feeds against a local ICS server.  Minutes of CPU and most of
# the machine, so not part of `make bench`; run it alone.  Arguments:
# feeds, server mode (200|304|changed), POLL_INTERVAL, server delay in
# ms, seconds per measuring window.
bench-scale: all build/bench/scale_bench
	@nice build/bench/scale_bench 10000 200 60 0 20 30
	@nice build/bench/scale_bench 100000 200 900 300 120 180
	@nice build/bench/scale_bench 100000 304 60 0 20

# TLS handshake cost and connection reuse per host (tests/bench/tls_bench.c,
# a python3 https server with an openssl self-signed certificate): prints
# numbers, asserts nothing.  Arguments: fetches, fetches at once.
bench-tls: all build/bench/tls_bench
	@nice build/bench/tls_bench 400 8

run:
	@contrib/install-deps
	@$(MAKE) --no-print-directory all
	@contrib/demo

# ---- install ----------------------------------------------------------------
BINDIR  = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
MANDIR  = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/tsunagu
DOCDIR  = $(PREFIX)/share/doc/tsunagu
UNITDIR = $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/rules \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 bin/tsunagud $(DESTDIR)$(SBINDIR)/tsunagud
	install -m 0755 bin/tsunagu $(DESTDIR)$(BINDIR)/tsunagu
	install -m 0644 contrib/tsunagu.1 $(DESTDIR)$(MANDIR)/man1/tsunagu.1
	install -m 0644 contrib/tsunagu.rules.5 $(DESTDIR)$(MANDIR)/man5/tsunagu.rules.5
	install -m 0644 contrib/tsunagud.8 $(DESTDIR)$(MANDIR)/man8/tsunagud.8
	install -m 0644 rules/default.rules $(DESTDIR)$(DATADIR)/rules/default.rules
	install -m 0644 contrib/tsunagud.conf.sample $(DESTDIR)$(DOCDIR)/tsunagud.conf.sample
	install -m 0644 contrib/tsunagud.service $(DESTDIR)$(UNITDIR)/tsunagud.service

clean:
	rm -rf build bin
