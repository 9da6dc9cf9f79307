"""Shared helpers of the ONNX and PyTorch import tests: run a model file
through vai-translate and vai-run (the reference interpreter) and compare
with expected outputs.

Tools are found on PATH (lit puts the build's bin/ there).
"""

import os
import subprocess
import tempfile

import numpy as np


def run_model(model, inputs, workdir, extra_args=(), tag="model"):
    """Imports `model` (any file vai-translate accepts), runs it on `inputs`
    (numpy arrays, in argument order) and returns the outputs."""
    mlir = os.path.join(workdir, tag + ".mlir")
    subprocess.run(["vai-translate", model, "-o", mlir, *extra_args],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cmd = ["vai-run", "--reference", mlir]
    for i, x in enumerate(inputs):
        path = os.path.join(workdir, "%s_in%d.npy" % (tag, i))
        np.save(path, np.ascontiguousarray(x, dtype=np.float32))
        cmd += ["--input", path]
    count = mlir_result_count(mlir)
    outs = [os.path.join(workdir, "%s_out%d.npy" % (tag, i))
            for i in range(count)]
    for o in outs:
        cmd += ["--output", o]
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    return [np.load(o) for o in outs]


def mlir_result_count(mlir):
    """Number of results of the imported function (from its return)."""
    with open(mlir) as f:
        for line in f:
            s = line.strip()
            if s.startswith("return"):
                body = s[len("return"):].split(":")[0]
                return len([p for p in body.split(",") if p.strip()])
    return 1


def rel_error(actual, expected):
    """max |a - b| / max(1, |b|): the tests' relative error."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError("shape %s, expected %s" % (actual.shape,
                                                   expected.shape))
    if actual.size == 0:
        return 0.0
    return float(np.max(np.abs(actual - expected) /
                        np.maximum(1.0, np.abs(expected))))


def workdir(base=None):
    return tempfile.mkdtemp(prefix="vai-check-", dir=base)
