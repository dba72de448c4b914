# mipart: a thin wrapper around Meson + ninja.
#   make demo   install missing Debian packages, build, run the demo on a simulated 8 x MI300X node
#   make test   build, run every test, then the whole suite again under ASan+UBSan
#   make bench  build with optimisation and print the benchmark figures

PACKAGES := meson ninja-build pkgconf gcc libjansson-dev libyaml-dev libsqlite3-dev sqlite3 \
	libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev jq curl prometheus chromium python3-yaml \
	python3 slurmctld slurmd slurm-client munge \
	python3-dev python3-pytest scdoc debhelper lintian strace
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON ?= meson

.PHONY: all deps build demo test test-plain test-asan test-deb deb bench fuzz soak clean print-packages

all: build

print-packages:
	@echo $(PACKAGES)

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing: $$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else \
			echo "missing Debian packages; run:"; echo "  sudo apt-get install $$missing"; exit 1; \
		fi; \
	fi

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)/src/cli/mipart

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

test-plain: build
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2

# Both suites run even if the first fails; the last line counts every test case of both (and
# of the test logs in TEST_LOGS: .ci/run passes the one of test-deb).
TEST_LOGS ?=
test: build
	@rc=0; $(MAKE) --no-print-directory test-plain || rc=1; \
	$(MAKE) --no-print-directory test-asan || rc=1; \
	tests/tap-summary.sh $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json $(TEST_LOGS) || rc=1; \
	exit $$rc

# Debian packages (debian/, docs/library.md): mipart, libmipart1, libmipart-dev, python3-mipart
# in $(DEB_BUILD), lintian clean. test-deb installs them into a scratch root and removes them
# (tests/deb/t-deb.sh); it takes minutes (a full build), so `make test` does not run it and
# .ci/run does. Its TAP goes to $(DEB_BUILD)/testlog.json in meson's format for tap-summary.
DEB_BUILD ?= build-deb
deb:
	scripts/make-deb.sh $(DEB_BUILD)

test-deb:
	@mkdir -p $(DEB_BUILD); rm -f $(DEB_BUILD)/testlog.json; \
	$(MAKE) --no-print-directory deb; brc=$$?; \
	if [ $$brc -eq 0 ]; then tests/deb/t-deb.sh $(DEB_BUILD) >$(DEB_BUILD)/t-deb.tap; rc=$$?; \
	else echo "not ok 1 - make deb" >$(DEB_BUILD)/t-deb.tap; rc=1; fi; \
	cat $(DEB_BUILD)/t-deb.tap; \
	jq -cRs --arg r "$$( [ $$rc -eq 0 ] && echo OK || echo FAIL )" '{name: "deb", result: $$r, stdout: .}' \
		$(DEB_BUILD)/t-deb.tap >$(DEB_BUILD)/testlog.json; \
	exit $$rc

# The fault soak (tests/soak/soak.py): random set/apply/allocate/release/recover from several
# processes, random driver faults and kill -9, invariants checked after every round.
# SEED=N replays a run (each run prints its seed; make test runs a short one with a new seed),
# PROCS processes a round (3), GPUS simulated GPUs (4).
SECONDS ?= 60
SEED ?=
PROCS ?= 3
GPUS ?= 4
soak: build
	python3 tests/soak/soak.py --mipart $(BUILD)/src/cli/mipart --seconds $(SECONDS) \
		--procs $(PROCS) --gpus $(GPUS) $(if $(SEED),--seed $(SEED))

bench: build
	bench/run.sh $(BUILD)
	@echo
	$(BUILD)/bench/estimator tests/fixtures/vllm-reference.csv
	@if [ -x $(BUILD)/bench/plan ]; then echo; $(BUILD)/bench/plan; fi

# libFuzzer harnesses (tests/fuzz/): a clang build with ASan+UBSan in $(FUZZ_BUILD), then each
# harness for FUZZ_SECONDS over a scratch corpus seeded from tests/fuzz/corpus/<name>/ (new
# inputs go to $(FUZZ_BUILD)/corpus/<name>/, a crashing input to $(FUZZ_BUILD)/crash-<name>-*).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
FUZZERS ?= $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz-*.c))))

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang $(MESON) setup $(FUZZ_BUILD) --buildtype=debugoptimized \
		-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(FUZZ_BUILD)
	@for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$f || exit 1; \
		dict=; [ -f tests/fuzz/$$f.dict ] && dict=-dict=tests/fuzz/$$f.dict; \
		seeds=; [ -d tests/fuzz/corpus/$$f ] && seeds=tests/fuzz/corpus/$$f; \
		echo "fuzzing $$f for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$f.log)"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(FUZZ_BUILD)/tests/fuzz/$$f \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$f- \
			$(FUZZ_BUILD)/corpus/$$f $$seeds >$(FUZZ_BUILD)/$$f.log 2>&1; \
		rc=$$?; grep '^stat::number_of_executed_units' $(FUZZ_BUILD)/$$f.log; \
		if [ $$rc -ne 0 ]; then \
			grep -E '==ERROR|SUMMARY|Test unit written' $(FUZZ_BUILD)/$$f.log; exit 1; \
		fi; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
