# tagpilot — build, test, demo, bench.
#   make          build ./tagpilot (installs missing Debian packages first when root)
#   make check    build with ASan+UBSan and run every test (and replay the fuzz corpora)
#   make fuzz     build the libFuzzer targets and run each for FUZZ_SECONDS (default 60)
#   make demo     open the console on a local registry and git repository it seeds
#   make bench    measure speed side by side with skopeo
#   make mutants  plant each bug of tests/mutants/ and check that a suite catches it (MUTANTS=pattern)
#   make format   clang-format the sources

BUILD   ?= build
comma   := ,
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := ncursesw libcurl libcjson libgit2 yaml-0.1 libpcre2-8 libcrypto
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Werror
STD     := -std=c17 -D_GNU_SOURCE
OPT     ?= -O2 -g
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
# Build in parallel, unless the caller already chose (make -jN passes its own jobserver).
PARALLEL = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(JOBS))
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g

ENGINE_SRC := $(sort $(shell find engine -name '*.c'))
TUI_SRC    := $(sort $(shell find tui -name '*.c'))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))

# pkg-config is asked only inside the recursive builds below, after deps.sh has installed
# whatever was missing.
ifdef TP_INNER
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)
endif

# The engine sees only its own headers; the console and the tests see both (the include check
# in tests/layers.sh holds the engine's own layers apart).
CFLAGS_COMMON = $(STD) $(WARN) -Iengine $(if $(filter engine/%,$<),,-Itui) $(PKG_CFLAGS) -MMD -MP

REL := $(BUILD)/rel
ASN := $(BUILD)/asan

REL_ENGINE := $(ENGINE_SRC:%.c=$(REL)/%.o)
REL_TUI    := $(TUI_SRC:%.c=$(REL)/%.o)
ASN_ENGINE := $(ENGINE_SRC:%.c=$(ASN)/%.o)
ASN_TUI    := $(TUI_SRC:%.c=$(ASN)/%.o)
# The console's unit tests (tests/unit/test_tui_*.c) link the tui objects but main() and the
# subcommands (which need main.c's cli_usage_error).
ASN_TUI_LIB := $(filter-out $(ASN)/tui/main.o $(ASN)/tui/cmd_%.o,$(ASN_TUI))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(ASN)/tests/%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(ASN)/tools/%)

# libFuzzer targets (clang only): each tests/fuzz/fuzz_<name>.c against the engine compiled a
# third time, with libFuzzer's coverage and ASan+UBSan, into build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ         := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ)/%)
FUZZ_ENGINE  := $(ENGINE_SRC:%.c=$(FUZZ)/%.o)

.PHONY: all check plans fuzz mutants demo bench format install clean deps _tagpilot _check_build _bench_tools \
	_fuzz_build

all:
	@sh tests/lib/deps.sh build
	@$(MAKE) --no-print-directory $(PARALLEL) TP_INNER=1 _tagpilot

_tagpilot: tagpilot

tagpilot: $(REL_ENGINE) $(REL_TUI)
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(CFLAGS_COMMON) -c -o $@ $<

$(ASN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(CFLAGS_COMMON) -c -o $@ $<

$(ASN)/tagpilot: $(ASN_ENGINE) $(ASN_TUI)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

$(ASN)/tests/%: $(ASN)/tests/unit/%.o $(ASN_ENGINE)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS)

$(ASN)/tests/test_tui_%: $(ASN)/tests/unit/test_tui_%.o $(ASN_TUI_LIB) $(ASN_ENGINE)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS)

$(ASN)/tools/%: $(ASN)/tests/tools/%.o $(ASN_ENGINE)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

_check_build: $(ASN)/tagpilot $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_BIN)

# Every test, under ASan+UBSan. tests/run.sh fails on any sanitizer report, which Criterion
# alone would count as a pass. TESTS=pattern narrows the run (e.g. TESTS=semver). The fuzz
# targets are built too and replay their seed corpus and every regression input.
check:
	@sh tests/lib/deps.sh check
	@$(MAKE) --no-print-directory $(PARALLEL) TP_INNER=1 _check_build
	@TAGPILOT=$(ASN)/tagpilot UNIT_DIR=$(ASN)/tests TOOL_DIR=$(ASN)/tools FUZZ_DIR=$(FUZZ) \
		sh tests/run.sh $(TESTS)

# `make fuzz` runs each target in turn for FUZZ_SECONDS from its seed corpus, copied to a scratch
# folder so that the committed corpus does not grow; what it finds lands in
# build/fuzz/findings/<name>/. FUZZ_TARGETS=time,semver picks some.
$(FUZZ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CFLAGS_COMMON) -c -o $@ $<

$(FUZZ)/fuzz_%: $(FUZZ)/tests/fuzz/fuzz_%.o $(FUZZ_ENGINE)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

_fuzz_build: $(FUZZ_BIN)

fuzz:
	@sh tests/lib/deps.sh fuzz
	@$(MAKE) --no-print-directory $(PARALLEL) TP_INNER=1 _fuzz_build
	@FUZZ_DIR=$(FUZZ) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(subst $(comma), ,$(FUZZ_TARGETS))

# Record how many checks each suite ran as its plan (tests/plans), after adding or removing
# checks on purpose: review the diff.
plans:
	@sh tests/lib/deps.sh check
	@$(MAKE) --no-print-directory $(PARALLEL) TP_INNER=1 _check_build
	@TP_WRITE_PLANS=1 TAGPILOT=$(ASN)/tagpilot UNIT_DIR=$(ASN)/tests TOOL_DIR=$(ASN)/tools \
		FUZZ_DIR=$(FUZZ) sh tests/run.sh $(TESTS)

# The mutation check, not part of check: every tests/mutants/*.patch is applied in turn to a
# scratch copy of the tree (built once, seeded from $(BUILD)/asan), the suites its header names
# run, and it must make one of them fail (docs/testing.md). MUTANTS=pattern runs a subset.
mutants:
	@sh tests/lib/deps.sh check
	@BUILD='$(BUILD)' MUTANTS='$(MUTANTS)' sh tests/mutants/run.sh

demo:
	@sh tests/lib/deps.sh demo
	@$(MAKE) --no-print-directory $(PARALLEL) TP_INNER=1 _tagpilot
	@sh tests/demo/demo.sh

bench:
	@sh tests/lib/deps.sh bench
	@$(MAKE) --no-print-directory $(PARALLEL) TP_INNER=1 _tagpilot _bench_tools
	@sh tests/bench/bench.sh

# Benchmark drivers (tests/bench/*.c), optimised like the release build, into build/bench/.
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

_bench_tools: $(BENCH_BIN)

$(BUILD)/bench/%: $(REL)/tests/bench/%.o $(REL_ENGINE)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

format:
	clang-format -i $(ENGINE_SRC) $(TUI_SRC) $(UNIT_SRC) $(TOOL_SRC) $(FUZZ_SRC) $(shell find engine tui tests -name '*.h')

install: all
	install -D -m 0755 tagpilot $(DESTDIR)$(PREFIX)/bin/tagpilot
	install -d $(DESTDIR)$(PREFIX)/share/tagpilot/themes
	install -m 0644 themes/* $(DESTDIR)$(PREFIX)/share/tagpilot/themes/

clean:
	rm -rf $(BUILD) tagpilot

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
