//===- VaiDialect.td - The vai graph dialect ---------------*- tablegen -*-===//
#ifndef VAI_DIALECT_VAI_VAIDIALECT_TD
#define VAI_DIALECT_VAI_VAIDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Vai_Dialect : Dialect {
  let name = "vai";
  let summary = "Framework-neutral CNN graph dialect of vai-mlir";
  let description = [{
    The `vai` dialect describes inference graphs imported from Caffe,
    TensorFlow, Keras, PyTorch and ONNX. Every tensor is a ranked tensor with
    a static shape.

    Layouts (see docs/dialect.md):
    - 4-D activations are NHWC (batch, height, width, channels), as XIR and
      the DPU use. Per-channel operations work on the last dimension.
    - Convolution weights are OHWI: [out_channels, kernel_h, kernel_w,
      in_channels / groups]; the transposed convolution uses the same order.
    - Depthwise weights are [multiplier, kernel_h, kernel_w, channels]; output
      channel c * multiplier + m comes from input channel c.
    - Inner-product weights are [out_features, in_features].

    A model is a `func.func` whose arguments are its inputs and whose results
    are its outputs; the framework's layer names are kept as MLIR name
    locations.
  }];
  let cppNamespace = "::mlir::vai";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Vai_Activation : I32EnumAttr<"Activation",
    "activation fused into the producing op", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Relu", 1, "relu">,
      I32EnumAttrCase<"Relu6", 2, "relu6">,
      I32EnumAttrCase<"LeakyRelu", 3, "leaky_relu">
    ]> {
  let cppNamespace = "::mlir::vai";
  let genSpecializedAttr = 0;
}
def Vai_ActivationAttr : EnumAttr<Vai_Dialect, Vai_Activation, "act">;

def Vai_PadMode : I32EnumAttr<"PadMode", "how pad fills new elements", [
      I32EnumAttrCase<"Constant", 0, "constant">,
      I32EnumAttrCase<"Reflect", 1, "reflect">,
      I32EnumAttrCase<"Edge", 2, "edge">
    ]> {
  let cppNamespace = "::mlir::vai";
  let genSpecializedAttr = 0;
}
def Vai_PadModeAttr : EnumAttr<Vai_Dialect, Vai_PadMode, "pad_mode">;

def Vai_ResizeMode : I32EnumAttr<"ResizeMode", "resize interpolation", [
      I32EnumAttrCase<"Nearest", 0, "nearest">,
      I32EnumAttrCase<"Bilinear", 1, "bilinear">
    ]> {
  let cppNamespace = "::mlir::vai";
  let genSpecializedAttr = 0;
}
def Vai_ResizeModeAttr : EnumAttr<Vai_Dialect, Vai_ResizeMode, "resize_mode">;

def Vai_CoordMode : I32EnumAttr<"CoordMode",
    "mapping of output to input coordinates in resize", [
      I32EnumAttrCase<"Asymmetric", 0, "asymmetric">,
      I32EnumAttrCase<"AlignCorners", 1, "align_corners">,
      I32EnumAttrCase<"HalfPixel", 2, "half_pixel">,
      I32EnumAttrCase<"PytorchHalfPixel", 3, "pytorch_half_pixel">
    ]> {
  let cppNamespace = "::mlir::vai";
  let genSpecializedAttr = 0;
}
def Vai_CoordModeAttr : EnumAttr<Vai_Dialect, Vai_CoordMode, "coord_mode">;

def Vai_NearestMode : I32EnumAttr<"NearestMode",
    "rounding of the input coordinate in nearest resize", [
      I32EnumAttrCase<"Floor", 0, "floor">,
      I32EnumAttrCase<"Ceil", 1, "ceil">,
      I32EnumAttrCase<"RoundPreferFloor", 2, "round_prefer_floor">,
      I32EnumAttrCase<"RoundPreferCeil", 3, "round_prefer_ceil">
    ]> {
  let cppNamespace = "::mlir::vai";
  let genSpecializedAttr = 0;
}
def Vai_NearestModeAttr : EnumAttr<Vai_Dialect, Vai_NearestMode, "nearest_mode">;

def Vai_RoundMode : I32EnumAttr<"RoundMode",
    "rounding of fixed-point quantization (see docs/quantization.md)", [
      I32EnumAttrCase<"DpuRound", 0, "dpu_round">,
      I32EnumAttrCase<"StdRound", 1, "std_round">,
      I32EnumAttrCase<"Py3Round", 2, "py3_round">
    ]> {
  let cppNamespace = "::mlir::vai";
  let genSpecializedAttr = 0;
}
def Vai_RoundModeAttr : EnumAttr<Vai_Dialect, Vai_RoundMode, "round">;

#endif // VAI_DIALECT_VAI_VAIDIALECT_TD
