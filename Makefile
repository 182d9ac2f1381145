# Entry points for people and CI; the real build lives in CMakePresets.json.
# Each target is one command that parallelises internally (ninja, ctest -j2),
# so this file runs serially and hands no make flags down to the tools it calls.

.NOTPARALLEL:
unexport MAKEFLAGS MFLAGS

.PHONY: build deps test demo bench cuda clean

build: deps
	cmake --preset cpu
	cmake --build --preset cpu

deps:
	bash scripts/install-deps.sh

test: build
	ctest --preset cpu -j2 --output-on-failure

# The lecture CNN on Fashion-MNIST: 12 epochs of training, then the test figures;
# runs/demo/report.html is the run's report.
demo: build
	./build/cpu/cli/cortex train --report-dir runs/demo
	./build/cpu/cli/cortex evaluate model.cortex

bench: build
	bash bench/run.sh
	bash bench/cpu_train.sh

cuda: deps
	cmake --preset cuda
	cmake --build --preset cuda

clean:
	rm -rf build
