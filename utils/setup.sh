#!/usr/bin/env bash
# Sets up a Debian 12 machine for vai-mlir and builds it:
#   1. installs the Debian packages the project needs (apt; run as root),
#      removing any other libmlir version (only one can be installed);
#   2. configures with CMake (Ninja, lld, ccache when present) into build/;
#   3. builds everything;
#   4. runs the main job on its built-in default (utils/demo.sh).
# Usage: utils/setup.sh [--no-apt] [--no-demo]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # Toolchain and MLIR 22
  cmake ninja-build ccache g++ libmlir-22-dev mlir-22-tools llvm-22-dev
  llvm-22-tools lld-22 libgtest-dev
  # Kernels and file formats
  libdnnl-dev libprotobuf-dev protobuf-compiler libhdf5-dev
  # Xilinx runtime stack (xmodel, target description, VART, XRT)
  libxir-dev libxir-utils libtarget-factory-dev libvart-dev libxrt-dev
  libunilog-dev libgoogle-glog-dev graphviz
  # PyTorch / ONNX path and reference data for the tests
  python3-numpy python3-torch python3-torchvision python3-onnx libonnx-dev
  libonnx-testdata dataset-fashion-mnist python3-h5py python3-protobuf
  python3-pil libjpeg-dev libpng-dev
)

apt=1 demo=1
for arg in "$@"; do
  case "$arg" in
  --no-apt) apt=0 ;;
  --no-demo) demo=0 ;;
  *) echo "usage: utils/setup.sh [--no-apt] [--no-demo]" >&2; exit 2 ;;
  esac
done

if ((apt)); then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # Only one libmlir can be installed at a time.
    others=$(dpkg-query -W -f='${Package} ${Status}\n' 'libmlir-*' 2>/dev/null |
      awk '/ok installed/ && $1 !~ /-22/ {print $1}' || true)
    if [[ -n "$others" ]]; then
      echo "== removing other MLIR versions: $others"
      apt-get remove -y -q $others
    fi
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

LLVM=/usr/lib/llvm-22
echo "== configuring build/"
cmake -G Ninja -S . -B build \
  -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=$LLVM/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=$LLVM/bin/lit \
  -DLLVM_USE_LINKER=lld \
  -DCMAKE_EXE_LINKER_FLAGS="-B$LLVM/bin" \
  -DCMAKE_SHARED_LINKER_FLAGS="-B$LLVM/bin" \
  -DCMAKE_MODULE_LINKER_FLAGS="-B$LLVM/bin"
echo "== building"
cmake --build build -j "$(nproc)"
echo "== built: $(ls build/bin | tr '\n' ' ')"
if ((demo)); then
  echo "== running the demo"
  utils/demo.sh build
fi
