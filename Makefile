# The README's two commands: `make train` and `make test`.
# Each installs missing Debian packages, then builds incrementally.
BUILD_DIR ?= build
JOBS ?= 2
CONFIG ?= $(shell if nvidia-smi -L >/dev/null 2>&1; then echo configs/safe_training.yaml; else echo configs/quickstart.yaml; fi)

.PHONY: deps build train test clean

deps:
	@tools/install_deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

train: build
	$(BUILD_DIR)/trainer --config $(CONFIG)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)
