#!/usr/bin/env bash
# Installs what safetrain builds and runs with, if anything is missing; safe to run repeatedly (a few
# seconds when all is there):
#  1. Debian (bookworm) packages: the compiler, CMake, and the C++ libraries other than LibTorch.
#  2. tools/requirements.txt into one virtual environment per machine (tools/build_env.sh says where):
#     the pinned torch wheel, whose LibTorch (a CUDA build) the C++ code links, and the Python peers
#     of the benchmarks. It is reinstalled only when requirements.txt changes. The first install
#     unpacks to ~4.8 GB (54 s at ~60 MB/s here); every later clone on the machine reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/build_env.sh

packages=(
  build-essential make cmake ninja-build pkg-config ccache git
  libgloo-dev             # Gloo headers for c10d's ProcessGroupGloo (the torch wheel ships none)
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libgtest-dev
  libigraph-dev           # Leiden communities for the descriptor pipeline
  libplplot-dev plplot-driver-cairo   # headless PNG plots
  libpng-dev              # tests decode the PNGs we write
  zlib1g-dev              # checksums of checkpoint files
  libprotobuf-dev protobuf-compiler   # TensorBoard event files (src/tensorboard/event.proto)
  python3 python3-venv    # the virtual environment of tools/requirements.txt
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_deps: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

stamp="$SAFETRAIN_VENV/.safetrain-requirements"
if [ -f "$stamp" ] && cmp -s tools/requirements.txt "$stamp" && [ -x "$SAFETRAIN_PYTHON" ]; then
  exit 0
fi
echo "install_deps: installing tools/requirements.txt into $SAFETRAIN_VENV (the first time ~4.8 GB)"
mkdir -p "$(dirname "$SAFETRAIN_VENV")"
# A lock, so two clones installing at once do not write one environment together.
exec 9>"$SAFETRAIN_VENV.lock"
flock 9
[ -x "$SAFETRAIN_PYTHON" ] || python3 -m venv "$SAFETRAIN_VENV"
"$SAFETRAIN_PYTHON" -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
cp tools/requirements.txt "$stamp"
"$SAFETRAIN_PYTHON" -c 'import torch; print("install_deps: torch", torch.__version__, "CUDA", torch.version.cuda)'
