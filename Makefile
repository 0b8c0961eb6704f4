# tlswatch: plain Makefile, every library through pkg-config.
# CFLAGS/LDFLAGS are the user's; the project's own flags are added with
# override so `make CFLAGS=-O0` keeps the warnings.

PREFIX  ?= /usr/local
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
	postgresql perl time clang-format libxml2-utils python3 openssl
deps:
	@sh tests/lib/deps.sh $(DEB_PKGS)

units: $(UNIT_BIN)

# One throwaway PostgreSQL per test file (tests/lib/pg.sh); prove runs unit
# binaries (GTest prints TAP) and shell tests alike.
check: deps
	@$(MAKE) --no-print-directory all units
	prove --exec '' $(UNIT_BIN) tests/integration/*.t

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
