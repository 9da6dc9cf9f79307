#!/bin/bash
# Compile benchmark (issue 5): a seeded torchvision ResNet-50 (random weights,
# exported through python/vai_mlir), quantized with vai-quantize on seeded
# random calibration inputs, then -vai-partition and -vai-lower-to-dpu.
# Prints the compile time and peak memory (/usr/bin/time -v) and the modeled
# MAC utilisation at the target's batch (from -dpu-disassemble, which uses
# the Target's timing figures). Goals: <= 10 s, <= 2 GiB, >= 90 %.
#
# usage: utils/bench/compile_resnet50.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
work=${2:-${TMPDIR:-/tmp}/vai-bench-resnet50}
mkdir -p "$work"
cd "$work"

if [ ! -f resnet50.onnx ]; then
  PYTHONPATH=$src/python /usr/bin/python3 - <<'PY'
import numpy as np
import torch
import torchvision
from vai_mlir.export import export
torch.manual_seed(0)
model = torchvision.models.resnet50(weights=None).eval()
export(model, torch.randn(1, 3, 224, 224), "resnet50.onnx")
rng = np.random.default_rng(0)
np.save("calib.npy", rng.normal(0, 1, (4, 224, 224, 3)).astype(np.float32))
PY
fi
if [ ! -f q/quantized.mlir ]; then
  "$build/bin/vai-quantize" --import-onnx resnet50.onnx --nhwc-io \
    --calib-images calib.npy --calib-count 4 --test-count 0 --output-dir q \
    > quantize.log 2>&1 || { cat quantize.log; exit 1; }
fi

/usr/bin/time -v "$build/bin/vai-opt" q/quantized.mlir -vai-partition \
  -vai-lower-to-dpu -o lowered.mlir 2> time.log
"$build/bin/vai-opt" lowered.mlir -dpu-disassemble=o=listing.txt \
  -o /dev/null
elapsed=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' time.log)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.log)
echo "ResNet-50 partition + lowering: wall $elapsed, peak RSS $((rss / 1024)) MiB"
grep -c 'vai.device = "CPU"' lowered.mlir | sed 's/^/CPU layers: /' || true
grep -E "^(program|total|MAC|modeled|utili)" -i listing.txt | tail -5 || true
