# ferry: the two set-up commands (make demo, make check) and the steps they are made of.
# Every target that needs Debian packages runs `deps` first, which installs only what is missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 3600
FUZZ_JOBS  ?= 1
# FUZZ_CPU_SECONDS=N: N seconds of CPU time per target instead of wall time (ulimit -t, SCHED_IDLE)
FUZZ_CPU_SECONDS ?=
# scratch folder of the fuzz targets: a tmpfs when there is one (the targets that write device
# directories and backups run several times faster there)
FUZZ_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm)
FUZZ_TARGETS = mbfile keybag plist manifest_db backup encrypted_file \
               usbmux lockdown afc devicelink profile mdm_server mdm_device
MAKEFLAGS  += --no-print-directory
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# tests at a time: twice the cores, because most integration tests wait on sockets, fsync and the
# emulated devices rather than compute
TEST_JOBS  ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) * 2 )))
CMAKE_ARGS ?=

# The Debian packages of DESIGN.md that this tree uses; python3 for the command-line tests; time and bc
# for the benchmarks; clang and its runtime for the fuzzers; Ceph and awscli for the fleet tests;
# chromium to check that the demo's HTML report renders.
DEB_PKGS = build-essential cmake pkg-config libplist-dev libplist-utils libsqlite3-dev sqlite3 \
           libssl-dev libcmocka-dev libimobiledevice-dev libusbmuxd-dev libimobiledevice-utils \
           libmicrohttpd-dev libcurl4-openssl-dev python3 time bc clang libclang-rt-14-dev \
           ceph-mon ceph-osd ceph-common radosgw awscli chromium

.PHONY: all deps build build-asan build-fuzz check check-fast check-asan fuzz fuzz-smoke demo tour bench clean

all: build

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: run as root (or install:$$missing)" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all Debian packages present"; fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

check-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

check-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(TEST_JOBS)

# The libFuzzer build (fuzz/): clang, coverage + ASan + UBSan; only the fuzz targets are built.
build-fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

# 10 seconds per target (the fuzz_smoke_* ctest tests); part of make check.
fuzz-smoke: build-fuzz
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -R '^fuzz_smoke_'

# Long runs: FUZZ_SECONDS per target (or FUZZ_CPU_SECONDS of CPU time), FUZZ_JOBS targets at a
# time; the corpus grows in $(FUZZ_BUILD)/fuzz/corpus, crashes land in $(FUZZ_BUILD)/fuzz/artifacts.
fuzz: build-fuzz
	FERRY_FUZZ_TMPDIR=$(FUZZ_TMPDIR) bash fuzz/run.sh \
	  $(if $(FUZZ_CPU_SECONDS),--cpu-seconds $(FUZZ_CPU_SECONDS),--seconds $(FUZZ_SECONDS)) --jobs $(FUZZ_JOBS) \
	  $(FUZZ_BUILD)/fuzz $(FUZZ_TARGETS)

check: check-fast check-asan fuzz-smoke
	@echo "make check: all tests passed (plain and ASan+UBSan builds, 10 s of fuzzing per target)"

demo: build
	bash scripts/demo.sh $(BUILD)/ferry

# The backup-format tour (info, ls, cat, extract, verify on a generated backup and the fixtures).
tour: build
	LAB=lab/tour bash scripts/tour.sh $(BUILD)/ferry

# Speed and memory against named baselines; not part of `make check` (they need ~15 GB of disk).
bench: build
	bash bench/extract.sh $(BUILD)/ferry
	bash bench/device_create.sh $(BUILD)/ferry
	bash bench/backup.sh $(BUILD)/ferry

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
