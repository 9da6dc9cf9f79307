#!/usr/bin/env python3
"""fuzz_keras.py VAI_TRANSLATE MODEL.h5 OUTDIR [N]

Feeds vai-translate N mutated copies of a whole-model Keras file: half with
the HDF5 bytes truncated or overwritten, half with the model_config JSON
mutated (numbers replaced, values nulled, keys or characters deleted).
Every run must end with exit code 0 or 1, never a crash, abort or hang, and
every failure must print an error. Deterministic (fixed seed).
"""
import json
import random
import re
import shutil
import subprocess
import sys

import h5py

tool, model, out = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 100
rng = random.Random(4321)
raw = open(model, "rb").read()
with h5py.File(model, "r") as f:
    config = f.attrs["model_config"]
    config = config.decode() if isinstance(config, bytes) else config
NUMBERS = ["0", "-1", "1", "7", "4294967295", "99999999", "-99999999", "null", "[]", '"x"']


def mutate_bytes():
    data = bytearray(raw)
    if rng.random() < 0.4:
        return bytes(data[:rng.randrange(len(data))])
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def mutate_json():
    kind = rng.randrange(3)
    if kind == 0:
        nums = list(re.finditer(r"-?\d+(\.\d+)?|true|false|null", config))
        m = rng.choice(nums)
        return config[:m.start()] + rng.choice(NUMBERS) + config[m.end():]
    if kind == 1:
        keys = list(re.finditer(r'"[a-z_]+": ', config))
        m = rng.choice(keys)
        return config[:m.start()] + '"zz' + config[m.start() + 1:]
    i = rng.randrange(len(config))
    return config[:i] + config[i + 1:]


crashes = 0
path = f"{out}/fuzz.h5"
for case in range(count):
    if case % 2:
        open(path, "wb").write(mutate_bytes())
    else:
        shutil.copy(model, path)
        with h5py.File(path, "a") as f:
            f.attrs["model_config"] = mutate_json()
    try:
        r = subprocess.run([tool, path, "-o", f"{out}/fuzz.mlir"], capture_output=True, errors="replace",
                           text=True, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"case {case}: hang")
        crashes += 1
        continue
    if r.returncode not in (0, 1) or (r.returncode == 1 and "error:" not in r.stderr):
        print(f"case {case}: exit {r.returncode}\n{r.stderr[-2000:]}")
        shutil.copy(path, f"{out}/crash{case}.h5")
        crashes += 1
print(f"fuzz: {count} cases, {crashes} crashes")
