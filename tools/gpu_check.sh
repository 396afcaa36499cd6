#!/usr/bin/env bash
# gpu_check.sh: issue 20's GPU checks in one device call (docs/GPU.md says how to launch it).
#
#   tools/gpu_check.sh [all|configure|build|runs|ctest]   from the repository root, on the GPU machine
#
#   configure  unpack the bundle, configure only (a quick diagnosis)
#   build  unpack the bundle, configure against the pip CUDA LibTorch, build everything, CUDA tests
#   runs   the 4 GB-card run, planted device leak, clean run, forced OOM, side-by-side benchmark
#   ctest  the whole ctest suite
#   all    the three in that order (default), within one deadline
#
# Every step is recorded (pass/fail/skip, seconds, figures) in $OUT/summary.md, rewritten after each
# step, so a call killed at its limit still returns what was done; the logs and run files go to
# $OUT/logs.tar.gz (the device returns at most 8 files). A failed step never stops the next one;
# steps that need the build are skipped, and say so, when it failed. SAFETRAIN_GPU_DEADLINE_S
# (default 540) bounds the whole script: each step's timeout is cut to what is left.
# SAFETRAIN_TORCH_PREFIX overrides the LibTorch CMake prefix and SAFETRAIN_GPU_ALLOW_CPU=1 accepts a
# CPU LibTorch: both only for dry runs of the script on a machine without a GPU.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
OUT=${OUT:-$repo/gpu_out}
mkdir -p "$OUT"
work=/tmp/safetrain-gpu
logs=$work/logs
mkdir -p "$logs"
build=$repo/build-cuda
deadline=$((SECONDS + ${SAFETRAIN_GPU_DEADLINE_S:-540}))
summary=$OUT/summary.md
results=()   # one markdown table row per step
figures=()   # free-form lines under the table
build_ok=0

write_summary() {
  {
    echo "# safetrain GPU check ($(date -u +%Y-%m-%dT%H:%MZ), mode ${mode})"
    echo
    echo "| step | status | seconds | note |"
    echo "|---|---|---|---|"
    printf '%s\n' "${results[@]}"
    echo
    printf '%s\n' "${figures[@]}"
  } >"$summary"
  # Run folders without weights and predictions: the device returns files of 16 MiB at most.
  local parts=(logs)
  [ -d "$work/runs" ] && parts+=(runs)
  tar -C "$work" -czf "$OUT/logs.tar.gz" --exclude=checkpoints --exclude=predictions --exclude='*.pt' \
    "${parts[@]}" 2>/dev/null
}

# step NAME CAP_SECONDS COMMAND...: runs COMMAND with its output in logs/NAME.log, under the smaller
# of CAP_SECONDS and the time left; records pass/fail with the last lines of a failure.
step() {
  local name=$1 cap=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ "$left" -lt 15 ]; then
    results+=("| $name | skipped | 0 | deadline reached |")
    write_summary
    return 1
  fi
  [ "$cap" -gt "$left" ] && cap=$left
  local start=$SECONDS status note=""
  echo "== $name (up to ${cap}s)"
  if declare -F "$1" >/dev/null; then
    timeout --kill-after=10 "$cap" bash -c '"$@"' _ "$@" >"$logs/$name.log" 2>&1
  else
    timeout --kill-after=10 "$cap" "$@" >"$logs/$name.log" 2>&1
  fi
  status=$?
  if [ $status -eq 0 ]; then
    results+=("| $name | pass | $((SECONDS - start)) | |")
  else
    [ $status -eq 124 ] && note="timed out after ${cap}s; "
    note+="exit $status: $(tail -n 3 "$logs/$name.log" | tr '|\n' '/ ' | cut -c1-300)"
    results+=("| $name | FAIL | $((SECONDS - start)) | $note |")
  fi
  write_summary
  return $status
}

# Records a figure line (markdown) for the summary.
figure() { figures+=("$*"); write_summary; }

need_build() {
  [ $build_ok -eq 1 ] && return 0
  results+=("| $1 | skipped | 0 | the build failed or did not run |")
  write_summary
  return 1
}

env_report() {
  set -x
  uname -a
  cat /etc/os-release
  ldd --version | head -1
  nproc
  free -m
  g++ --version | head -1
  nvcc --version | tail -2
  cmake --version | head -1
  ninja --version
  nvidia-smi
  "${SAFETRAIN_PYTHON:-python3}" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-", "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI,
torch.utils.cmake_prefix_path)'
  "${SAFETRAIN_PYTHON:-python3}" -c 'import lightning; print("lightning", lightning.__version__)' ||
    "${SAFETRAIN_PYTHON:-python3}" -c 'import pytorch_lightning as L; print("pytorch_lightning", L.__version__)'
}

unpack_bundle() {
  [ -f gpu_carry/bundle.tar.xz ] || { echo "gpu_carry/bundle.tar.xz missing: carry gpu_carry (tools/gpu_bundle.sh)"; return 1; }
  rm -rf gpu_bundle
  tar -xJf gpu_carry/bundle.tar.xz
  # ../shared does not travel: the reference scripts come in gpu_carry/reference.
  if [ ! -f shared/bench/torch_reference.py ] && [ -d gpu_carry/reference ]; then
    mkdir -p shared/bench && cp gpu_carry/reference/*.py shared/bench/
  fi
  ls shared/bench
  # Libraries only: the configure and build steps that follow exercise the rest of the probe.
  tools/gpu_bundle.sh --verify-libs
}

# cuDNN from the pip wheel (nvidia-cudnn-cu13) when the toolkit has none: LibTorch's CMake looks for it.
cudnn_hints() {
  "${SAFETRAIN_PYTHON:-python3}" - <<'PY' 2>/dev/null
import glob, os
try:
    import nvidia.cudnn as c
except ImportError:
    raise SystemExit
root = os.path.dirname(c.__file__) if c.__file__ else list(c.__path__)[0]
libs = sorted(glob.glob(os.path.join(root, "lib", "libcudnn.so*")))
if libs:
    print(f"-DCUDNN_ROOT={root} -DCUDNN_INCLUDE_DIR={root}/include -DCUDNN_LIBRARY={libs[0]}")
PY
}

# The default build's recipe (tools/build_env.sh, as ./safetrain.sh configures it), with the machine's own
# python3 (it has the pinned torch) in place of the venv and the Debian bundle as the other libraries.
configure() {
  export SAFETRAIN_PYTHON=${SAFETRAIN_PYTHON:-$(command -v python3)} SAFETRAIN_DEPS_PREFIX="$repo/gpu_bundle/usr"
  local pinned installed
  pinned=$(sed -n 's/^torch==//p' tools/requirements.txt)
  installed=$("$SAFETRAIN_PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])') || return 1
  [ "$pinned" = "$installed" ] || echo "warning: this machine's torch is $installed, tools/requirements.txt pins $pinned"
  # shellcheck disable=SC1091
  source tools/build_env.sh
  local args
  args=$(safetrain_cmake_args) || return 1
  local arch
  arch=$("$SAFETRAIN_PYTHON" -c 'import torch; m, n = torch.cuda.get_device_capability(0); print(f"{m}.{n}")' 2>/dev/null || echo 9.0)
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$arch}
  local cuda_root=""
  [ -d /usr/local/cuda ] && cuda_root="-DCUDAToolkit_ROOT=/usr/local/cuda"
  # shellcheck disable=SC2046
  # shellcheck disable=SC2086
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAFETRAIN_WARNINGS_AS_ERRORS=ON -C gpu_bundle/bundle.cmake \
    $args $cuda_root $(cudnn_hints) || return 1
  grep -q 'CUDA code paths: ON' "$logs/configure.log" 2>/dev/null || [ -n "${SAFETRAIN_GPU_ALLOW_CPU:-}" ] ||
    { echo "configured, but CUDA code paths are OFF"; return 1; }
}

# Direct and transitive libraries of the built programs resolve (bundle RPATH, pip LibTorch RUNPATH).
check_libraries() {
  local bad=0
  for program in "$build"/tools/trainer "$build"/tests/test_*; do
    [ -x "$program" ] || continue
    if ldd "$program" | grep 'not found'; then echo "unresolved in $program"; bad=1; fi
  done
  return $bad
}

phase_build() {
  step env 60 env_report
  step bundle 180 unpack_bundle || return
  # shellcheck disable=SC1091
  source gpu_bundle/env.sh  # PKG_CONFIG_PATH, PLPLOT_DRV_DIR/PLPLOT_LIB, FONTCONFIG_FILE, ninja on PATH
  step configure 120 configure || return
  [ "$mode" = configure ] && return
  step build 420 cmake --build "$build" -j "$(nproc)" || return
  build_ok=1
  step libraries 30 check_libraries
  step ctest_cuda 120 bash -c "cd '$build' && ctest -R 'Cuda' --output-on-failure -V"
  local ran
  ran=$(grep -c '\[       OK \] Cuda' "$logs/ctest_cuda.log" 2>/dev/null)
  figure "- CUDA-only tests that ran (not skipped): ${ran:-0}"
}

trainer() { "$build/tools/trainer" --config configs/safe_training.yaml --set "output.dir=$work/runs" "$@"; }
analyze() { python3 tools/gpu_check_analyze.py "$@"; }

phase_runs() {
  need_build runs || return
  mkdir -p "$work/runs"
  local common=(--set training.device=cuda --set memory.device_budget_mb=4096 --set logging.progress=off)
  step budget_4gb 150 trainer "${common[@]}" --set output.run_name=budget_4gb --set training.max_epochs=6 \
    --set training.early_stopping=false --set data.synthetic.rows=8000
  step budget_4gb_check 20 analyze budget "$work/runs/budget_4gb"; figure "$(analyze budget "$work/runs/budget_4gb" --markdown)"
  local small=(--set training.max_epochs=6 --set training.early_stopping=false --set data.synthetic.rows=2000)
  step leak_run 90 trainer "${common[@]}" "${small[@]}" --set output.run_name=leak \
    --set debug.plant_leak_mb_per_epoch=8
  step leak_check 20 analyze leak "$work/runs/leak"; figure "$(analyze leak "$work/runs/leak" --markdown)"
  step clean_run 90 trainer "${common[@]}" "${small[@]}" --set output.run_name=clean
  step clean_check 20 analyze clean "$work/runs/clean"; figure "$(analyze clean "$work/runs/clean" --markdown)"
  # Exit 3 (clean stop, checkpoint saved) is the expected outcome: the wrapper turns it into a pass.
  step oom_run 90 bash -c "'$build/tools/trainer' --config configs/safe_training.yaml --set output.dir='$work/runs' \
    --set output.run_name=oom --set training.device=cuda --set memory.device_budget_mb=4096 \
    --set logging.progress=off --set training.batch_size=8192 --set training.max_epochs=1 \
    --set data.synthetic.rows=20000; code=\$?; echo \"trainer exit \$code\"; [ \$code -eq 3 ]"
  step oom_check 20 analyze oom "$work/runs/oom" "$logs/oom_run.log"
    figure "$(analyze oom "$work/runs/oom" "$logs/oom_run.log" --markdown)"
  step bench 240 python3 bench/gpu_side_by_side.py --build-dir "$build" --out "$OUT/bench.json" \
    --markdown "$work/logs/bench.md"
  [ -f "$work/logs/bench.md" ] && figure "$(cat "$work/logs/bench.md")"
}

phase_ctest() {
  need_build ctest || return
  step ctest 600 bash -c "cd '$build' && ctest -j '$(nproc)' --output-on-failure"
  figure "- ctest: $(grep -E 'tests passed|tests failed' "$logs/ctest.log" | tail -1)"
  cp "$logs/ctest.log" "$OUT/ctest.log" 2>/dev/null
}

# step runs its command under `timeout`, which runs programs only: the helpers above go through bash.
export -f env_report unpack_bundle cudnn_hints configure check_libraries trainer analyze
export repo build logs work OUT

# Every mode starts with the build phase: on a machine still warm from an earlier call it finds
# build-cuda up to date in seconds; on a fresh one it builds again.
mode=${1:-all}
case "$mode" in
  configure | build) phase_build ;;
  runs) phase_build; phase_runs ;;
  ctest) phase_build; phase_ctest ;;
  all) phase_build; phase_runs; phase_ctest ;;
  *) echo "usage: tools/gpu_check.sh [all|build|runs|ctest]" >&2; exit 2 ;;
esac
write_summary
echo "summary: $summary"
cat "$summary"
