"""Exports models built at test time with Debian's torch/torchvision through
vai_mlir.export, imports and runs them (vai-translate + vai-run) and compares
with torch's own outputs: |a - b| <= 1e-4 * max(1, |b|) and
max |a - b| <= 1e-4 * max |b|.

usage: check_torch_models.py WORK_DIR NAME...
NAME: a torchvision model (resnet18, squeezenet1_1, mobilenet_v2,
shufflenet_v2_x0_5; weights=None, seed 0, eval, input 1x3x224x224) or one of
the small operator models below.
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "ONNX", "Inputs"))
import vai_check  # noqa: E402
from vai_mlir.export import export  # noqa: E402


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def small_models():
    """Operator coverage the torchvision models miss: (module, input shape,
    opset)."""
    conv = nn.Conv2d(4, 6, 3, padding=1)
    return {
        # Resize: nearest (asymmetric/floor) and bilinear (pytorch_half_pixel
        # and align_corners).
        "resize_nearest": (nn.Sequential(conv, nn.Upsample(scale_factor=2)),
                           (1, 4, 5, 6), 13),
        "resize_bilinear": (nn.Upsample(size=(7, 9), mode="bilinear"),
                            (1, 3, 4, 5), 13),
        "resize_align_corners": (nn.Upsample(scale_factor=2, mode="bilinear",
                                             align_corners=True),
                                 (1, 3, 4, 5), 11),
        "upsample_opset9": (nn.Upsample(scale_factor=2), (1, 3, 4, 5), 9),
        # Transposed conv with output_padding and groups.
        "conv_transpose": (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                              output_padding=1, groups=2),
                           (1, 4, 5, 5), 13),
        # Asymmetric pad before a conv; reflect padding.
        "pad_reflect": (Lambda(lambda x: F.pad(x, (1, 2, 0, 1),
                                               mode="reflect")),
                        (1, 3, 6, 6), 13),
        # Pooling: ceil_mode and count_include_pad.
        "avgpool_ceil": (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False),
                         (1, 3, 8, 8), 13),
        # Activations.
        "activations": (nn.Sequential(nn.Conv2d(3, 4, 1), nn.Hardsigmoid(),
                                      nn.Conv2d(4, 4, 1), nn.LeakyReLU(0.2),
                                      nn.PReLU(4), nn.Tanh(), nn.Sigmoid(),
                                      nn.ReLU6()),
                        (1, 3, 4, 4), 13),
        # Per-channel arithmetic on NCHW ([C,1,1] constants), mean, softmax.
        "broadcast": (Lambda(lambda x: torch.softmax(
            (x - torch.arange(3.0).view(3, 1, 1)) / 2 *
            torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)
            + x.mean(dim=(2, 3), keepdim=True), dim=1)),
                      (2, 3, 4, 5), 13),
        # Flatten/reshape order and Gemm after a conv; softmax coerced to 2-D
        # before opset 13.
        "flatten_gemm": (nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(),
                                       nn.Linear(4 * 3 * 3, 5),
                                       nn.Softmax(dim=1)),
                         (2, 3, 5, 5), 11),
        "reshape_transpose": (Lambda(lambda x: x.reshape(1, 2, 3, 4, 5)
                                     .permute(0, 2, 1, 4, 3)
                                     .reshape(1, 6, 5, 4)),
                              (1, 6, 4, 5), 13),
        "concat_squeeze": (Lambda(lambda x: torch.cat(
            [x, x * 2], dim=1).mean(dim=(2, 3)).unsqueeze(1).squeeze(1)),
                           (1, 3, 4, 4), 13),
        # Attribute forms of older opsets: Clip min/max, Squeeze/Unsqueeze
        # axes, Slice starts/ends, Pad pads, Upsample scales, Softmax coerced
        # to 2-D at axis 1.
        "old_opset_forms": (nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.Hardtanh(-0.5, 0.7),
            Lambda(lambda x: F.pad(x[:, :, 1:, :-1], (1, 1, 2, 0),
                                   mode="replicate")),
            nn.Upsample(scale_factor=2),
            Lambda(lambda x: torch.softmax(x.unsqueeze(0).squeeze(0), dim=1))),
                            (1, 3, 6, 7), 9),
        "opset7": (nn.Sequential(nn.Conv2d(3, 4, 3, groups=1), nn.ReLU6(),
                                 nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(16, 3), nn.Softmax(dim=1)),
                   (1, 3, 6, 6), 7),
    }


def torchvision_model(name):
    import torchvision
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None), (1, 3, 224, 224)


def main():
    work, names = sys.argv[1], sys.argv[2:]
    os.makedirs(work, exist_ok=True)
    small = small_models()
    status = 0
    for name in names:
        if name in small:
            model, shape, opset = small[name]
        else:
            model, shape = torchvision_model(name)
            opset = 13
        model.eval()
        torch.manual_seed(1)
        x = torch.randn(*shape)
        with torch.no_grad():
            expected = model(x).numpy()
        onnx_path = os.path.join(work, name + ".onnx")
        export(model, [x], onnx_path, opset=opset)
        (out,) = vai_check.run_model(onnx_path, [x.numpy()], work, tag=name)
        err = vai_check.rel_error(out, expected)
        # Randomly initialised networks can have tiny outputs (MobileNet-V2's
        # are ~1e-9), so the error is also checked against the output scale.
        scale = float(np.abs(expected).max()) or 1.0
        scaled = float(np.abs(out - expected).max()) / scale
        ok = err <= 1e-4 and scaled <= 1e-4
        status |= not ok
        print("%s %s: max relative error %.2e, max error / max |output| "
              "%.2e (max |output| %.2e)" % ("PASS" if ok else "FAIL", name,
                                            err, scaled, scale))
    return status


if __name__ == "__main__":
    sys.exit(main())
