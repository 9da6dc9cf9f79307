#!/usr/bin/env python3
"""An independent NumPy interpreter of lowered dpu programs (docs/isa.md).

Reads the text IR that -vai-lower-to-dpu prints (the dpu.program ops, its
io/reg_sizes/params attributes and the params blob from the module's
dialect_resources), executes the instructions one after the other (the
program-order semantics the correctness contract defines) for one batch lane
per input image, and compares every subgraph output with the float .npy files
vai-run --reference wrote for the same images (bit-exact: the DPU's integer
output times 2^-fix_point).

usage: dpu_interp.py lowered.mlir --input x0.npy [x1.npy ...]
                     --expect y0.npy [y1.npy ...]   (one per lane, same order)
"""
import argparse
import re
import sys

import numpy as np

WB = 16  # bytes per bank word (Target.bankGroups[*].widthBytes)
GROUP_WORDS = 1 << 17  # the encoding's word address range


def ints(s):
    return [int(v) for v in re.findall(r"-?\d+", s)]


def rshift(a, s):
    if s == 0:
        return a
    return (a + (1 << (s - 1))) >> s


def sat(a):
    return np.clip(a, -127, 127)


class Machine:
    def __init__(self, lanes, regs, params):
        self.lanes = lanes
        self.ddr = {0: [params.astype(np.int64)] * lanes}
        for r, size in regs.items():
            self.ddr[r] = [np.zeros(size, np.int64) for _ in range(lanes)]
        self.banks = [dict() for _ in range(lanes)]
        self.init = {}

    def group(self, lane, g):
        return self.banks[lane].setdefault(g, np.zeros(GROUP_WORDS * WB, np.int64))

    def read_tile(self, lane, g, a, rows, cols, ch):
        cw = -(-ch // WB)
        mem = self.group(lane, g)[a * WB:(a + rows * cols * cw) * WB]
        return mem.reshape(rows, cols, cw * WB)[:, :, :ch].copy()

    def write_tile(self, lane, g, a, tile):
        rows, cols, ch = tile.shape
        cw = -(-ch // WB)
        full = np.zeros((rows, cols, cw * WB), np.int64)  # padding bytes = 0
        full[:, :, :ch] = tile
        self.group(lane, g)[a * WB:(a + rows * cols * cw) * WB] = full.ravel()

    def ddr_index(self, off, rows, cols, ch, rs, cs):
        y, x, c = np.meshgrid(np.arange(rows), np.arange(cols), np.arange(ch),
                              indexing="ij")
        return off + y * rs + x * cs + c


def parse_program(text):
    m = re.search(r"dpu\.program @(\w+) target \"[^\"]*\" attributes \{(.*?)\} \{\n(.*?)\n\s*\}\n",
                  text, re.S)
    if not m:
        sys.exit("no dpu.program in the input")
    attrs, body = m.group(2), m.group(3)
    io = []
    for d in re.findall(r"\{(direction[^}]*)\}", attrs):
        e = {}
        e["direction"] = re.search(r'direction = "(\w+)"', d).group(1)
        e["fix_point"] = int(re.search(r"fix_point = (-?\d+)", d).group(1))
        e["reg"] = int(re.search(r"reg = (\d+)", d).group(1))
        e["offset"] = int(re.search(r"offset = (\d+)", d).group(1))
        e["shape"] = ints(re.search(r"shape = \[([^\]]*)\]", d).group(1))
        io.append(e)
    regs = ints(re.search(r"reg_sizes = array<i64: ([^>]*)>", attrs).group(1))
    blob = re.search(r"params = dense_resource<(\w+)>", attrs).group(1)
    hexdata = re.search(blob + r': "0x([0-9A-Fa-f]*)"', text).group(1)
    raw = bytes.fromhex(hexdata)[4:]  # 4 bytes of alignment first
    params = np.frombuffer(raw, np.int8)
    return io, regs, params, [l.strip() for l in body.splitlines()]


def window(M, ins, lane, X, kh, kw, sh, sw, dh, dw, pad, edge, orows, ocols, fill=0):
    pt = pad[0] if "top" in edge else 0
    pb = pad[1] if "bottom" in edge else 0
    pl = pad[2] if "left" in edge else 0
    pr = pad[3] if "right" in edge else 0
    rows, cols, ch = X.shape
    H = max(rows + pt + pb, (orows - 1) * sh + dh * (kh - 1) + 1)
    W = max(cols + pl + pr, (ocols - 1) * sw + dw * (kw - 1) + 1)
    P = np.full((H + kh * dh, W + kw * dw, ch), fill, np.int64)
    P[pt:pt + rows, pl:pl + cols] = X
    for ky in range(kh):
        for kx in range(kw):
            yield ky, kx, P[ky * dh:ky * dh + (orows - 1) * sh + 1:sh,
                            kx * dw:kx * dw + (ocols - 1) * sw + 1:sw]


def run(M, lines):
    for line in lines:
        op = line.split()[0]
        edge = re.search(r"edge ([a-z|]+)", line)
        edge = edge.group(1) if edge else ""
        if op in ("dpu.load", "dpu.save"):
            m = re.search(r"ddr <(\d+), (\d+)>.*bank <(\d+), (\d+)>|bank <(\d+), (\d+)> -> ddr <(\d+), (\d+)>", line)
            if op == "dpu.load":
                reg, off, g, a = [int(v) for v in m.groups()[:4]]
            else:
                g, a, reg, off = [int(v) for v in m.groups()[4:]]
            rows, cols, ch = ints(re.search(r"shape \[([^\]]*)\]", line).group(1))
            rs, cs = ints(re.search(r"strides \[([^\]]*)\]", line).group(1))
            idx = M.ddr_index(off, rows, cols, ch, rs, cs)
            for b in range(M.lanes):
                if op == "dpu.load":
                    M.write_tile(b, g, a, M.ddr[reg][b][idx])
                else:
                    assert reg != 0, "SAVE to the parameters"
                    M.ddr[reg][b][idx] = M.read_tile(b, g, a, rows, cols, ch)
        elif op in ("dpu.conv_init", "dpu.dwconv_init"):
            cfg = {}
            cfg["kernel"] = ints(re.search(r"kernel \[([^\]]*)\]", line).group(1))
            cfg["stride"] = ints(re.search(r"stride \[([^\]]*)\]", line).group(1))
            d = re.search(r"dilation \[([^\]]*)\]", line)
            cfg["dilation"] = ints(d.group(1)) if d else [1, 1]
            cfg["pad"] = ints(re.search(r"pad \[([^\]]*)\]", line).group(1))
            cfg["sb"] = int(re.search(r"shift_bias (\d+)", line).group(1))
            cfg["sc"] = int(re.search(r"shift_cut (\d+)", line).group(1))
            a = re.search(r" act (\w+)", line)
            cfg["act"] = a.group(1) if a else "none"
            a = re.search(r"act_max (\d+)", line)
            cfg["act_max"] = int(a.group(1)) if a else 0
            M.init[op] = cfg
        elif op in ("dpu.conv", "dpu.dwconv"):
            cfg = M.init[op + "_init"]
            tiles = re.findall(r"<(\d+), (\d+)> \[([^\]]*)\]", line)
            (ig, ia, ishape), (og, oa, oshape) = tiles
            ig, ia, og, oa = int(ig), int(ia), int(og), int(oa)
            ishape, oshape = ints(ishape), ints(oshape)
            wg, wa = [int(v) for v in re.search(r"weights <(\d+), (\d+)>", line).groups()]
            bg, ba = [int(v) for v in re.search(r"bias <(\d+), (\d+)>", line).groups()]
            kh, kw = cfg["kernel"]
            ic, oc = ishape[2], oshape[2]
            for b in range(M.lanes):
                X = M.read_tile(b, ig, ia, *ishape)
                if op == "dpu.conv":
                    Wt = M.read_tile(b, wg, wa, oc, kh * kw, ic).reshape(oc, kh, kw, ic)
                    B = M.read_tile(b, bg, ba, 1, 1, oc).reshape(oc)
                else:
                    Wt = M.read_tile(b, wg, wa, 1, kh * kw, ic).reshape(kh, kw, ic)
                    B = M.read_tile(b, bg, ba, 1, 1, ic).reshape(ic)
                acc = np.zeros((oshape[0], oshape[1], oc), np.int64)
                for ky, kx, win in window(M, None, b, X, kh, kw, *cfg["stride"],
                                          *cfg["dilation"], cfg["pad"], edge,
                                          oshape[0], oshape[1]):
                    if op == "dpu.conv":
                        acc += win @ Wt[:, ky, kx, :].T
                    else:
                        acc += win * Wt[ky, kx, :]
                acc += B << cfg["sb"]
                y = rshift(acc, cfg["sc"])
                if cfg["act"] == "leaky_relu":
                    y = np.where(acc < 0, rshift(acc * 26, cfg["sc"] + 8), y)
                elif cfg["act"] == "relu":
                    y = np.maximum(y, 0)
                elif cfg["act"] == "relu6":
                    y = np.minimum(np.maximum(y, 0), cfg["act_max"])
                M.write_tile(b, og, oa, sat(y))
        elif op == "dpu.pool_init":
            cfg = {"kind": line.split()[1]}
            cfg["kernel"] = ints(re.search(r"kernel \[([^\]]*)\]", line).group(1))
            cfg["stride"] = ints(re.search(r"stride \[([^\]]*)\]", line).group(1))
            cfg["pad"] = ints(re.search(r"pad \[([^\]]*)\]", line).group(1))
            a = re.search(r" mul (\d+)", line)
            cfg["mul"] = int(a.group(1)) if a else 1
            a = re.search(r" shift (-?\d+)", line)
            cfg["shift"] = int(a.group(1)) if a else 0
            M.init["pool"] = cfg
        elif op == "dpu.pool":
            cfg = M.init["pool"]
            (ig, ia, ishape), (og, oa, oshape) = re.findall(r"<(\d+), (\d+)> \[([^\]]*)\]", line)
            ishape, oshape = ints(ishape), ints(oshape)
            kh, kw = cfg["kernel"]
            for b in range(M.lanes):
                X = M.read_tile(b, int(ig), int(ia), *ishape)
                avg = cfg["kind"] == "avg"
                v = np.zeros(oshape, np.int64) if avg else np.full(oshape, -(1 << 40), np.int64)
                for ky, kx, win in window(M, None, b, X, kh, kw, *cfg["stride"], 1, 1,
                                          cfg["pad"], edge, oshape[0], oshape[1],
                                          fill=0 if avg else -(1 << 40)):
                    v = v + win if avg else np.maximum(v, win)
                if avg:
                    v = v * cfg["mul"]
                s = cfg["shift"]
                v = rshift(v, s) if s >= 0 else v << -s
                M.write_tile(b, int(og), int(oa), sat(v))
        elif op == "dpu.eltwise":
            refs = re.findall(r"<(\d+), (\d+)>", line)
            shape = ints(re.search(r"\[([^\]]*)\]", line).group(1))
            sa = re.search(r"^\S+ <\d+, \d+> shl (\d+)", line)
            sb = re.search(r", <\d+, \d+> shl (\d+)", line)
            so = re.search(r"shr (\d+)", line)
            sa, sb, so = [int(m.group(1)) if m else 0 for m in (sa, sb, so)]
            for b in range(M.lanes):
                A = M.read_tile(b, int(refs[0][0]), int(refs[0][1]), *shape)
                Bt = M.read_tile(b, int(refs[1][0]), int(refs[1][1]), *shape)
                y = rshift((A << sa) + (Bt << sb), so)
                if re.search(r"\brelu\b", line):
                    y = np.maximum(y, 0)
                M.write_tile(b, int(refs[2][0]), int(refs[2][1]), sat(y))
        elif op == "dpu.end":
            return
        else:
            sys.exit("unknown instruction: " + line)
    sys.exit("program without dpu.end")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("program")
    ap.add_argument("--input", nargs="+", required=True)
    ap.add_argument("--expect", nargs="+", required=True)
    args = ap.parse_args()
    io, regs, params, lines = parse_program(open(args.program).read())
    lanes = len(args.input)
    M = Machine(lanes, {r: regs[r] for r in range(1, len(regs))}, params)
    ins = [e for e in io if e["direction"] == "in"]
    outs = [e for e in io if e["direction"] == "out"]
    assert len(ins) == 1 and len(outs) == 1, "one input and one output expected"
    for b, path in enumerate(args.input):
        x = np.load(path).astype(np.float64)
        e = ins[0]
        assert list(x.shape) == e["shape"], (x.shape, e["shape"])
        q = np.clip(np.floor(x * 2.0 ** e["fix_point"] + 0.5), -127, 127)
        M.ddr[e["reg"]][b][e["offset"]:e["offset"] + q.size] = q.ravel()
    run(M, lines)
    bad = 0
    for b, path in enumerate(args.expect):
        e = outs[0]
        n = int(np.prod(e["shape"]))
        q = M.ddr[e["reg"]][b][e["offset"]:e["offset"] + n]
        y = (q.astype(np.float64) * 2.0 ** -e["fix_point"]).astype(np.float32)
        ref = np.load(path).astype(np.float32).ravel()
        diff = np.count_nonzero(y != ref)
        print(f"lane {b}: {n} outputs, {diff} differ from the reference")
        if diff:
            i = int(np.argmax(y != ref))
            print(f"  first at {i}: dpu {y[i]} reference {ref[i]}")
        bad += diff
    print("PASS" if bad == 0 else "FAIL")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
