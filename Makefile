# Entry points for people and CI; the real build lives in CMakePresets.json.
# Each target is one command that parallelises internally (ninja, ctest -j2),
# so this file runs serially and hands no make flags down to the tools it calls.

.NOTPARALLEL:
unexport MAKEFLAGS MFLAGS

# make demo CORTEX_DEMO_EPOCHS=1 (or the same in the environment) cuts the demo short.
CORTEX_DEMO_EPOCHS ?= 12
# make install PREFIX=~/.local installs elsewhere than /usr/local.
PREFIX ?= /usr/local

.PHONY: build configure deps test demo bench install package cuda clean

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake --preset cpu

build: configure
	cmake --build --preset cpu

test: build
	ctest --preset cpu -j2 --output-on-failure

# The lecture CNN on Fashion-MNIST: 12 epochs of training, then the test figures;
# runs/demo/report.html is the run's report. Builds only the cortex command.
demo: configure
	cmake --build --preset cpu --target cortex_cli
	./build/cpu/cli/cortex train --epochs $(CORTEX_DEMO_EPOCHS) --report-dir runs/demo
	./build/cpu/cli/cortex evaluate model.cortex

bench: build
	bash bench/run.sh
	bash bench/cpu_train.sh

# Headers, libraries, the cortex command, the CMake package and cortex.pc under PREFIX.
install: build
	cmake --install build/cpu --prefix $(PREFIX)

# build/cpu/cortex_<version>_amd64.deb: apt-get install ./build/cpu/cortex_*.deb
package: build
	cd build/cpu && cpack

cuda: deps
	cmake --preset cuda
	cmake --build --preset cuda

clean:
	rm -rf build
