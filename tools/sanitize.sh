#!/usr/bin/env bash
# Builds the LibTorch-free unit tests (common, config) with AddressSanitizer +
# UndefinedBehaviorSanitizer (LeakSanitizer on) and runs them; any report fails.
# LibTorch itself is not instrumented, so suites that call into it would report
# its one-time allocations rather than ours; they run unsanitized in ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${ASAN_BUILD_DIR:-build-asan}"
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAFETRAIN_SANITIZE=ON -DSAFETRAIN_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target test_common test_config
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for suite in test_common test_config; do
  echo "sanitize: $suite"
  "$BUILD_DIR/tests/$suite" --gtest_brief=1
done
echo "sanitize: no reports"
