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
PKGS    = gmime-3.0 glib-2.0 gio-2.0 jansson zlib libpq libcurl libarchive
PKG_CONFIG ?= pkg-config

override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
	-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes -I. \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
override LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  = $(filter-out common/resources.c,$(wildcard common/*.c ingest/*.c digest/*.c alert/*.c cmd/*.c)) common/resources.c
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

%.o: %.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(wildcard *.d */*.d tests/*/*.d)

# Debian packages needed to build and test; installed only when missing.
DEB_PKGS = build-essential pkg-config libgmime-3.0-dev libglib2.0-dev libglib2.0-dev-bin \
	libjansson-dev zlib1g-dev libpq-dev libcurl4-openssl-dev libarchive-dev \
	postgresql perl time clang-format libxml2-utils python3 openssl groff-base mandoc
deps:
	@sh tests/lib/deps.sh $(DEB_PKGS)

units: $(UNIT_BIN)

# One throwaway PostgreSQL per test file (tests/lib/pg.sh); prove runs unit
# binaries (GTest prints TAP) and shell tests alike.
check: deps
	@$(MAKE) --no-print-directory all units
	prove --exec '' $(UNIT_BIN) tests/integration/*.t tests/e2e/*.t

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/lib/demo.sh

demo-stop:
	@sh -c '. tests/lib/pg.sh; bail() { echo "$$1" >&2; exit 1; }; \
		[ -d var/pg/data ] || exit 0; PG_BIN=$$(pg_bindir); PG_DIR=$$PWD/var/pg; pg_stop_server'

clean: demo-stop
	rm -f tlswatch *.o *.d */*.o */*.d tests/*/*.o tests/*/*.d common/resources.c $(UNIT_BIN)
	rm -rf var

.PHONY: all deps units check demo demo-stop clean

# `make install`: the binary, both man pages, contrib/ under DOCDIR, and the
# example as $(SYSCONFDIR)/tlswatch/tlswatch.conf only when there is none
# (the binary reads /etc/tlswatch/tlswatch.conf whatever SYSCONFDIR says).
# `make uninstall` removes them all, except a configuration that differs
# from the example: that one is yours, and it says it kept it.
CONTRIB_DOCS = $(sort $(shell find contrib -type f))
DOC_DIRS = $(sort $(patsubst contrib/%,%,$(filter-out contrib/,$(dir $(CONTRIB_DOCS)))))
CONF = $(DESTDIR)$(SYSCONFDIR)/tlswatch/tlswatch.conf

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(dir $(CONF))
	install -m 755 tlswatch $(DESTDIR)$(BINDIR)/tlswatch
	install -m 644 man/tlswatch.1 $(DESTDIR)$(MANDIR)/man1/tlswatch.1
	install -m 644 man/tlswatch.conf.5 $(DESTDIR)$(MANDIR)/man5/tlswatch.conf.5
	@for f in $(CONTRIB_DOCS); do install -D -m 644 $$f $(DESTDIR)$(DOCDIR)/$${f#contrib/} || exit 1; done
	@if [ -e $(CONF) ]; then echo "kept $(CONF)"; \
	else install -m 644 contrib/tlswatch.conf.example $(CONF) && echo "installed $(CONF)"; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tlswatch $(DESTDIR)$(MANDIR)/man1/tlswatch.1 \
		$(DESTDIR)$(MANDIR)/man5/tlswatch.conf.5
	@for f in $(CONTRIB_DOCS); do rm -f $(DESTDIR)$(DOCDIR)/$${f#contrib/}; done
	@for d in $(DOC_DIRS) ''; do rmdir $(DESTDIR)$(DOCDIR)/$$d 2>/dev/null; done; true
	@if cmp -s contrib/tlswatch.conf.example $(CONF); then rm -f $(CONF); \
	elif [ -e $(CONF) ]; then echo "kept $(CONF): it differs from the example"; fi
	@rmdir $(dir $(CONF)) 2>/dev/null; true

.PHONY: install uninstall
