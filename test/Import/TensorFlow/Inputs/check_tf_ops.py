#!/usr/bin/env python3
"""Imports each graph make_graphs.py wrote (OUT_DIR/cases.json) with
vai-translate, runs it with vai-run on seeded random inputs and compares
every fetched output with tf_numpy.py's evaluation of the same GraphDef;
prints "PASS case" or "FAIL case: why" per case.

usage: check_tf_ops.py --pb-dir D OUT_DIR
"""
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
# The ONNX tests' runner: vai-translate, then vai-run, then the outputs.
sys.path.insert(0, os.path.join(here, "..", "..", "ONNX", "Inputs"))
import tf_numpy  # noqa: E402
import vai_check  # noqa: E402

pb_dir, out = sys.argv[2], sys.argv[3]
with open(os.path.join(out, "cases.json")) as f:
    cases = json.load(f)
rng = np.random.default_rng(1)
for c in cases:
    inputs = [(rng.standard_normal(shape) * c["scale"]).astype(np.float32)
              for _, shape in c["inputs"]]
    graph = tf_numpy.load_graph(c["file"], pb_dir)
    want = tf_numpy.run(graph, {name: x.astype(np.float64) for (name, _), x
                                in zip(c["inputs"], inputs)}, c["fetches"])
    args = ["--outputs", ",".join(c["fetches"])]
    for name, shape in c["inputs"]:
        args += ["--input-shape", name + ":" + ",".join(map(str, shape))]
    try:
        got = vai_check.run_model(c["file"], inputs, out, args, tag=c["name"])
        errors = [vai_check.rel_error(g, w) for g, w in zip(got, want)]
    except Exception as e:  # a failed tool or a shape mismatch
        print(f"FAIL {c['name']}: {e}")
        continue
    worst = max(errors)
    if len(got) == len(want) and worst <= 1e-4:
        print(f"PASS {c['name']} (max error {worst:.2g})")
    else:
        print(f"FAIL {c['name']}: errors {errors}")
