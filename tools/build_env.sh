# Sourced by safetrain.sh, tools/install_deps.sh, tools/sanitize.sh and tools/gpu_check.sh: where the
# pinned Python side lives and how CMake finds LibTorch in it. One place, so every build tree is
# configured against the same LibTorch.
#
#   SAFETRAIN_VENV          the virtual environment of tools/requirements.txt, shared by every clone on
#                           this machine (default ~/.cache/safetrain/venv; ~4.8 GB, mostly CUDA libraries)
#   SAFETRAIN_PYTHON        the Python whose torch the build uses (default: the venv's); a machine with
#                           the pinned torch installed already (the GPU machines) names its python3
#   SAFETRAIN_DEPS_PREFIX   an extra prefix searched first for the other libraries (the GPU bundle)
#   SAFETRAIN_TORCH_PREFIX  a LibTorch to build against instead (an unpacked libtorch zip, or any
#                           prefix holding share/cmake/Torch): skips the venv's torch for the C++ build
#   SAFETRAIN_ARROW_PREFIX  a system or conda Arrow C++ with Parquet (prefix of lib/cmake/Arrow) to build against
#                           instead of the pyarrow wheel's
#   CUDA_HOME               the CUDA toolkit a CUDA LibTorch configures with (default /usr/local/cuda)
safetrain_home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
SAFETRAIN_VENV="${SAFETRAIN_VENV:-${XDG_CACHE_HOME:-$safetrain_home/.cache}/safetrain/venv}"
SAFETRAIN_PYTHON="${SAFETRAIN_PYTHON:-$SAFETRAIN_VENV/bin/python}"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
if [ -x "$CUDA_HOME/bin/nvcc" ]; then
  case ":$PATH:" in *":$CUDA_HOME/bin:"*) ;; *) PATH="$PATH:$CUDA_HOME/bin" ;; esac
  export PATH CUDA_HOME
fi

# The CMake prefix of the LibTorch to build against.
safetrain_torch_prefix() {
  if [ -n "${SAFETRAIN_TORCH_PREFIX:-}" ]; then
    echo "$SAFETRAIN_TORCH_PREFIX"
  else
    "$SAFETRAIN_PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null
  fi
}

# The configure arguments every build tree shares.
safetrain_cmake_args() {
  local prefix
  prefix=$(safetrain_torch_prefix) || true
  if [ -z "$prefix" ]; then
    echo "safetrain: no LibTorch: run tools/install_deps.sh, or set SAFETRAIN_TORCH_PREFIX" >&2
    return 1
  fi
  # Torch_DIR too: a tree configured before against another LibTorch keeps its cached one otherwise.
  local torch_dir=""
  for candidate in "$prefix/Torch" "$prefix/share/cmake/Torch"; do
    [ -f "$candidate/TorchConfig.cmake" ] && torch_dir="-DTorch_DIR=$candidate -DCaffe2_DIR=$candidate/../Caffe2" && break
  done
  [ -n "${SAFETRAIN_DEPS_PREFIX:-}" ] && prefix="$SAFETRAIN_DEPS_PREFIX;$prefix"
  echo "-DCMAKE_PREFIX_PATH=$prefix" "-DSAFETRAIN_PYTHON=$SAFETRAIN_PYTHON" $torch_dir \
    ${SAFETRAIN_ARROW_PREFIX:+"-DSAFETRAIN_ARROW_PREFIX=$SAFETRAIN_ARROW_PREFIX"}
}
