#!/usr/bin/env bash
# Cortex as someone else's library: install the build to a temporary prefix,
# then build and run examples/standalone through find_package(Cortex) and
# through pkg-config, and check what a user meets when something is wrong
# (a version we are not, a missing dependency). add_subdirectory is checked to
# configure without CLI11 and GoogleTest (building it again would take minutes).
#
#   standalone.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=${1:?usage: standalone.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: standalone.sh SOURCE_DIR BUILD_DIR}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
prefix=$dir/prefix
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

cmake --install "$build" --prefix "$prefix" >"$dir/install.log" 2>&1 || fail "install: $(tail -5 "$dir/install.log")"
for f in bin/cortex include/cortex/cortex.h lib/cmake/Cortex/CortexConfig.cmake lib/cmake/Cortex/CortexConfigVersion.cmake \
         lib/cmake/Cortex/CortexTargets.cmake lib/pkgconfig/cortex.pc lib/libcortex_core.a lib/libcortex_train.a; do
  [[ -e $prefix/$f ]] || fail "the install has no $f"
done
# Public headers never bring oneDNN, CUDA, CLI11, OpenMP, zlib, libpng or nlohmann-json with them.
bad=$(grep -rlE '#include *[<"](dnnl|oneapi|cuda|cublas|cudnn|CLI/|omp\.h|zlib|png|nlohmann)' "$prefix/include" || true)
[[ -z $bad ]] || fail "public headers include third-party headers: $bad"
"$prefix/bin/cortex" --help >"$dir/help.log" 2>&1 || fail "the installed cortex --help: $(cat "$dir/help.log")"

# find_package(Cortex) -> Cortex::cortex.
cmake -S "$src/examples/standalone" -B "$dir/app" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$dir/app.log" 2>&1 || fail "configure against the install: $(cat "$dir/app.log")"
cmake --build "$dir/app" >>"$dir/app.log" 2>&1 || fail "build against the install: $(tail -20 "$dir/app.log")"
"$dir/app/circle" >"$dir/run.log" 2>&1 || fail "the standalone program: $(cat "$dir/run.log")"
grep -q "^Test accuracy: 0\.9" "$dir/run.log" || fail "standalone accuracy: $(cat "$dir/run.log")"

# pkg-config, moved elsewhere (the .pc file finds its prefix from its own place).
mv "$prefix" "$dir/moved"
export PKG_CONFIG_PATH=$dir/moved/lib/pkgconfig
flags=$(pkg-config --cflags --libs cortex) || fail "pkg-config cortex"
g++ -O1 "$src/examples/standalone/main.cpp" $flags -o "$dir/circle_pc" >"$dir/pc.log" 2>&1 ||
  fail "g++ with pkg-config's flags ($flags): $(tail -20 "$dir/pc.log")"
"$dir/circle_pc" | grep -q "^Test accuracy: 0\.9" || fail "the pkg-config build does not learn"
mv "$dir/moved" "$prefix"

# A version we are not is CMake's own message, naming the version found.
mkdir -p "$dir/v99"
printf 'cmake_minimum_required(VERSION 3.25)\nproject(v99 LANGUAGES CXX)\nfind_package(Cortex 99 CONFIG REQUIRED)\n' \
  >"$dir/v99/CMakeLists.txt"
cmake -S "$dir/v99" -B "$dir/v99/build" -DCMAKE_PREFIX_PATH="$prefix" >"$dir/v99.log" 2>&1 &&
  fail "find_package(Cortex 99) succeeded"
grep -q 'requested version "99"' "$dir/v99.log" || fail "version 99: $(cat "$dir/v99.log")"
grep -q 'version: 0\.' "$dir/v99.log" || fail "version 99 does not name ours: $(cat "$dir/v99.log")"

# A dependency missing at find_package time names the Debian package.
cmake -S "$src/examples/standalone" -B "$dir/nopng" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_DISABLE_FIND_PACKAGE_PNG=ON \
  >"$dir/nopng.log" 2>&1 && fail "find_package(Cortex) without libpng succeeded"
grep -q "apt-get install libpng-dev" "$dir/nopng.log" || fail "missing libpng: $(cat "$dir/nopng.log")"

# add_subdirectory: the same target, without CLI11 or GoogleTest.
cmake -S "$src/examples/standalone" -B "$dir/sub" "${gen[@]}" -DCORTEX_SOURCE_DIR="$src" \
  -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON >"$dir/sub.log" 2>&1 ||
  fail "add_subdirectory: $(cat "$dir/sub.log")"
[[ ! -e $dir/sub/cortex/cli ]] || fail "add_subdirectory built the command line too"
echo "standalone: install, find_package, pkg-config, version and dependency errors, add_subdirectory: all passed"
