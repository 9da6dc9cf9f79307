"""Writes small ONNX models for the ONNX importer's lit tests (onnx.helper).

usage: make_models.py OUT_DIR
  layout.onnx       conv + [C,1,1] add + flatten + gemm: layout handling
  unsupported.onnx  an Elu node (not supported)
  truncated.onnx    layout.onnx cut in the middle of a weight
  bad_weight.onnx   a conv whose weight does not match the input channels
  dynamic_weight.onnx  a conv whose weight is a graph input
  bad_geometry.onnx a 5x5 conv on a 2x2 input
  short_raw.onnx    an initializer whose raw_data is shorter than its shape
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tensor(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def model(nodes, inputs, outputs, inits, opset=13):
    graph = helper.make_graph(nodes, "test", inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def vinfo(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3))
    layout = model(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="conv1",
                          pads=[1, 1, 1, 1]),
         helper.make_node("Add", ["c", "bias"], ["a"], name="add_bias"),
         helper.make_node("Flatten", ["a"], ["f"], name="flatten"),
         helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc",
                          transB=1)],
        [vinfo("x", [1, 3, 5, 5])], [vinfo("y", [1, 2])],
        [tensor("w", w), tensor("bias", rng.standard_normal((4, 1, 1))),
         tensor("fc_w", rng.standard_normal((2, 100))),
         tensor("fc_b", [0.5, -0.5])])
    onnx.save(layout, os.path.join(out, "layout.onnx"))
    data = layout.SerializeToString()
    with open(os.path.join(out, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])

    onnx.save(model([helper.make_node("Elu", ["x"], ["y"], name="elu1")],
                    [vinfo("x", [1, 3, 4, 4])], [vinfo("y", [1, 3, 4, 4])], []),
              os.path.join(out, "unsupported.onnx"))
    onnx.save(model([helper.make_node("Conv", ["x", "w"], ["y"],
                                      name="conv_bad")],
                    [vinfo("x", [1, 2, 5, 5])], [vinfo("y", [1, 4, 3, 3])],
                    [tensor("w", w)]),
              os.path.join(out, "bad_weight.onnx"))
    onnx.save(model([helper.make_node("Conv", ["x", "w"], ["y"],
                                      name="conv_dyn")],
                    [vinfo("x", [1, 3, 5, 5]), vinfo("w", [4, 3, 3, 3])],
                    [vinfo("y", [1, 4, 3, 3])], []),
              os.path.join(out, "dynamic_weight.onnx"))
    onnx.save(model([helper.make_node("Conv", ["x", "w"], ["y"],
                                      name="conv_big")],
                    [vinfo("x", [1, 3, 2, 2])], [vinfo("y", [1, 4, 1, 1])],
                    [tensor("w", rng.standard_normal((4, 3, 5, 5)))]),
              os.path.join(out, "bad_geometry.onnx"))
    short = tensor("w", w)
    short.raw_data = short.raw_data[:-8]
    onnx.save(model([helper.make_node("Conv", ["x", "w"], ["y"],
                                      name="conv_short")],
                    [vinfo("x", [1, 3, 5, 5])], [vinfo("y", [1, 4, 3, 3])],
                    [short]),
              os.path.join(out, "short_raw.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
