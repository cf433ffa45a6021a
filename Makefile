# What a person types. CMake does the building; this file only names the steps.
BUILD_DIR ?= build
SANITIZE ?= OFF
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build deps check-deps test run demo bench clean format

all: build

deps:
	@scripts/deps.sh

check-deps:
	@scripts/deps.sh --check

build: check-deps
	@cmake -S . -B $(BUILD_DIR) -DBOOKCAST_SANITIZE=$(SANITIZE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

run: deps
	@$(MAKE) --no-print-directory build
	@scripts/pipeline.sh run $(BUILD_DIR)

demo: deps
	@$(MAKE) --no-print-directory build
	@scripts/pipeline.sh demo $(BUILD_DIR)

bench: check-deps
	@$(MAKE) --no-print-directory build
	@bench/run.sh $(BUILD_DIR)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	@rm -rf $(BUILD_DIR) build build-sanitize bench/results
