#!/usr/bin/env python3
"""fuzz_import.py VAI_TRANSLATE NET.prototxt WEIGHTS.caffemodel OUTDIR [N]

Feeds vai-translate N mutated copies of a net (truncated and bit-flipped
weights; prototxt lines dropped, numbers replaced, characters deleted) and
checks that every run ends with exit code 0 or 1, never a crash, abort or
hang, and that every failure prints an error. Deterministic (fixed seed).
"""
import random
import re
import subprocess
import sys

tool, proto, weights, out = sys.argv[1:5]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 200
rng = random.Random(1234)
proto_text = open(proto).read()
weight_bytes = open(weights, "rb").read()
NUMBERS = ["0", "-1", "1", "7", "4294967295", "99999999", "-99999999"]


def mutate_weights():
    data = bytearray(weight_bytes)
    if rng.random() < 0.4:
        return bytes(data[:rng.randrange(len(data))])
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def mutate_proto():
    lines = proto_text.splitlines()
    kind = rng.randrange(3)
    if kind == 0:
        del lines[rng.randrange(len(lines))]
        return "\n".join(lines)
    if kind == 1:
        nums = list(re.finditer(r"-?\d+(\.\d+)?", proto_text))
        m = rng.choice(nums)
        return proto_text[:m.start()] + rng.choice(NUMBERS) + proto_text[m.end():]
    i = rng.randrange(len(proto_text))
    return proto_text[:i] + proto_text[i + 1:]


failures = 0
for case in range(count):
    p, w = f"{out}/fuzz.prototxt", f"{out}/fuzz.caffemodel"
    if case % 2:
        open(p, "w").write(proto_text)
        open(w, "wb").write(mutate_weights())
    else:
        open(p, "w").write(mutate_proto())
        open(w, "wb").write(weight_bytes)
    try:
        r = subprocess.run([tool, p, "--weights", w, "-o", f"{out}/fuzz.mlir"],
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"case {case}: hang")
        failures += 1
        continue
    if r.returncode not in (0, 1) or (r.returncode == 1 and
                                      "error:" not in r.stderr):
        print(f"case {case}: exit {r.returncode}\n{r.stderr[-2000:]}")
        failures += 1
        open(f"{out}/crash{case}.prototxt", "w").write(open(p).read())
        open(f"{out}/crash{case}.caffemodel", "wb").write(open(w, "rb").read())
print(f"fuzz: {count} cases, {failures} crashes")
sys.exit(1 if failures else 0)
