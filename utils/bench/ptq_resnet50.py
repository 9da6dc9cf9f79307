#!/usr/bin/env python3
"""Post-training quantization of ResNet-50 with 100 images, timed as a whole,
and the float forward pass against Debian's PyTorch in the same run.

    /usr/bin/python3 utils/bench/ptq_resnet50.py [--bin build/bin]
        [--images ../shared/data/images/imagenet_sample100] [--threads 2]
        [--repeat 6] [--workdir DIR]

  * The model: interp_vs_torch.py's seeded torchvision resnet50 (random
    weights and batch-norm statistics from a fixed seed), emitted as vai
    MLIR at batch 1.
  * PTQ: one `vai-quantize` process, wall time from start to exit:
    preprocessing passes, cross-layer equalization, calibration on the 100
    ImageNet sample JPEGs (decode, shorter side 256, centre crop 224,
    ImageNet mean/std; the few gray JPEGs replicated to RGB) with the float
    reference interpreter, mse positions,
    quantization, and writing the model and table. No report (every image
    is used for calibration). Goal: <= 60 s on this 2-core machine.
  * Forward: the float model on vai-run vs torch fp32 at batch 1, as
    interp_vs_torch.py measures it (same threads; torch timed in two halves
    around vai-run); prints the ratio torch time / vai time (goal >= 1.0),
    and the quantized model's time on vai-run for information.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interp_vs_torch import (IMAGENET_PREPROCESS, SEED,  # noqa: E402
                             build_torch_model, emit_mlir, work_directory,
                             run_vai, time_torch)

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    ap.add_argument("--images", default=str(
        ROOT.parent / "shared" / "data" / "images" / "imagenet_sample100"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=6)
    ap.add_argument("--workdir")
    args = ap.parse_args()
    if not Path(args.images).is_dir():
        sys.exit(f"{args.images}: no such folder (the ImageNet samples of "
                 "../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"{os.cpu_count()} cores, {args.threads} threads; torch "
          f"{torch.__version__}; load average at start: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()))

    with work_directory(args.workdir, "vai-ptq-") as work:
        model = build_torch_model()
        mlir = work / "resnet50.mlir"
        mlir.write_text(emit_mlir(model, 1))

        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        cmd = [f"{args.bin}/vai-quantize", str(mlir), "--calib-images",
               args.images, "--calib-count", "100", "--preprocess",
               IMAGENET_PREPROCESS, "--test-count", "0",
               "--output-dir", str(work / "q")]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        ptq = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"vai-quantize failed:\n{proc.stdout}{proc.stderr}")
        print(proc.stdout.strip())
        print(f"PTQ of ResNet-50 with 100 images: {ptq:.1f} s wall "
              f"(goal <= 60 s)")

        torch.manual_seed(SEED + 1)
        x = torch.randn(1, 3, 224, 224)
        inp, out = work / "x.npy", work / "y.npy"
        np.save(inp, np.ascontiguousarray(x.numpy().transpose(0, 2, 3, 1)))
        half = max(1, args.repeat // 2)
        torch_times, y_torch = time_torch(model, x, half)
        vai_ms, _ = run_vai(f"{args.bin}/vai-run", mlir, inp, out,
                            args.repeat, args.threads)
        torch_times += time_torch(model, x, args.repeat - half)[0]
        y = np.load(out)
        err = float(np.abs(y - y_torch.numpy()).max())
        scale = float(np.abs(y_torch.numpy()).max())
        if err > 1e-3 * scale:
            sys.exit(f"float outputs disagree: max |diff| {err} vs scale "
                     f"{scale}")
        torch_ms = float(np.mean(torch_times))
        print(f"float forward, batch 1: vai-run {vai_ms:.1f} ms, PyTorch "
              f"{torch_ms:.1f} ms; speed vs PyTorch: {torch_ms / vai_ms:.2f}x "
              f"(goal >= 1.0x); outputs agree to {err:.1e}")
        q_ms, _ = run_vai(f"{args.bin}/vai-run", work / "q" / "quantized.mlir",
                          inp, out, args.repeat, args.threads)
        print(f"quantized model on the reference interpreter: {q_ms:.1f} ms "
              f"per run (integer semantics, for information)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
