"""Runs Debian's libonnx-testdata `pytorch-converted` cases through
vai-translate + vai-run and compares with their stored outputs (relative
error 1e-4). Cases outside the importer's scope are skipped with a reason.

usage: run_testdata.py DATA_DIR WORK_DIR
Prints one line per case and a summary; exits 1 if a case fails.
"""

import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vai_check  # noqa: E402

# Out of scope for a 2-D CNN importer (docs/importers/onnx.md).
SKIP_PATTERNS = [
    ("Conv1d", "1-D convolution (only 2-D convolution/pooling)"),
    ("Pool1d", "1-D pooling (only 2-D convolution/pooling)"),
    ("Conv3d", "3-D convolution (only 2-D convolution/pooling)"),
    ("Pool3d", "3-D pooling (only 2-D convolution/pooling)"),
    ("Embedding", "Gather on activations (embedding lookup)"),
    ("ELU", "Elu is not a vai op"),
    ("SELU", "Selu is not a vai op"),
    ("LogSoftmax", "LogSoftmax is not a vai op"),
    ("log_softmax", "LogSoftmax is not a vai op"),
    ("Softmin", "Neg is not a vai op"),
    ("Softplus", "Softplus is not a vai op"),
    ("Softsign", "Abs is not a vai op"),
    ("PoissonNLLLLoss", "Exp (a loss) is not a vai op"),
    ("MaxPool2d_stride_padding_dilation", "dilated max pooling"),
]


def skip_reason(name):
    for pattern, reason in SKIP_PATTERNS:
        if pattern in name:
            return reason
    return None


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    data_dir, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    if not glob.glob(os.path.join(data_dir, "*", "model.onnx")):
        print("error: no test cases in %s (install Debian's libonnx-testdata)"
              % data_dir)
        return 1
    passed, skipped, failed = [], [], []
    for case in sorted(glob.glob(os.path.join(data_dir, "*", "model.onnx"))):
        name = os.path.basename(os.path.dirname(case))
        reason = skip_reason(name)
        if reason:
            skipped.append(name)
            print("SKIP %s: %s" % (name, reason))
            continue
        sets = os.path.join(os.path.dirname(case), "test_data_set_0")
        inputs = [load_pb(p) for p in
                  sorted(glob.glob(os.path.join(sets, "input_*.pb")))]
        expected = [load_pb(p) for p in
                    sorted(glob.glob(os.path.join(sets, "output_*.pb")))]
        try:
            outs = vai_check.run_model(case, inputs, work, tag=name)
            errors = [vai_check.rel_error(a, b) for a, b in
                      zip(outs, expected)]
            if len(outs) != len(expected) or max(errors) > 1e-4:
                raise ValueError("relative error %s" % errors)
            passed.append(name)
            print("PASS %s (max relative error %.2e)" % (name, max(errors)))
        except Exception as e:
            detail = getattr(e, "stderr", b"") or b""
            failed.append(name)
            print("FAIL %s: %s %s" % (name, e, detail.decode()[-600:]))
    print("summary: %d passed, %d skipped, %d failed" %
          (len(passed), len(skipped), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
