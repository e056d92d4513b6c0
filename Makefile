# One GNU Makefile for the whole tree. Out-of-tree objects in $(BUILD), binaries in $(BIN).
#   make              bin/clair bin/clairctl bin/clair-controller
#   make test         install deps (hack/deps.sh), build, run every test; ends "N passed, N failed"
#   make test SAN=1   the same, built with -fsanitize=address,undefined into build/san
#   make bench        benchmarks, printed as ratios against baselines measured in the same run
#   make run          the main job on an embedded private PostgreSQL (hack/run.sh)
#   make fmt lint

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
BIN ?= build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT := -O1 -g
else
BUILD ?= build/rel
BIN ?= bin
SANFLAGS :=
OPT := -O2 -g
endif

CC ?= cc
PKGS := libwebsockets libcurl yaml-0.1 jansson libpq libarchive openssl libxml-2.0 sqlite3 librabbitmq libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-format-nonliteral -Wno-format-truncation
CFLAGS := -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -I. $(PKG_CFLAGS) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread -lm

# DIRS narrows the source tree (e.g. DIRS="common scanner/config" BUILD=build/x test-bins builds
# only those modules and their tests), so work in one module never waits on another.
DIRS ?= common scanner controller
find_c = $(if $(filter $(1)%,$(DIRS)),$(shell find $(filter $(1)%,$(DIRS)) -name '*.c' 2>/dev/null | sort))
COMMON_SRC := $(filter-out %_test.c,$(call find_c,common))
SCANNER_SRC := $(filter-out %_test.c scanner/cmd/%,$(call find_c,scanner))
CONTROLLER_SRC := $(filter-out %_test.c controller/cmd/%,$(call find_c,controller))
TEST_SRC := $(filter %_test.c,$(call find_c,common) $(call find_c,scanner) $(call find_c,controller))
TESTLIB_SRC := $(shell find testlib -name '*.c' | sort)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_LIB := $(BUILD)/libcommon.a
SCANNER_LIB := $(BUILD)/libscanner.a
CONTROLLER_LIB := $(BUILD)/libcontroller.a
TESTLIB_LIB := $(BUILD)/libtestlib.a
TEST_BINS := $(patsubst %.c,$(BUILD)/tests/%,$(TEST_SRC))

PROGS := $(BIN)/clair $(BIN)/clairctl $(BIN)/clair-controller

.PHONY: all test check bench fuzz e2e run fmt lint clean deps tests-build test-bins
all: $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(SCANNER_LIB): $(call obj,$(SCANNER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(CONTROLLER_LIB): $(call obj,$(CONTROLLER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(TESTLIB_LIB): $(call obj,$(TESTLIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/clair: $(call obj,scanner/cmd/clair.c) $(SCANNER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/clairctl: $(call obj,scanner/cmd/clairctl.c) $(SCANNER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/clair-controller: $(call obj,controller/cmd/main.c) $(CONTROLLER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/%.o $(TESTLIB_LIB) $(SCANNER_LIB) $(CONTROLLER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

tests-build: $(PROGS) $(TEST_BINS)
test-bins: $(TEST_BINS)

deps:
	bash hack/deps.sh

# The README's test command. Installs its own dependencies, then builds and runs everything.
test: deps
	$(MAKE) --no-print-directory tests-build
	BUILD=$(BUILD) BIN=$(BIN) bash hack/run-tests.sh

check: test

bench: deps all
	bash hack/bench.sh
	@for b in hack/bench_indexer.sh hack/bench_matcher.sh hack/bench_notifier.sh hack/bench_controller.sh; do \
		if [ -f $$b ]; then echo; bash $$b || exit 1; fi; \
	done

run: deps all
	bash hack/run.sh

e2e: deps all
	bash hack/run-tests.sh e2e

fmt:
	clang-format -i $$(find common scanner controller testlib -name '*.[ch]')

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		--suppress=missingIncludeSystem -I. common scanner controller

# --- fuzz (owned by the fuzz work) ---
# Every parser has a fuzz target fuzz/<name>_fuzz.c (LLVMFuzzerTestOneInput) with a seed corpus
# in fuzz/corpus/<name>/.
#   make tests-build  also builds $(BUILD)/tests/fuzz/<name>_fuzz_test: fuzz/replay.c runs the
#                     target once per corpus file (cmocka-style summary, one test per file), so
#                     `make test` replays every corpus with the normal (and SAN=1) flags
#   make fuzz         builds each target with clang -fsanitize=fuzzer,address,undefined into
#                     build/fuzz/ and runs it FUZZ_SECONDS (default 60) on its corpus; new corpus
#                     entries go to build/fuzz/corpus/<name>/, crashes to build/fuzz/<name>-crash-*
#                     (needs clang and libFuzzer: Debian clang-14 libclang-rt-14-dev)
#   make fuzz FUZZ_TARGETS=jwt FUZZ_SECONDS=600     one target, longer
FUZZ_TARGETS ?= config dsn http jwt version
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?= -max_len=16384 -timeout=20 -rss_limit_mb=4096
FUZZ_BUILD := build/fuzz
FUZZ_CC ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null))
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_ALL := config dsn http jwt version
# the replay binaries link the whole scanner library, so only when DIRS covers it
ifneq ($(filter common,$(DIRS)),)
ifneq ($(filter scanner,$(DIRS)),)
FUZZ_REPLAY_BINS := $(patsubst %,$(BUILD)/tests/fuzz/%_fuzz_test,$(FUZZ_ALL))
endif
endif

$(BUILD)/obj/fuzz/replay-%.o: fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFUZZ_CORPUS_DIR=\"fuzz/corpus/$*\" -c $< -o $@

$(FUZZ_REPLAY_BINS): $(BUILD)/tests/fuzz/%_fuzz_test: $(BUILD)/obj/fuzz/replay-%.o $(BUILD)/obj/fuzz/%_fuzz.o $(SCANNER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests-build: $(FUZZ_REPLAY_BINS)

# libFuzzer binaries (built by the recursive make below, inside BUILD=build/fuzz)
$(BUILD)/%_fuzz: $(BUILD)/obj/fuzz/%_fuzz.o $(SCANNER_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.PHONY: fuzz-bins
fuzz-bins: $(patsubst %,$(BUILD)/%_fuzz,$(FUZZ_TARGETS))

fuzz:
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz: clang not found; install the Debian packages clang-14 and libclang-rt-14-dev" \
			"(apt-get install clang-14 libclang-rt-14-dev)"; exit 1; fi
	@mkdir -p $(FUZZ_BUILD)
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
		> $(FUZZ_BUILD)/probe.c
	@if ! $(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(FUZZ_BUILD)/probe.c -o $(FUZZ_BUILD)/probe 2>/dev/null; then \
		echo "make fuzz: $(FUZZ_CC) cannot link -fsanitize=fuzzer,address,undefined; install the Debian" \
			"packages clang-14 and libclang-rt-14-dev (apt-get install clang-14 libclang-rt-14-dev)"; exit 1; fi
	$(MAKE) --no-print-directory SAN=0 DIRS="common scanner" BUILD=$(FUZZ_BUILD) BIN=$(FUZZ_BUILD)/bin \
		CC=$(FUZZ_CC) OPT="-O1 -g" SANFLAGS="$(FUZZ_SANFLAGS) -fsanitize=fuzzer-no-link" \
		EXTRA_CFLAGS="-Wno-unknown-warning-option" FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins
	@failed=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		$(FUZZ_BUILD)/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_FLAGS) \
			-artifact_prefix=$(FUZZ_BUILD)/$$t- $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t \
			|| failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "make fuzz: failing targets:$$failed (inputs: $(FUZZ_BUILD)/<target>-crash-*)"; exit 1; fi; \
	echo "make fuzz: no crashes in$(patsubst %, %,$(FUZZ_TARGETS))"
# --- end fuzz ---

clean:
	rm -rf build bin

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
