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

run: deps all
	bash hack/run.sh

e2e: deps all
	bash hack/run-tests.sh e2e

fmt:
	clang-format -i $$(find common scanner controller testlib -name '*.[ch]')

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		--suppress=missingIncludeSystem -I. common scanner controller

clean:
	rm -rf build bin

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
