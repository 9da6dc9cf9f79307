"""Runs layout.onnx (make_models.py) through vai-translate + vai-run and
compares with a NumPy evaluation of the same graph."""

import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vai_check  # noqa: E402


def conv_nchw(x, w, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, h - kh + 1, wd - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.einsum("nchw,ochw->no",
                                        x[:, :, i:i + kh, j:j + kw], w)
    return out


def main():
    model = onnx.load(sys.argv[1])
    p = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    x = np.random.default_rng(1).standard_normal((1, 3, 5, 5))
    y = conv_nchw(x, p["w"], 1) + p["bias"]
    y = y.reshape(1, -1) @ p["fc_w"].T + p["fc_b"]
    (out,) = vai_check.run_model(sys.argv[1], [x], sys.argv[2], tag="layout")
    err = vai_check.rel_error(out, y)
    print("%s relative error %.2e" % ("match" if err < 1e-4 else "MISMATCH",
                                      err))


if __name__ == "__main__":
    main()
