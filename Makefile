# ferry: the two set-up commands (make demo, make check) and the steps they are made of.
# Every target that needs Debian packages runs `deps` first, which installs only what is missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MAKEFLAGS  += --no-print-directory
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# The Debian packages of DESIGN.md that this tree uses, plus python3 for the command-line tests.
DEB_PKGS = build-essential cmake pkg-config libplist-dev libplist-utils libsqlite3-dev sqlite3 \
           libssl-dev libcmocka-dev libimobiledevice-dev libusbmuxd-dev libimobiledevice-utils \
           libmicrohttpd-dev libcurl4-openssl-dev python3 time bc \
           ceph-mon ceph-osd ceph-common radosgw awscli

.PHONY: all deps build build-asan check check-fast check-asan demo bench clean

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
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

check: check-fast check-asan
	@echo "make check: all tests passed (plain and ASan+UBSan builds)"

demo: build
	bash scripts/demo.sh $(BUILD)/ferry

# Speed and memory against named baselines; not part of `make check` (they need ~15 GB of disk).
bench: build
	bash bench/extract.sh $(BUILD)/ferry
	bash bench/device_create.sh $(BUILD)/ferry

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
