"""Write vai-dialect MLIR text from numpy arrays.

`ModuleBuilder` collects the arguments, constants and ops of one function and
prints it in the textual syntax that `vai-opt` and `vai-run` parse (see
include/vai/Dialect/Vai/VaiOps.td for every op and test/Dialect/Vai/ops.mlir
for the syntax). It does no shape inference: the caller gives each op's
result shape, and the vai verifier rejects a wrong one when the text is read.

    import numpy as np
    from vai_mlir import ModuleBuilder

    b = ModuleBuilder()
    x = b.argument((1, 8, 8, 3), name="data")           # NHWC input
    w = b.constant(np.zeros((16, 3, 3, 3), np.float32))  # OHWI weight
    bias = b.constant(np.zeros(16, np.float32))
    y = b.op("vai.conv2d", [x, w, bias],
             {"strides": [2, 2], "pad": [1, 0, 1, 0], "act": "relu"},
             (1, 4, 4, 16), name="conv1")
    b.returns([y])
    text = b.text()

prints (constants abbreviated)

    func.func @main(%arg0: tensor<1x8x8x3xf32> loc("data")) -> (tensor<1x4x4x16xf32>) {
      %0 = vai.constant dense<"0x0000..."> : tensor<16x3x3x3xf32>
      %1 = vai.constant dense<"0x0000..."> : tensor<16xf32>
      %2 = vai.conv2d %arg0, %0, %1 {act = #vai<act relu>, pad = array<i64: 1, 0, 1, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x8x3xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x4x4x16xf32> loc("conv1")
      return %2 : tensor<1x4x4x16xf32>
    }

Attribute values are plain Python values; their MLIR form follows the
attribute's definition in VaiOps.td (see `ATTRIBUTE_KINDS`):

    i64 arrays  [2, 2]       -> array<i64: 2, 2>
    i64         1            -> 1 : i64
    f32         0.1          -> 0.10000000149011612 : f32  (exact f32 value)
    bool        True         -> true
    enums       "relu"       -> #vai<act relu>, #vai<pad_mode reflect>,
                               #vai<resize_mode bilinear>,
                               #vai<coord_mode half_pixel>,
                               #vai<nearest_mode round_prefer_ceil>

Attributes not in the table are formatted by their Python type, and
`Raw("...")` inserts attribute text verbatim.

Constants are written as hex dense literals (`dense<"0x...">`, little-endian
bytes). Builders for large models can pass `resource_threshold`: constants of
at least that many bytes then become `dense_resource<...>` blobs in the
file's `dialect_resources` section instead.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

# numpy dtype -> MLIR element type of the tensors the vai dialect carries.
_ELEMENT_TYPES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.int8): "i8",
    np.dtype(np.uint8): "ui8",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
}
_NUMPY_DTYPES = {v: k for k, v in _ELEMENT_TYPES.items()}

# How each vai attribute is written, by attribute name (VaiOps.td). `mode`
# depends on the op and is resolved in _attribute_kind.
ATTRIBUTE_KINDS = {
    # DenseI64ArrayAttr
    **{n: "i64_array" for n in (
        "strides", "pad", "dilations", "output_padding", "kernel", "shape",
        "perm", "axes", "offsets", "sizes", "low", "high", "size")},
    # I64Attr
    "groups": "i64", "axis": "i64", "fix_point": "i64", "bit_width": "i64",
    # F32Attr
    **{n: "f32" for n in (
        "act_alpha", "epsilon", "alpha", "beta", "min", "max", "value",
        "ratio")},
    # BoolAttr
    "ceil_mode": "bool", "count_include_pad": "bool", "keep_dims": "bool",
    "symmetric": "bool",
    # enum attributes: the kind is the enum's mnemonic in #vai<mnemonic value>
    "act": "enum:act", "coord_mode": "enum:coord_mode",
    "nearest_mode": "enum:nearest_mode", "round_mode": "enum:round",
}
_MODE_ENUMS = {"vai.pad": "enum:pad_mode", "vai.resize": "enum:resize_mode"}

# Ops whose custom syntax is `op %x attrs : type` (SameOperandsAndResultType)
# instead of `op operands attrs : (operand types) -> result type`.
UNARY_OPS = frozenset(
    "vai." + n for n in ("relu", "relu6", "leaky_relu", "sigmoid", "tanh",
                         "hard_sigmoid", "clip", "identity", "dropout",
                         "fix"))


def tensor_type(shape: Sequence[int], element: str = "f32") -> str:
    """`tensor<2x3xf32>` for shape (2, 3); `tensor<f32>` for a scalar."""
    return "tensor<" + "".join(f"{int(d)}x" for d in shape) + element + ">"


@dataclass(frozen=True)
class Value:
    """An SSA value of the function being built: `%name` of a ranked tensor."""

    name: str                 # without the leading '%'
    shape: tuple[int, ...]
    element: str = "f32"      # MLIR element type: f32, i8, ui8, i32, i64

    @property
    def type(self) -> str:
        return tensor_type(self.shape, self.element)

    def __str__(self) -> str:
        return "%" + self.name


@dataclass(frozen=True)
class Raw:
    """Attribute text used verbatim: Raw("dense<1.0> : tensor<2xf32>")."""

    text: str


def _string_literal(s: str) -> str:
    """An MLIR string literal; non-printable and non-ASCII bytes as \\XX."""
    out = []
    for byte in s.encode("utf-8"):
        c = chr(byte)
        if c in '"\\' or not (0x20 <= byte < 0x7F):
            out.append(f"\\{byte:02X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def format_f32(x: float) -> str:
    """The f32 nearest to x, as a literal that parses back to exactly it.

    repr of the float32 value widened to double is exact and round-trips;
    MLIR float literals need a '.', so '1e+16' becomes '1.0e+16'. Non-finite
    values use MLIR's hexadecimal bit-pattern form.
    """
    f = np.float32(x)
    if not math.isfinite(float(f)):
        return "0x%08X" % struct.unpack("<I", struct.pack("<f", f))[0]
    s = repr(float(f))
    mantissa, e, exponent = s.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def _attribute_kind(op_name: str, attr: str, value) -> str:
    if attr == "mode" and op_name in _MODE_ENUMS:
        return _MODE_ENUMS[op_name]
    if attr in ATTRIBUTE_KINDS:
        return ATTRIBUTE_KINDS[attr]
    # Not a vai attribute we know: go by the Python type.
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "i64"
    if isinstance(value, (float, np.floating)):
        return "f32"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "i64_array"
    raise TypeError(f"{op_name}: cannot tell how to write attribute "
                    f"'{attr}' = {value!r}; wrap its MLIR text in Raw()")


def format_attribute(op_name: str, attr: str, value) -> str:
    """The MLIR text of attribute `attr` of op `op_name` (without the name)."""
    if isinstance(value, Raw):
        return value.text
    kind = _attribute_kind(op_name, attr, value)
    if kind == "i64_array":
        items = [int(v) for v in np.asarray(value).reshape(-1)]
        return "array<i64" + (": " + ", ".join(map(str, items)) if items
                              else "") + ">"
    if kind == "i64":
        return f"{int(value)} : i64"
    if kind == "f32":
        return f"{format_f32(value)} : f32"
    if kind == "bool":
        return "true" if value else "false"
    if kind.startswith("enum:"):
        return f"#vai<{kind[5:]} {value}>"
    raise AssertionError(kind)


class ModuleBuilder:
    """Builds one `func.func` of vai ops and prints it as MLIR text.

    Values are numbered in creation order (%arg0.. for arguments, %0.. for
    constants and op results). Call `returns` once, then `text`.
    """

    def __init__(self, function: str = "main",
                 resource_threshold: int | None = None):
        self.function = function
        self.resource_threshold = resource_threshold
        self._args: list[tuple[Value, str | None]] = []
        self._lines: list[str] = []
        self._resources: list[tuple[str, str]] = []  # (key, hex blob)
        self._results: list[Value] | None = None
        self._next = 0

    # -- values ------------------------------------------------------------

    def _new_value(self, shape, element: str) -> Value:
        v = Value(str(self._next), tuple(int(d) for d in shape), element)
        self._next += 1
        return v

    @staticmethod
    def _loc(name: str | None) -> str:
        return f" loc({_string_literal(name)})" if name is not None else ""

    def argument(self, shape: Sequence[int], dtype="f32",
                 name: str | None = None) -> Value:
        """A function argument (model input) of the given shape.

        `dtype` is an MLIR element type ("f32", "i8", ...) or a numpy dtype;
        `name` becomes the argument's location.
        """
        element = dtype if isinstance(dtype, str) else _ELEMENT_TYPES[
            np.dtype(dtype)]
        v = Value(f"arg{len(self._args)}", tuple(int(d) for d in shape),
                  element)
        self._args.append((v, name))
        return v

    def constant(self, array, name: str | None = None) -> Value:
        """A `vai.constant` holding `array` (weights, biases, parameters).

        Float arrays of any precision are stored as float32; integer arrays
        must be int8, uint8, int32 or int64.
        """
        a = np.asarray(array)
        if a.dtype.kind == "f":
            a = a.astype(np.float32)
        if a.dtype not in _ELEMENT_TYPES:
            raise TypeError(f"constant of unsupported dtype {a.dtype}")
        element = _ELEMENT_TYPES[a.dtype]
        data = np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes()
        v = self._new_value(a.shape, element)
        if (self.resource_threshold is not None
                and len(data) >= self.resource_threshold):
            # Resource blobs start with their alignment as a 32-bit LE word.
            key = f"vai_const_{v.name}"
            blob = struct.pack("<I", a.dtype.itemsize) + data
            self._resources.append((key, blob.hex().upper()))
            attr = f"dense_resource<{key}>"
        else:
            attr = f'dense<"0x{data.hex().upper()}">'
        self._lines.append(f"{v} = vai.constant {attr} : {v.type}"
                           f"{self._loc(name)}")
        return v

    def op(self, op_name: str, operands: Iterable[Value | None],
           attrs: Mapping[str, object] | None = None,
           result_shape: Sequence[int] | None = None,
           name: str | None = None, result_dtype: str | None = None) -> Value:
        """Appends `op_name` (e.g. "vai.conv2d"; the "vai." may be omitted).

        `operands`: Values; a None (an absent optional bias) is skipped.
        `attrs`: attribute name -> Python value (see the module docstring);
        None values are skipped. `result_shape` defaults to the first
        operand's shape, `result_dtype` (MLIR element type) to its element
        type. `name` becomes the op's location `loc("name")`.
        """
        if "." not in op_name:
            op_name = "vai." + op_name
        ops = [v for v in operands if v is not None]
        if not ops:
            raise ValueError(f"{op_name}: needs at least one operand")
        shape = ops[0].shape if result_shape is None else result_shape
        result = self._new_value(shape, result_dtype or ops[0].element)

        attr_items = [(k, v) for k, v in sorted((attrs or {}).items())
                      if v is not None]
        attr_text = ""
        if attr_items:
            attr_text = " {" + ", ".join(
                f"{k} = {format_attribute(op_name, k, v)}"
                for k, v in attr_items) + "}"

        if op_name in UNARY_OPS:
            if len(ops) != 1 or result.type != ops[0].type:
                raise ValueError(f"{op_name} takes one operand and returns "
                                 "its type")
            trailer = ops[0].type
        else:
            trailer = ("(" + ", ".join(v.type for v in ops) + ") -> "
                       + result.type)
        self._lines.append(
            f"{result} = {op_name} {', '.join(map(str, ops))}{attr_text} : "
            f"{trailer}{self._loc(name)}")
        return result

    def returns(self, values: Sequence[Value]) -> None:
        """Sets the function's results (model outputs), in order."""
        if self._results is not None:
            raise ValueError("returns() was already called")
        self._results = list(values)

    # -- output ------------------------------------------------------------

    def text(self) -> str:
        """The MLIR text of the function (and its resources, if any)."""
        if self._results is None:
            raise ValueError("call returns() before text()")
        args = ", ".join(f"{v}: {v.type}{self._loc(n)}" for v, n in self._args)
        result_types = ", ".join(v.type for v in self._results)
        out = [f"func.func @{self.function}({args}) -> ({result_types}) {{"]
        out += ["  " + line for line in self._lines]
        if self._results:
            out.append("  return " + ", ".join(map(str, self._results))
                       + " : " + result_types)
        else:
            out.append("  return")
        out.append("}")
        if self._resources:
            out.append("{-#\n  dialect_resources: {\n    builtin: {")
            out.append(",\n".join(f'      {k}: "0x{blob}"'
                                  for k, blob in self._resources))
            out.append("    }\n  }\n#-}")
        return "\n".join(out) + "\n"

    def write(self, path) -> None:
        """Writes `text()` to `path`."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.text())
