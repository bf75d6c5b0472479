#!/usr/bin/env bash
# Sets mpno up on Debian 12: installs the Debian packages it needs (only those missing,
# so it is idempotent), then configures and builds in Release into build/ (or
# $MPNO_BUILD_DIR). Extra arguments go to the CMake configure step, e.g.
#   scripts/setup.sh -DMPNO_WITH_DEALII=OFF
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MPNO_BUILD_DIR:-$root/build}

packages=(
  cmake g++ make ccache pkg-config
  libdeal.ii-dev          # meshes, FE, parameters, solvers, Trilinos AMG, HDF5 (9.4.1)
  libtorch-dev            # LibTorch 1.13.1, CPU
  libopenblas0-openmp     # optimised BLAS under LibTorch (about 10x the reference BLAS)
  libgoogle-perftools-dev # tcmalloc: keeps freed activations instead of page-faulting anew
  libboost-dev
  libgtest-dev libbenchmark-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "mpno setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$(nproc)"
echo "mpno setup: built in $build"
