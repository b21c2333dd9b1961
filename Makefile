# FreezR: `make run` builds and runs the guardian with the embedded default configuration;
# `make test` builds and runs the whole test suite. Both install what they need first.
BUILD ?= build
JOBS ?= 2
ARGS ?=
CMAKE_FLAGS ?=

.PHONY: all deps build run test install bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/freezr $(ARGS)

# The suite runs twice: on the release build, then under AddressSanitizer and UBSan.
test: deps
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset release
	ctest --preset release --timeout 600
	cmake --preset sanitize $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset sanitize
	ctest --preset sanitize --timeout 600

install: build
	cmake --install $(BUILD) --prefix /usr/local

bench: build
	bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
