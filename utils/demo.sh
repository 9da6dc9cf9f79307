#!/usr/bin/env bash
# The pipeline as far as it exists, on a built-in default that needs only
# Debian's packages: a torchvision ResNet-18 (random weights, fixed seed) is
# saved as TorchScript, imported with vai-translate, preprocessed with
# vai-opt (no-op removal, constant folding, batch-norm folding, activation
# fusion), run on the float32 reference interpreter with vai-run, and
# compared with PyTorch's own output.
# Usage: utils/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(cd "${1:-build}" && pwd)/bin"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== exporting a torchvision ResNet-18 (seed 0) with Debian's torch"
/usr/bin/python3 - "$WORK" <<'PY'
import sys, numpy as np, torch, torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32))
with torch.no_grad():
    torch.jit.trace(model, x).save(sys.argv[1] + "/resnet18.pt")
    np.save(sys.argv[1] + "/ref.npy", model(x).numpy())
np.save(sys.argv[1] + "/x.npy", x.numpy())
PY
echo "== vai-translate"
"$BIN/vai-translate" "$WORK/resnet18.pt" --input-shape input:1,3,224,224 -o "$WORK/resnet18.mlir"
echo "== vai-opt (preprocessing)"
"$BIN/vai-opt" "$WORK/resnet18.mlir" -vai-remove-inference-noops \
  -vai-fold-constants -vai-fold-batch-norm -vai-fuse-activations \
  -o "$WORK/resnet18.pre.mlir"
echo "== vai-run"
"$BIN/vai-run" --reference "$WORK/resnet18.pre.mlir" --input "$WORK/x.npy" \
  --output "$WORK/y.npy" --repeat 3
/usr/bin/python3 - "$WORK" <<'PY'
import sys, numpy as np
d = sys.argv[1]
y, ref = np.load(d + "/y.npy"), np.load(d + "/ref.npy")
err = np.abs(y - ref).max() / np.abs(ref).max()
top5 = lambda v: list(np.argsort(-v[0])[:5])
print(f"vai-run vs PyTorch: max |diff| / max |logit| = {err:.2e}; "
      f"top-5 {'agree' if top5(y) == top5(ref) else 'DIFFER'}")
sys.exit(0 if err < 1e-4 else 1)
PY
