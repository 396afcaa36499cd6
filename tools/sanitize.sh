#!/usr/bin/env bash
# Sanitizer suites, run by ./safetrain.sh test after ctest. Any report fails.
#  1. AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer (build-asan):
#     test_common, test_config, and the threaded/LibTorch suites test_monitor,
#     test_data, test_eval.
#  2. ThreadSanitizer (build-tsan): test_monitor (the monitor thread) and
#     test_data (the loader's worker threads).
# Only these test binaries and the libraries they link are built in the
# sanitizer trees, which keeps the whole test command under 20 minutes.
# LibTorch, OpenMP, OpenBLAS and the font stack are not instrumented: the
# suppression files in tools/sanitizers/ name only their frames, with reasons.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
ASAN_DIR="${ASAN_BUILD_DIR:-build-asan}"
TSAN_DIR="${TSAN_BUILD_DIR:-build-tsan}"
SUPPRESSIONS="$PWD/tools/sanitizers"
source tools/build_env.sh
args=$(safetrain_cmake_args)
export SAFETRAIN_PYTHON  # the suites that write Parquet fixtures run it
read -r -a cmake_args <<<"$args"

configure() {  # configure DIR OPTION: once per tree
  if [ ! -f "$1/CMakeCache.txt" ]; then
    # -g1: line tables only. Reports keep file:line, and the torch-heavy objects skip full DWARF,
    # most of these trees' compile and link time.
    cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 "-D$2=ON" \
      -DSAFETRAIN_BUILD_BENCH=OFF "${cmake_args[@]}" >/dev/null
  fi
}

run_suites() {  # run_suites TREE SUITE...: each suite in one process, stops at the first report
  local tree="$1"
  shift
  for suite in "$@"; do
    echo "sanitize ($tree): $suite"
    "$tree/tests/$suite" --gtest_brief=1
  done
}

asan_suites=(test_common test_config test_monitor test_data test_eval)
tsan_suites=(test_monitor test_data)

configure "$ASAN_DIR" SAFETRAIN_SANITIZE
nice -n 10 cmake --build "$ASAN_DIR" -j "$JOBS" --target "${asan_suites[@]}"
echo "sanitize: ASan tree built at ${SECONDS} s"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$SUPPRESSIONS/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_suites "$ASAN_DIR" "${asan_suites[@]}"

configure "$TSAN_DIR" SAFETRAIN_SANITIZE_THREAD
echo "sanitize: ASan suites ran at ${SECONDS} s"
nice -n 10 cmake --build "$TSAN_DIR" -j "$JOBS" --target "${tsan_suites[@]}"
echo "sanitize: TSan tree built at ${SECONDS} s"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$SUPPRESSIONS/tsan.supp:print_suppressions=0"
run_suites "$TSAN_DIR" "${tsan_suites[@]}"
echo "sanitize: no reports"
