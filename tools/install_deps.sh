#!/usr/bin/env bash
# Installs the Debian (bookworm) packages safetrain builds and runs with, if any
# is missing. Safe to run repeatedly: it does nothing when all are present.
set -euo pipefail

packages=(
  build-essential make cmake ninja-build pkg-config ccache git
  libtorch-dev            # LibTorch 1.13 (CPU)
  libgloo-dev             # Gloo headers for c10d's ProcessGroupGloo (data-parallel training, src/dist)
  libopenblas0-pthread    # without it LibTorch's BLAS is the reference one, 5-8x slower
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libgtest-dev
  libigraph-dev           # Leiden communities for the descriptor pipeline
  libplplot-dev plplot-driver-cairo   # headless PNG plots
  libpng-dev              # tests decode the PNGs we write
  zlib1g-dev              # checksums of checkpoint files
  python3 python3-torch python3-numpy python3-pandas   # bench/ reference side
  python3-sklearn         # quality benchmark only (bench/quality_vs_sklearn.py)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install_deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
