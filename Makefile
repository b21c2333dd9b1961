# FreezR: `make run` builds and runs the guardian with the embedded default configuration;
# `make test` builds and runs the whole test suite. Both install what they need first.
BUILD ?= build
JOBS ?= 2
ARGS ?=
CMAKE_FLAGS ?=

.PHONY: all deps test-deps deb-deps build run test test-loaded install deb bench clean

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

# Only the binary: no tests, no benchmarks (the release preset's flags, so `make test` reuses
# every object built here).
build: deps
	cmake --preset release -B $(BUILD) -DFREEZR_TESTS=OFF -DFREEZR_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target freezr

run: build
	$(BUILD)/freezr $(ARGS)

# The suite runs twice: on the release build, then under AddressSanitizer and UBSan. The
# Debian package is built first: the release suite installs it in a container under a real
# systemd (tests/integration/test_package.py).
test: test-deps
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset release
	scripts/make-deb.sh build/deb
	ctest --preset release --timeout 900
	cmake --preset sanitize $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset sanitize
	ctest --preset sanitize --timeout 600

# The release suite while two CPU burners of its own keep both cores busy (the package test
# aside: it needs `make deb`, and `make test` runs it).
test-loaded: test-deps
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset release
	scripts/with-load.sh 2 ctest --preset release --timeout 600 -E integration.test_package

deb-deps:
	@scripts/install-deps.sh deb

# The Debian package: build/deb/freezr_<version>_<arch>.deb, checked with lintian.
deb: deb-deps
	scripts/make-deb.sh $(BUILD)/deb

install: build
	cmake --build $(BUILD) -j$(JOBS) --target freezr_docs
	cmake --install $(BUILD)

bench: test-deps
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset release
	bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-sanitize
