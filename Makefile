# tlswatch: plain Makefile, every library through pkg-config.
# CFLAGS/LDFLAGS are the user's; the project's own flags are added with
# override so `make CFLAGS=-O0` keeps the warnings.

PREFIX  ?= /usr/local
DOCDIR  ?= $(PREFIX)/share/doc/tlswatch
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    = gmime-3.0 glib-2.0 gio-2.0 gio-unix-2.0 jansson zlib libpq libcurl libarchive libmicrohttpd \
	opendkim libpsl
PKG_CONFIG ?= pkg-config

# -Wconversion without -Wsign-conversion: narrowing (size_t into guint) is
# what truncates a length; mixing GLib's unsigned counts with int would need
# casts everywhere that hide more than they find.
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
	-Wconversion -Wno-sign-conversion \
	-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes -I. \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# -lresolv: res_nquery and ns_parserr (common/dns.c), part of glibc.
override LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lresolv

ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
# Any report fails the test that caused it: ASan and UBSan stop the program
# (exit 1, which no test expects), LeakSanitizer runs at exit. The
# suppressions are GLib/GMime's own one-time allocations, see the file.
export ASAN_OPTIONS ?= halt_on_error=1:detect_leaks=1:print_stacktrace=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
endif

# Objects remember how they were built: a change of SANITIZE or CC rebuilds
# everything instead of linking sanitized and plain objects together.
BUILD_FLAGS = var/build-flags
$(shell mkdir -p var; echo 'SANITIZE=$(SANITIZE) CC=$(CC)' | cmp -s - $(BUILD_FLAGS) || \
	echo 'SANITIZE=$(SANITIZE) CC=$(CC)' > $(BUILD_FLAGS))

LIB_SRC  = $(filter-out common/resources.c,$(wildcard common/*.c ingest/*.c digest/*.c alert/*.c serve/*.c fetch/*.c check/*.c cmd/*.c)) common/resources.c
LIB_OBJ  = $(sort $(LIB_SRC:.c=.o))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:.c=)
SQL      = $(sort $(wildcard sql/*.sql))

all: tlswatch

tlswatch: tlswatch.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The migrations are compiled into the binary as GResources, so the program
# never looks for SQL files at run time.
common/resources.c: sql/tlswatch.gresource.xml $(SQL)
	glib-compile-resources --sourcedir=sql --generate-source --target=$@ $<

# The version /metrics reports (tlswatch_build_info).
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
serve/counters.o: CFLAGS += -DTLSWATCH_VERSION='"$(VERSION)"'

%.o: %.c $(BUILD_FLAGS)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(wildcard *.d */*.d tests/*/*.d)

# Debian packages needed to build and test; installed only when missing.
DEB_PKGS = build-essential pkg-config libgmime-3.0-dev libglib2.0-dev libglib2.0-dev-bin \
	libjansson-dev zlib1g-dev libpq-dev libcurl4-openssl-dev libarchive-dev libmicrohttpd-dev \
	libopendkim-dev libpsl-dev python3-dkim dnsmasq-base dovecot-imapd \
	postgresql perl time clang-format libxml2-utils python3 openssl curl groff-base mandoc valgrind
deps:
	@sh tests/lib/deps.sh $(DEB_PKGS)

units: $(UNIT_BIN)

# Fuzz targets (fuzz/*.c): clang's libFuzzer with ASan and UBSan, built
# apart from the objects above. `make fuzz-smoke` runs each for FUZZ_TIME
# seconds (CI); fuzz/run.sh TARGET SECONDS runs one for longer.
FUZZ_CC      ?= clang
FUZZ_TARGETS = message report decode config lmtp
FUZZ_TIME    ?= 60
FUZZ_SRC     = common/buffer.c common/config.c common/error.c common/json.c ingest/mail.c ingest/decode.c ingest/report.c ingest/report_datetime.c ingest/report_json.c ingest/parse.c common/text.c \
	common/dns.c ingest/authres.c ingest/dkim.c serve/lmtp.c
FUZZ_BIN     = $(FUZZ_TARGETS:%=fuzz/build/fuzz_%)
FUZZ_CFLAGS  = -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

fuzz: $(FUZZ_BIN)

fuzz/build/fuzz_%: fuzz/fuzz_%.c $(FUZZ_SRC) $(wildcard common/*.h ingest/*.h serve/lmtp.h)
	@mkdir -p fuzz/build
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC) $(LDLIBS)

# Static analysis: cppcheck, then clang-tidy with the checks in .clang-tidy.
LINT_SRC = tlswatch.c $(filter-out common/resources.c,$(LIB_SRC)) $(wildcard fuzz/*.c)
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--std=c11 --inline-suppr -I. -D_GNU_SOURCE $(LINT_SRC)
	clang-tidy --quiet $(LINT_SRC) -- -std=c11 -D_GNU_SOURCE -I. \
		$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)

fuzz-smoke: fuzz
	@for t in $(FUZZ_TARGETS); do sh fuzz/run.sh $$t $(FUZZ_TIME) || exit 1; done

# One throwaway PostgreSQL per test file (tests/lib/pg.sh); prove runs unit
# binaries (GTest prints TAP) and shell tests alike.
check: deps
	@$(MAKE) --no-print-directory all units
	prove --exec '' $(UNIT_BIN) tests/integration/*.t tests/e2e/*.t

# `make bench` (bench/run.sh): tlswatch against its floors on a throwaway
# PostgreSQL, a table on stdout and bench/results.json; never part of check.
# The floor links libpq alone, as a program that only inserts a row would.
BENCH_BIN = bench/gen bench/floor bench/timeit bench/contain bench/lmtp

bench/gen: bench/gen.c
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS) -lm

bench/floor: bench/floor.c
	$(CC) $(CFLAGS) -o $@ $< $(shell $(PKG_CONFIG) --libs libpq)

bench/timeit: bench/timeit.c
	$(CC) $(CFLAGS) -o $@ $<

bench/lmtp: bench/lmtp.c
	$(CC) $(CFLAGS) -o $@ $< $(shell $(PKG_CONFIG) --libs gio-unix-2.0)

# Links what tlswatch links, so that its fork copies a process like it.
bench/contain: bench/contain.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@sh bench/run.sh

# `make bench-scale` (bench/scale.sh): a year of reports for 1,000 domains,
# timed at 10, 50 and 100 % of it on a throwaway PostgreSQL with fsync on;
# a table on stdout and bench/scale.json. 20 to 40 minutes; never part of
# check. SCALE_DOMAINS=50 SCALE_DAYS=120 make bench-scale is a quick try.
bench-scale: deps
	@$(MAKE) --no-print-directory all bench/gen bench/timeit
	@sh bench/scale.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/lib/demo.sh

demo-stop:
	@sh -c '. tests/lib/pg.sh; bail() { echo "$$1" >&2; exit 1; }; \
		[ -d var/pg/data ] || exit 0; PG_BIN=$$(pg_bindir); PG_DIR=$$PWD/var/pg; pg_stop_server'

clean: demo-stop
	rm -f tlswatch *.o *.d */*.o */*.d tests/*/*.o tests/*/*.d common/resources.c $(UNIT_BIN) $(BENCH_BIN)
	rm -rf var fuzz/build

.PHONY: all deps units check demo demo-stop clean fuzz fuzz-smoke lint bench bench-scale

# `make install`: the binary, both man pages, contrib/ under DOCDIR, and in
# $(SYSCONFDIR)/tlswatch the example configuration and the procmail filter,
# each only when there is none (the binary reads /etc/tlswatch/tlswatch.conf
# whatever SYSCONFDIR says). The configuration will hold webhook URLs and
# secrets: mode 640, group tlswatch when that group exists and we are root.
# `make uninstall` removes them all, except a file in SYSCONFDIR that
# differs from what was installed: that one is yours, and it says it kept it.
CONTRIB_DOCS = $(sort $(shell find contrib -type f))
DOC_DIRS = $(sort $(patsubst contrib/%,%,$(filter-out contrib/,$(dir $(CONTRIB_DOCS)))))
CONF = $(DESTDIR)$(SYSCONFDIR)/tlswatch/tlswatch.conf
PROCMAILRC = $(DESTDIR)$(SYSCONFDIR)/tlswatch/procmailrc
CONF_GROUP = $(shell [ "$$(id -u)" = 0 ] && getent group tlswatch >/dev/null && echo tlswatch)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(dir $(CONF))
	install -m 755 tlswatch $(DESTDIR)$(BINDIR)/tlswatch
	install -m 644 man/tlswatch.1 $(DESTDIR)$(MANDIR)/man1/tlswatch.1
	install -m 644 man/tlswatch.conf.5 $(DESTDIR)$(MANDIR)/man5/tlswatch.conf.5
	@for f in $(CONTRIB_DOCS); do install -D -m 644 $$f $(DESTDIR)$(DOCDIR)/$${f#contrib/} || exit 1; done
	@if [ -e $(CONF) ]; then echo "kept $(CONF)"; \
	else install -m 640 $(if $(CONF_GROUP),-g $(CONF_GROUP)) contrib/tlswatch.conf.example $(CONF) && \
		echo "installed $(CONF) (mode 640, group $(or $(CONF_GROUP),root: chgrp tlswatch it))"; fi
	@if [ -e $(PROCMAILRC) ]; then echo "kept $(PROCMAILRC)"; \
	else install -m 644 contrib/procmail/procmailrc $(PROCMAILRC) && echo "installed $(PROCMAILRC)"; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tlswatch $(DESTDIR)$(MANDIR)/man1/tlswatch.1 \
		$(DESTDIR)$(MANDIR)/man5/tlswatch.conf.5
	@for f in $(CONTRIB_DOCS); do rm -f $(DESTDIR)$(DOCDIR)/$${f#contrib/}; done
	@for d in $(DOC_DIRS) ''; do rmdir $(DESTDIR)$(DOCDIR)/$$d 2>/dev/null; done; true
	@if cmp -s contrib/tlswatch.conf.example $(CONF); then rm -f $(CONF); \
	elif [ -e $(CONF) ]; then echo "kept $(CONF): it differs from the example"; fi
	@if cmp -s contrib/procmail/procmailrc $(PROCMAILRC); then rm -f $(PROCMAILRC); \
	elif [ -e $(PROCMAILRC) ]; then echo "kept $(PROCMAILRC): it differs from contrib"; fi
	@rmdir $(dir $(CONF)) 2>/dev/null; true

.PHONY: install uninstall
