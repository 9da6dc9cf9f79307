"""Python helpers of vai-mlir.

`vai_mlir.mlir_text` writes vai-dialect MLIR text from numpy arrays, so tests,
benchmarks and importers written in Python can produce models that `vai-opt`
and `vai-run` read. Only numpy is needed.

    from vai_mlir import ModuleBuilder
    b = ModuleBuilder()
    x = b.argument((1, 8, 8, 3))
    y = b.op("vai.relu", [x], name="relu1")
    b.returns([y])
    print(b.text())

`vai_mlir.export` (needs Debian's torch; imported on demand) exports PyTorch
models to ONNX for `vai-translate`:

    from vai_mlir.export import export
    export(model, [torch.randn(1, 3, 224, 224)], "model.onnx")
"""

from .mlir_text import ModuleBuilder, Raw, Value, tensor_type

__all__ = ["ModuleBuilder", "Raw", "Value", "tensor_type"]
