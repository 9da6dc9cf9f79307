#!/usr/bin/env python3
"""Reference interpreter (vai-run) vs PyTorch on ResNet-50, float32, CPU.

    /usr/bin/python3 utils/bench/interp_vs_torch.py --vai-run build/bin/vai-run
        [--batch 1] [--repeat 10] [--threads 2] [--workdir DIR]

What it measures:
  * The model: torchvision's resnet50 architecture (weights=None) in eval
    mode, initialised from a fixed seed, with random batch-norm statistics
    and affine parameters (also seeded) so that the batch norms are not
    identities. Input: a seeded random [batch, 3, 224, 224] tensor.
  * The vai model: the same network emitted as vai MLIR with
    python/vai_mlir (NHWC activations, OHWI weights). Every batch norm is
    folded into the preceding convolution's weights and bias (what a
    deployment compiler does; no vai.batch_norm op remains), ReLUs are fused
    into the convolutions and into the residual vai.add, and the classifier
    is global_avg_pool2d + flatten + inner_product.
  * Correctness first: the vai-run output must agree with the unfolded
    PyTorch model's output: max |vai - torch| <= 1e-3 * max |torch| over the
    logits (relative 1e-3 with respect to the output's scale).
  * Time: PyTorch fp32 forward with torch.set_num_threads(--threads) under
    torch.no_grad(), after 3 warm-up runs, mean of --repeat runs (half of
    them timed before vai-run runs and half after, so that a change in the
    machine's load affects both sides alike). vai-run: its own `time: X ms
    per run`, the mean of `--repeat` runs of the interpreter, which
    excludes parsing and weight preparation but includes the first run (no
    separate warm-up). vai-run gets OMP_NUM_THREADS=--threads, so both use
    the same number of threads.
  * It prints both times and `speed vs PyTorch: X.XXx` = torch time / vai
    time (above 1 means vai-run is faster), with the machine's core count
    and the torch version, and the load average: other processes running
    on the machine slow both sides (OpenMP teams badly so when a core is
    busy), so compare numbers measured on an idle machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from vai_mlir import ModuleBuilder, Value  # noqa: E402

SEED = 0
REL_TOL = 1e-3


def build_torch_model() -> nn.Module:
    """torchvision resnet50, seeded, with non-trivial batch-norm parameters."""
    torch.manual_seed(SEED)
    model = torchvision.models.resnet50(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.0)
                m.bias.normal_(0.0, 0.1)
    return model.eval()


#===-----------------------------------------------------------------------===#
# ResNet-50 -> vai MLIR
#===-----------------------------------------------------------------------===#


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d):
    """Conv + inference batch norm -> (OHWI weight, bias), folded in float64.

    bn(conv(x)) = conv(x) * s + (beta - mean * s), s = gamma / sqrt(var + eps)
    """
    w = conv.weight.detach().double()
    s = bn.weight.detach().double() / torch.sqrt(
        bn.running_var.detach().double() + bn.eps)
    b = bn.bias.detach().double() - bn.running_mean.detach().double() * s
    if conv.bias is not None:
        b = b + conv.bias.detach().double() * s
    w = w * s.view(-1, 1, 1, 1)
    ohwi = w.permute(0, 2, 3, 1).contiguous().float().numpy()
    return ohwi, b.float().numpy()


class ResNetEmitter:
    """Emits a torchvision ResNet (Bottleneck blocks) with a ModuleBuilder."""

    def __init__(self, b: ModuleBuilder):
        self.b = b

    def conv_bn(self, x: Value, conv: nn.Conv2d, bn: nn.BatchNorm2d,
                relu: bool, name: str) -> Value:
        weight, bias = fold_conv_bn(conv, bn)
        n, h, w, _ = x.shape
        (kh, kw), (sh, sw) = conv.kernel_size, conv.stride
        (ph, pw), (dh, dw) = conv.padding, conv.dilation
        oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        return self.b.op(
            "vai.conv2d",
            [x, self.b.constant(weight, name=name + ".weight"),
             self.b.constant(bias, name=name + ".bias")],
            {"strides": [sh, sw], "pad": [ph, ph, pw, pw],
             "dilations": [dh, dw], "groups": conv.groups,
             "act": "relu" if relu else None},
            (n, oh, ow, conv.out_channels), name=name)

    def bottleneck(self, x: Value, blk, name: str) -> Value:
        out = self.conv_bn(x, blk.conv1, blk.bn1, True, name + ".conv1")
        out = self.conv_bn(out, blk.conv2, blk.bn2, True, name + ".conv2")
        out = self.conv_bn(out, blk.conv3, blk.bn3, False, name + ".conv3")
        identity = x
        if blk.downsample is not None:
            conv, bn = blk.downsample[0], blk.downsample[1]
            identity = self.conv_bn(x, conv, bn, False, name + ".downsample")
        return self.b.op("vai.add", [out, identity], {"act": "relu"},
                         out.shape, name=name + ".add")

    def resnet(self, model, x: Value) -> Value:
        b = self.b
        v = self.conv_bn(x, model.conv1, model.bn1, True, "conv1")
        n, h, w, c = v.shape
        mp = model.maxpool  # k3 s2 p1
        k, s, p = mp.kernel_size, mp.stride, mp.padding
        v = b.op("vai.max_pool2d", [v],
                 {"kernel": [k, k], "strides": [s, s], "pad": [p] * 4},
                 (n, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1, c),
                 name="maxpool")
        for li in range(1, 5):
            for bi, blk in enumerate(getattr(model, f"layer{li}")):
                v = self.bottleneck(v, blk, f"layer{li}.{bi}")
        n, _, _, c = v.shape
        v = b.op("vai.global_avg_pool2d", [v], None, (n, 1, 1, c),
                 name="avgpool")
        # 1x1 spatial: the NHWC and NCHW flattening orders agree.
        v = b.op("vai.flatten", [v], {"axis": 1}, (n, c), name="flatten")
        fc = model.fc
        return b.op("vai.inner_product",
                    [v, b.constant(fc.weight.detach().numpy(),
                                   name="fc.weight"),
                     b.constant(fc.bias.detach().numpy(), name="fc.bias")],
                    None, (n, fc.out_features), name="fc")


def emit_mlir(model: nn.Module, batch: int) -> str:
    # Large weights go to the dense_resource section of the file.
    b = ModuleBuilder(resource_threshold=1 << 12)
    x = b.argument((batch, 224, 224, 3), name="input")
    b.returns([ResNetEmitter(b).resnet(model, x)])
    return b.text()


#===-----------------------------------------------------------------------===#
# Shared by the benchmarks
#===-----------------------------------------------------------------------===#

# vai-quantize's preprocessing of the ImageNet samples (torchvision's: shorter
# side 256, centre crop 224, ImageNet mean/std; the few gray JPEGs replicated
# to RGB).
IMAGENET_PREPROCESS = ("shorter-side=256,crop=224,mean=123.675:116.28:103.53,"
                       "std=58.395:57.12:57.375,convert-channels")


@contextlib.contextmanager
def work_directory(path: str | None, prefix: str):
    """`path` (created if needed), or a temporary directory removed after."""
    if path:
        work = Path(path)
        work.mkdir(parents=True, exist_ok=True)
        yield work
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Path(tmp)


#===-----------------------------------------------------------------------===#
# Timing
#===-----------------------------------------------------------------------===#


def time_torch(model: nn.Module, x: torch.Tensor, repeat: int,
               warmup: int = 3) -> tuple[list[float], torch.Tensor]:
    """Milliseconds of each of `repeat` forward runs, after warm-up runs."""
    times = []
    with torch.no_grad():
        for _ in range(warmup):
            y = model(x)
        for _ in range(repeat):
            start = time.perf_counter()
            y = model(x)
            times.append((time.perf_counter() - start) * 1e3)
    return times, y


def run_vai(vai_run: str, model_path: Path, input_path: Path,
            output_path: Path, repeat: int, threads: int):
    """Runs vai-run; returns (its mean ms per run, process wall seconds)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [vai_run, "--reference", str(model_path), "--input",
           str(input_path), "--output", str(output_path),
           "--repeat", str(repeat)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"vai-run failed:\n{proc.stdout}{proc.stderr}")
    m = re.search(r"time:\s*([0-9.]+)\s*ms per run", proc.stdout)
    if not m:
        sys.exit(f"no 'time:' line in the vai-run output:\n{proc.stdout}")
    return float(m.group(1)), wall


def main() -> int:
    parser = argparse.ArgumentParser(
        description="vai-run vs PyTorch on ResNet-50 (see the docstring)")
    parser.add_argument("--vai-run", default="build/bin/vai-run")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for PyTorch and vai-run (default 2)")
    parser.add_argument("--workdir",
                        help="keep the model and .npy files here "
                             "(default: a temporary directory)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores "
          f"({len(os.sched_getaffinity(0))} usable); threads used: "
          f"{args.threads}")
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}"
          f", numpy {np.__version__}")
    # Other processes on the machine skew both timings (and OpenMP teams
    # suffer badly when a core is busy): the load average tells.
    print("load average (1, 5, 15 min) at start: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()))

    model = build_torch_model()
    torch.manual_seed(SEED + 1)
    x = torch.randn(args.batch, 3, 224, 224)

    with work_directory(args.workdir, "vai-bench-") as workdir:
        start = time.perf_counter()
        text = emit_mlir(model, args.batch)
        model_path = workdir / "resnet50.mlir"
        model_path.write_text(text)
        print(f"emitted {model_path} ({len(text) / 1e6:.0f} MB text) in "
              f"{time.perf_counter() - start:.1f} s: resnet50, batch "
              f"{args.batch}, 224x224, BN folded into the convolutions")
        input_path, output_path = workdir / "input.npy", workdir / "out.npy"
        np.save(input_path, np.ascontiguousarray(
            x.numpy().transpose(0, 2, 3, 1)))

        # PyTorch is timed in two halves, before and after vai-run, so that
        # a change in the machine's load affects both sides alike.
        first = max(1, args.repeat // 2)
        torch_times, y_torch = time_torch(model, x, first)
        vai_ms, wall = run_vai(args.vai_run, model_path, input_path,
                               output_path, args.repeat, args.threads)
        if args.repeat > first:
            torch_times += time_torch(model, x, args.repeat - first)[0]
        torch_ms = float(np.mean(torch_times))
        y_vai = np.load(output_path)

    ref = y_torch.numpy()
    err = float(np.abs(y_vai.astype(np.float64) - ref).max())
    scale = float(np.abs(ref).max())
    ok = y_vai.shape == ref.shape and err <= REL_TOL * scale
    print(f"outputs: {ref.shape}, max |vai - torch| = {err:.3e}, "
          f"max |torch| = {scale:.3e} -> {'agree' if ok else 'DISAGREE'} "
          f"(rel {REL_TOL:g})")
    print(f"PyTorch fp32 : {torch_ms:9.2f} ms per run (mean of "
          f"{len(torch_times)}, after 3 warm-up runs; min "
          f"{min(torch_times):.2f})")
    print(f"vai-run      : {vai_ms:9.2f} ms per run (mean of {args.repeat}; "
          f"process wall time incl. parsing {wall:.1f} s)")
    print(f"speed vs PyTorch: {torch_ms / vai_ms:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
