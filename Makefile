# EnergyLens build. `make` builds the library (static + shared), the CLI, the
# unit tests and the benchmarks into $(BUILD)/; `make test` runs every test and
# ends with the tally line. Sanitizer build: `make SAN=1 test` (into build-san/).
#
# Dependencies (Debian 12): libnlopt-dev libgsl-dev libjansson-dev libcsv-dev
# libyaml-dev libcmocka-dev libxgboost-dev

CC      ?= cc
SAN     ?= 0
WERROR  ?= 0
BUILD   ?= $(if $(filter 1,$(SAN)),build-san,build)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wconversion -Wdouble-promotion -Wformat=2 -Wvla -Wwrite-strings -Wcast-qual -Wundef
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     ?= -O2 -g
SANFLAGS :=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
OPT     := -O1 -g $(SANFLAGS) -fno-omit-frame-pointer
endif
# Tests, benchmarks and fakes keep the warning set but allow float<->double
# promotions and narrowing in their arithmetic-heavy fixtures.
TESTWARN := -Wno-missing-prototypes -Wno-double-promotion -Wno-conversion -Wno-unused-function
CPPFLAGS := -Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
CFLAGS  := -std=c11 $(OPT) $(WARN) -fPIC -fvisibility=hidden -pthread
LDFLAGS := $(SANFLAGS) -pthread
LIBS    := -lnlopt -ljansson -lcsv -lyaml -lgsl -lgslcblas -ldl -lm

LIB_SRC   := $(sort $(wildcard src/*/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC   := $(sort $(wildcard tools/energylens/*.c))
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)
FAKE_SRC  := $(sort $(wildcard tests/fakes/*.c))
FAKE_SO   := $(FAKE_SRC:tests/fakes/%.c=$(BUILD)/fakes/%.so)

# The shared library carries an ABI version: the file is
# libenergylens.so.MAJOR.MINOR.PATCH (from the header's EL_VERSION_*), its
# SONAME libenergylens.so.MAJOR, and the two links beside it are what the
# dynamic loader (SONAME) and the linker (-lenergylens) look for. An
# incompatible change to the ABI bumps MAJOR, so programs linked against an
# older SONAME keep loading the library they were built for. Defined
# before the first rule that names them: make expands prerequisites as it
# reads each rule.
EL_VERSION := $(shell sed -n 's/^\#define EL_VERSION_STRING "\(.*\)"/\1/p' include/energylens/core.h)
EL_MAJOR   := $(firstword $(subst ., ,$(EL_VERSION)))
SONAME     := libenergylens.so.$(EL_MAJOR)
SOREAL     := libenergylens.so.$(EL_VERSION)

.PHONY: all lib cli tests bench test clean format-check install uninstall check-layers tidy \
        check-headers
all: lib cli tests bench $(FAKE_SO) $(REPLAY_BIN)
lib: $(BUILD)/libenergylens.a $(BUILD)/libenergylens.so $(BUILD)/$(SONAME) $(BUILD)/energylens.pc
cli: $(BUILD)/energylens
tests: $(TEST_BIN)
bench: $(BENCH_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libenergylens.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/$(SOREAL): $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $^ $(LIBS)

$(BUILD)/$(SONAME) $(BUILD)/libenergylens.so: $(BUILD)/$(SOREAL)
	ln -sf $(SOREAL) $@

# The CLI finds the shipped data at run time (tools/energylens/common.c,
# cli_datadir): $ENERGYLENS_DATADIR, or share/energylens or data/ next to
# the executable's directory. No build-tree path is compiled in.

$(BUILD)/energylens: $(CLI_OBJ) $(BUILD)/libenergylens.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libenergylens.a $(LIBS)

# Unit tests may reach internals (src/*/..._int.h), so they get -Isrc.
$(BUILD)/tests/%: tests/unit/%.c tests/unit/el_test.h $(BUILD)/libenergylens.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc -Itests/unit $(CFLAGS) $(TESTWARN) -o $@ $< \
	  $(BUILD)/libenergylens.a $(LDFLAGS) $(LIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(BUILD)/libenergylens.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $(TESTWARN) -o $@ $< $(BUILD)/libenergylens.a $(LDFLAGS) $(LIBS)

# Corpus replay drivers: each fuzz target linked with a plain main() so the
# saved corpus runs in every build (the fuzzing itself: tests/fuzz/run-fuzz.sh).
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libenergylens.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $(TESTWARN) -o $@ $< tests/fuzz/replay.c \
	  $(BUILD)/libenergylens.a $(LDFLAGS) $(LIBS)

$(BUILD)/fakes/%.so: tests/fakes/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TESTWARN) -shared -o $@ $<

# ---- profiling harness (src/prof) test fakes: begin -------------------------
# The fake OpenAI-compatible server is an executable (the profiler spawns it
# from a plan's argv template), so it lives in tests/fakes/server/, outside
# the *.so wildcard above. Fakes that include a sibling source or header are
# rebuilt when it changes.
FAKE_SERVER := $(BUILD)/fakes/fake_server
all: $(FAKE_SERVER)
$(FAKE_SERVER): tests/fakes/server/fake_server.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TESTWARN) -o $@ $< $(LDFLAGS) -ljansson -lm
$(FAKE_SO): tests/fakes/fake_power.h
$(BUILD)/fakes/fake_nvml_nosym.so: tests/fakes/fake_nvml.c
# ---- profiling harness (src/prof) test fakes: end ---------------------------

# ---- report (src/report): embedded page assets: begin -----------------------
# src/report/assets.S embeds the vendored Vega builds (vendor/vega/) and the
# page's stylesheet and script into the library with .incbin, so a report
# opens offline from an installed binary. .incbin paths are relative to the
# repository root, where make runs.
REPORT_ASSETS := vendor/vega/vega.min.js vendor/vega/vega-lite.min.js \
                 vendor/vega/vega-embed.min.js src/report/report.css src/report/report.js
REPORT_ASSET_OBJ := $(BUILD)/obj/src/report/assets.o
$(REPORT_ASSET_OBJ): src/report/assets.S $(REPORT_ASSETS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -c $< -o $@
$(BUILD)/libenergylens.a $(BUILD)/$(SOREAL): $(REPORT_ASSET_OBJ)
# ---- report (src/report): embedded page assets: end -------------------------

# ---- install (issue 14): begin ----------------------------------------------
# `make install PREFIX=/usr/local DESTDIR=/staging`. Every installed path is
# listed in $(BUILD)/install-manifest (without DESTDIR), and `make uninstall`
# removes exactly those paths and the directories that held only them.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR    ?= $(PREFIX)/share/energylens
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
# The Python binding goes where Debian's python3 looks under /usr/local
# (PREFIX/lib/pythonX.Y/dist-packages); packagers set PYTHONDIR. Empty when
# there is no python3: the binding is then not installed.
PYTHON     ?= python3
PYVERSION  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONDIR  ?= $(if $(PYVERSION),$(PREFIX)/lib/python$(PYVERSION)/dist-packages)
SHIPPED_DATA := $(sort $(wildcard data/*/*))

# The .pc file is generated from the install directories (re-made when they
# change, as it records them).
$(BUILD)/energylens.pc: energylens.pc.in include/energylens/core.h FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(EL_VERSION)|' -e 's|@LIBS@|$(LIBS) -pthread|' energylens.pc.in >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; echo "generated $@"; fi

# Shell completions come from the CLI's own command table and --help texts.
$(BUILD)/completion/energylens.bash: $(BUILD)/energylens
	@mkdir -p $(dir $@)
	$(BUILD)/energylens completion bash >$@.tmp && mv $@.tmp $@
$(BUILD)/completion/_energylens: $(BUILD)/energylens
	@mkdir -p $(dir $@)
	$(BUILD)/energylens completion zsh >$@.tmp && mv $@.tmp $@

# scripts/install.sh does the copying and keeps a manifest of every file and
# every directory it created, installed as $(DATADIR)/install-manifest, so
# `make uninstall` (same PREFIX and DESTDIR) removes exactly those, even from
# a fresh clone.
INSTALL_ENV = DESTDIR='$(DESTDIR)' BUILD='$(BUILD)' BINDIR='$(BINDIR)' LIBDIR='$(LIBDIR)' \
    INCLUDEDIR='$(INCLUDEDIR)' DATADIR='$(DATADIR)' MANDIR='$(MANDIR)' \
    PKGCONFIGDIR='$(PKGCONFIGDIR)' BASHCOMPDIR='$(BASHCOMPDIR)' ZSHCOMPDIR='$(ZSHCOMPDIR)' \
    PYTHONDIR='$(PYTHONDIR)' \
    SOREAL='$(SOREAL)' SONAME='$(SONAME)'
install: lib cli $(BUILD)/completion/energylens.bash $(BUILD)/completion/_energylens
	@$(INSTALL_ENV) sh scripts/install.sh install

uninstall:
	@$(INSTALL_ENV) sh scripts/install.sh uninstall

.PHONY: FORCE
FORCE:
# ---- install (issue 14): end ------------------------------------------------
# ---- learned prior (src/fit): embedded default prior: begin -----------------
# src/fit/prior_blob.S embeds src/fit/prior_default.json into the library.
# `make prior` regenerates that file from the shipped data/ (docs/PRIOR.md);
# `make prior-check` rebuilds it into build/ and fails if it differs.
PRIOR_OBJ := $(BUILD)/obj/src/fit/prior_blob.o
$(PRIOR_OBJ): src/fit/prior_blob.S src/fit/prior_default.json
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -c $< -o $@
$(BUILD)/libenergylens.a $(BUILD)/$(SOREAL): $(PRIOR_OBJ)
PRIOR_BUILD_CMD = $(BUILD)/energylens prior build --bundled --seed 0 -q
.PHONY: prior prior-check
prior: $(BUILD)/energylens
	$(PRIOR_BUILD_CMD) -o src/fit/prior_default.json
prior-check: $(BUILD)/energylens
	$(PRIOR_BUILD_CMD) -o $(BUILD)/prior_rebuilt.json
	cmp src/fit/prior_default.json $(BUILD)/prior_rebuilt.json
# ---- learned prior (src/fit): embedded default prior: end -------------------

test: all
	@BUILD=$(BUILD) sh tests/run-tests.sh

# A sharded profile through a real single-node Slurm (root, Debian's slurmctld,
# slurmd, slurm-client, munge); prints SKIP where Slurm cannot start.
.PHONY: test-slurm
test-slurm: all
	@BUILD=$(BUILD) bash tests/slurm/run-slurm-test.sh

# No source folder may reach up the layer order (docs/DESIGN.md section 9):
# include lines, and the symbols the built objects use.
check-layers: lib
	sh scripts/check-layers.sh --objects $(BUILD)

# Long fuzzing: every libFuzzer target for FUZZ_SECONDS each (default 600),
# new corpus inputs kept, crashes saved as regression inputs. CI runs the
# short smoke run (sh tests/fuzz/run-fuzz.sh) instead.
FUZZ_SECONDS ?= 600
.PHONY: fuzz-long
fuzz-long:
	FUZZ_KEEP=1 sh tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)

format-check:
	clang-format --dry-run --Werror include/energylens/*.h src/*/*.c src/*/*.h tools/energylens/*.c

# The public API is split by subsystem (include/energylens/*.h, docs/DESIGN.md
# section 9) behind the umbrella energylens.h. Each part must compile on its
# own: one translation unit per header that includes only that header.
PUBLIC_HEADERS := $(sort $(wildcard include/energylens/*.h))
check-headers:
	@mkdir -p $(BUILD)/check-headers
	@for h in $(PUBLIC_HEADERS); do \
	    n=$${h##*/}; echo "#include <energylens/$$n>" >$(BUILD)/check-headers/$${n%.h}.c; \
	    $(CC) $(CPPFLAGS) $(CFLAGS) -Werror -fsyntax-only $(BUILD)/check-headers/$${n%.h}.c || exit 1; \
	done; echo "check-headers: $(words $(PUBLIC_HEADERS)) headers compile on their own"

# clang-tidy (checks in .clang-tidy) over src/, the CLI and the public
# headers with the build's CPPFLAGS; any finding fails. TIDY_JOBS files at once.
TIDY_JOBS ?= 2
tidy:
	TIDY_JOBS=$(TIDY_JOBS) TIDY_CPPFLAGS='$(CPPFLAGS)' sh scripts/run-tidy.sh

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
