"""Export PyTorch models to ONNX for vai-translate (Debian's torch 1.13).

    from vai_mlir.export import export
    export(model, [torch.randn(1, 3, 224, 224)], "model.onnx")

`model` is an `nn.Module` or the path of a TorchScript file (`torch.jit.save`).
A raw state dict (`.th`/`.pth`, e.g. a training checkpoint holding
{'state_dict': ...} with `module.`-prefixed keys) needs its architecture:
`load_state_dict_model(path, "package.module:callable")`.

Command line (what `vai-translate model.pt --input-shape ...` runs):

    python3 -m vai_mlir.export MODEL.pt --input-shape 1,3,32,32 -o out.onnx
    python3 -m vai_mlir.export resnet20.th --arch resnet_cifar:resnet20 \
        --input-shape input:1,3,32,32 -o out.onnx

The model is exported in eval mode with fixed input names ("input", or
"input_0", "input_1", ... or the names given with --input-shape NAME:dims)
and output names ("output", "output_0", ...). The ONNX file is written
atomically: nothing is left behind on failure.
"""

import argparse
import importlib
import os
import sys
import tempfile
import warnings

DEFAULT_OPSET = 13


class ExportError(Exception):
    """A user-facing export error (printed without a traceback)."""


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the host
        raise ExportError(
            "PyTorch is not available to %s (%s); install Debian's "
            "python3-torch" % (sys.executable, e))
    return torch


def load_module(path):
    """Loads a TorchScript file on the CPU."""
    torch = _torch()
    if not os.path.exists(path):
        raise ExportError("%s: no such file" % path)
    try:
        return torch.jit.load(path, map_location="cpu")
    except Exception as e:
        raise ExportError(
            "%s: not a TorchScript file (%s); a state dict needs --arch "
            "module:callable" % (path, str(e).splitlines()[0] if str(e) else
                                 type(e).__name__))


def load_state_dict_model(path, arch):
    """Rebuilds `arch` ("module:callable", imported from sys.path) and loads
    the state dict in `path` into it (a 'state_dict' entry and `module.`
    key prefixes from DataParallel are handled)."""
    torch = _torch()
    if not os.path.exists(path):
        raise ExportError("%s: no such file" % path)
    module_name, _, attr = arch.partition(":")
    if not module_name or not attr:
        raise ExportError("--arch %s: expected module:callable" % arch)
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ExportError("--arch %s: %s" % (arch, e))
    model = factory()
    try:
        checkpoint = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ExportError("%s: cannot load the state dict (%s)" % (path, e))
    state = checkpoint
    if isinstance(checkpoint, dict) and "state_dict" in checkpoint:
        state = checkpoint["state_dict"]
    if not isinstance(state, dict):
        raise ExportError("%s: does not hold a state dict" % path)
    state = {(k[len("module."):] if k.startswith("module.") else k): v
             for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ExportError("%s: does not match --arch %s: %s" % (path, arch, e))
    return model


def _names(prefix, count):
    return [prefix] if count == 1 else ["%s_%d" % (prefix, i)
                                        for i in range(count)]


def export(module_or_path, example_inputs, onnx_path, opset=DEFAULT_OPSET,
           input_names=None, output_names=None):
    """Exports `module_or_path` (an nn.Module or a TorchScript file) run on
    `example_inputs` (a tensor or a sequence of tensors) to `onnx_path`.
    Returns the output names."""
    torch = _torch()
    model = module_or_path
    if isinstance(module_or_path, (str, os.PathLike)):
        model = load_module(os.fspath(module_or_path))
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = [example_inputs]
    example_inputs = tuple(example_inputs)
    model.eval()
    input_names = list(input_names or _names("input", len(example_inputs)))
    with torch.no_grad():
        outputs = model(*example_inputs)
    count = len(outputs) if isinstance(outputs, (tuple, list)) else 1
    output_names = list(output_names or _names("output", count))

    directory = os.path.dirname(os.path.abspath(onnx_path))
    fd, tmp = tempfile.mkstemp(prefix=".vai-export-", suffix=".onnx",
                               dir=directory)
    os.close(fd)
    try:
        with torch.no_grad():
            torch.onnx.export(model, example_inputs, tmp,
                              opset_version=opset,
                              input_names=input_names,
                              output_names=output_names,
                              do_constant_folding=True,
                              training=torch.onnx.TrainingMode.EVAL)
        os.replace(tmp, onnx_path)
    except Exception:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return output_names


def _parse_shape(spec):
    name, _, dims = spec.rpartition(":")
    try:
        shape = [int(d) for d in dims.split(",")]
    except ValueError:
        shape = []
    if not shape or any(d < 1 for d in shape):
        raise ExportError("--input-shape %s: expected [NAME:]D0,D1,... with "
                          "positive dimensions" % spec)
    return name or None, shape


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m vai_mlir.export",
        description="Export a PyTorch model (TorchScript .pt, or a state "
                    "dict with --arch) to ONNX for vai-translate.")
    parser.add_argument("model", help="TorchScript .pt, or .th/.pth state "
                                      "dict with --arch")
    parser.add_argument("--input-shape", action="append", required=True,
                        metavar="[NAME:]D0,D1,...",
                        help="shape of each input, in order (NCHW)")
    parser.add_argument("-o", "--output", required=True,
                        help="ONNX file to write")
    parser.add_argument("--arch", metavar="MODULE:CALLABLE",
                        help="builds the nn.Module a state dict belongs to")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    args = parser.parse_args(argv)
    # torch's exporter warns about tracing details; errors still surface.
    warnings.filterwarnings("ignore")
    try:
        torch = _torch()
        shapes = [_parse_shape(s) for s in args.input_shape]
        names = [n or default for (n, _), default in
                 zip(shapes, _names("input", len(shapes)))]
        if args.arch:
            sys.path.insert(0, os.getcwd())
            model = load_state_dict_model(args.model, args.arch)
        else:
            model = load_module(args.model)
        torch.manual_seed(0)
        inputs = [torch.rand(*shape) for _, shape in shapes]
        export(model, inputs, args.output, opset=args.opset,
               input_names=names)
    except ExportError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    except Exception as e:
        print("error: %s: export failed: %s: %s" %
              (args.model, type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
