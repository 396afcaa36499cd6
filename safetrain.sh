#!/usr/bin/env bash
# The README's two commands:
#   ./safetrain.sh train [trainer flags...]   install what is missing, build, train the default config
#   ./safetrain.sh test                       install what is missing, build, run the whole test suite
#                                             (and the LibTorch-free suites under ASan/UBSan)
# Both build incrementally; a second run only recompiles what changed.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
command="${1:-}"
case "$command" in
  train|test) shift ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-2}"

stage() { echo "safetrain.sh: $1 done at $((SECONDS / 60)) min $((SECONDS % 60)) s"; }
tools/install_deps.sh
stage "install"
source tools/build_env.sh
# Configured every time (a second or two when nothing changed), so a tree follows the pinned LibTorch.
args=$(safetrain_cmake_args)
read -r -a cmake_args <<<"$args"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAFETRAIN_WARNINGS_AS_ERRORS=ON "${cmake_args[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
stage "build"

if [ "$command" = train ]; then
  # Without a GPU the GTX 1650 profile takes hours: train the CPU-sized quickstart instead.
  if [ -z "${CONFIG:-}" ]; then
    if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
      CONFIG=configs/safe_training.yaml
    else
      CONFIG=configs/quickstart.yaml
      echo "safetrain: no GPU found, training $CONFIG (the GPU profile is configs/safe_training.yaml)"
    fi
  fi
  exec "$BUILD_DIR/tools/trainer" --config "$CONFIG" "$@"
fi
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS")
stage "ctest"
# The threaded suites once more under AddressSanitizer + UBSan + LeakSanitizer, then ThreadSanitizer.
tools/sanitize.sh
stage "sanitizers"
