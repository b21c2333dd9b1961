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

test: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFREEZR_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure --timeout 600

install: build
	cmake --install $(BUILD) --prefix /usr/local

bench: build
	bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
