# pve-gitops - top-level targets. The build itself is CMake; this file only
# names the things people run. See README.md.
#
#   make            build into build/ (binaries in build/bin/)
#   make test       install dependencies if missing, build, run every test
#   make demo       install, build, and run the demo against the example
#   make demo-real  the chain against one real QEMU guest (builds or reuses
#                   the guest image as root; a few minutes)
#   make asan       AddressSanitizer + UBSan build running the same suite
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each (default 60);
#                   FUZZ_TARGETS="ini tag" runs only those
#   make bench      benchmarks in bench/ (figures, not pass/fail)
#   make install    install (PREFIX=/usr/local by default, DESTDIR honoured)
#   make deb        the Debian packages pve-gitops and pve-gitops-sim (CPack)
#                   into $(BUILD)/deb/
#   make format     clang-format the sources in place

PREFIX ?= /usr/local
BUILD ?= build
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

SOURCES = $(wildcard src/*.c src/*/*.c src/*/*.h src/*/*/*.c src/*/*/*.h sim/*/*.c sim/*/*.h \
	tests/unit/*.c tests/unit/*.h fuzz/*.c bench/*.c)

.PHONY: all build deps test asan fuzz demo demo-real bench install deb format format-check clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) </dev/null

asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPVE_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) </dev/null

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DPVE_FUZZ=ON -DPVE_SANITIZE=ON
	cmake --build build-fuzz -j $(JOBS) --target fuzz_vmdef fuzz_config fuzz_tag fuzz_kubeconfig fuzz_ini fuzz_release fuzz_new_hosts fuzz_outputs fuzz_workspace
	scripts/fuzz.sh build-fuzz/bin $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: deps
	@$(MAKE) --no-print-directory build
	@scripts/demo.sh $(BUILD)/bin

demo-real: deps
	@$(MAKE) --no-print-directory build
	@scripts/demo-real.sh $(BUILD)/bin

bench: build
	$(BUILD)/bin/bench_validate $(BUILD)/bin/pve-gitops
	$(BUILD)/bin/bench_inventory $(BUILD)/bin/pve-gitops
	/usr/bin/python3 bench/plan.py $(BUILD)/bin/pve-gitops $(BUILD)/bin/proxmox-sim
	/usr/bin/python3 bench/apply.py $(BUILD)/bin/pve-gitops $(BUILD)/bin/proxmox-sim
	/usr/bin/python3 bench/provision.py $(BUILD)/bin/pve-gitops $(BUILD)/bin/proxmox-sim $(BUILD)/bin/vault-sim .
	/usr/bin/python3 bench/ansible_inventory.py $(BUILD)/bin/pve-gitops $(BUILD)/bin/proxmox-sim
	@if [ -n "$(SEED_UPDATE_INVENTORY)" ]; then /usr/bin/python3 bench/inventory_seed.py $(BUILD)/bin/pve-gitops "$(SEED_UPDATE_INVENTORY)"; \
	else echo "bench/inventory_seed.py: not run (SEED_UPDATE_INVENTORY=PATH names the original update-inventory.sh)"; fi

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

deb: build
	cd $(BUILD) && cpack -G DEB -B "$(CURDIR)/$(BUILD)/deb"

format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf build build-asan build-fuzz
