//===- Kernels.h - Float32 reference kernels of the interpreter -*- C++ -*-===//
//
// Kernels of the reference interpreter. Activations are NHWC (channels last),
// all buffers dense row-major. The caller (the interpreter) has verified all
// shapes; kernels only assert. Every kernel is thread-safe: const objects may
// run concurrently from several threads. Kernels use all cores (oneDNN for
// convolutions and matrix products, OpenMP elsewhere).
//
// The exact semantics are those documented on the matching `vai` dialect op
// (include/vai/Dialect/Vai/VaiOps.td); see docs/dialect.md.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_RUNTIME_KERNELS_H
#define VAI_RUNTIME_KERNELS_H

#include "vai/Runtime/Tensor.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace vai::rt {

//===----------------------------------------------------------------------===//
// Activations that can be fused into a producer (conv, inner product, add).
//===----------------------------------------------------------------------===//

enum class Activation : uint8_t { None, Relu, Relu6, LeakyRelu };

struct ActivationSpec {
  Activation kind = Activation::None;
  float alpha = 0.0f; ///< Negative slope for LeakyRelu.
};

/// Applies `act` in place to n contiguous values.
void applyActivation(const ActivationSpec &act, float *data, int64_t n);

//===----------------------------------------------------------------------===//
// Convolutions (oneDNN). File: lib/Runtime/DnnlKernels.cpp
//===----------------------------------------------------------------------===//

/// Geometry of a 2-D convolution in NHWC with OHWI weights
/// [oc, kh, kw, ic / groups]:
///   out[n, oy, ox, o] = bias[o] + sum_{ky, kx, i in group(o)}
///       in[n, oy*strideH - padTop + ky*dilH, ox*strideW - padLeft + kx*dilW,
///       i]
///       * w[o, ky, kx, i - group(o)*ic/groups]
/// where out-of-range input positions read 0. Output channel o belongs to
/// group o / (oc / groups). Depthwise convolution is groups == ic.
/// oh/ow are given (the op's shape inference computed them); the kernel must
/// honour them even when the bottom/right padding leaves some input unused.
struct ConvGeometry {
  int64_t n = 1, ih = 1, iw = 1, ic = 1;
  int64_t oc = 1, kh = 1, kw = 1;
  int64_t strideH = 1, strideW = 1, dilH = 1, dilW = 1;
  int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  int64_t groups = 1;
  int64_t oh = 1, ow = 1;
};

/// A prepared 2-D convolution: weights are repacked once at construction.
class Conv2D {
public:
  /// `weights` is OHWI; `bias` is [oc] or null. Both are copied.
  Conv2D(const ConvGeometry &g, const float *weights, const float *bias,
         ActivationSpec act = {});
  /// Exact integer form: int8 OHWI weights; run() takes int8 inputs and
  /// writes the int32 sums of products (no bias, no activation: the
  /// quantized post-processing of QuantKernels.h follows).
  Conv2D(const ConvGeometry &g, const int8_t *weights);
  ~Conv2D();
  Conv2D(const Conv2D &) = delete;
  Conv2D &operator=(const Conv2D &) = delete;
  /// in: [n, ih, iw, ic]; out: [n, oh, ow, oc]. Each form runs only in the
  /// element type it was constructed for.
  void run(const float *in, float *out) const;
  void run(const int8_t *in, int32_t *acc) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Transposed convolution (gradient of Conv2D with respect to its input) in
/// NHWC with weights [oc, kh, kw, ic / groups]:
///   out[n, iy*strideH - padTop + ky*dilH, ix*strideW - padLeft + kx*dilW, o]
///       += in[n, iy, ix, i] * w[o, ky, kx, i - group(o)*ic/groups]
/// plus bias[o]; positions that fall outside [0, oh) x [0, ow) are dropped.
/// oh/ow are given: oh = (ih-1)*strideH - padTop - padBottom + dilH*(kh-1) + 1
/// (+ any output padding, which adds rows/columns at the bottom/right that
/// receive only contributions that land there, and the bias).
/// Here padTop/padLeft are the cropping at the start; padBottom/padRight are
/// informational (oh/ow decide).
class TransposedConv2D {
public:
  TransposedConv2D(const ConvGeometry &g, const float *weights,
                   const float *bias, ActivationSpec act = {});
  /// Exact integer form, as Conv2D's.
  TransposedConv2D(const ConvGeometry &g, const int8_t *weights);
  ~TransposedConv2D();
  TransposedConv2D(const TransposedConv2D &) = delete;
  TransposedConv2D &operator=(const TransposedConv2D &) = delete;
  void run(const float *in, float *out) const;
  void run(const int8_t *in, int32_t *acc) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Fully connected: out[b, o] = bias[o] + sum_i in[b, i] * w[o, i].
class InnerProduct {
public:
  /// `weights` is [out, in]; `bias` is [out] or null.
  InnerProduct(int64_t batch, int64_t in, int64_t out, const float *weights,
               const float *bias, ActivationSpec act = {});
  ~InnerProduct();
  InnerProduct(const InnerProduct &) = delete;
  InnerProduct &operator=(const InnerProduct &) = delete;
  void run(const float *in, float *out) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Batched matrix product c[b] = a[b or 0] x b[b or 0] with a [M, K] and
/// b [K, N] per batch; `aBatched`/`bBatched` false means that operand has one
/// matrix shared by every batch.
void matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m,
            int64_t k, int64_t n, bool aBatched, bool bBatched);

//===----------------------------------------------------------------------===//
// Everything else (OpenMP). File: lib/Runtime/Kernels.cpp
//===----------------------------------------------------------------------===//

/// 2-D pooling geometry in NHWC. oh/ow are given (ceil mode already applied
/// by shape inference). Window (oy, ox) covers input rows
/// [oy*strideH - padTop, oy*strideH - padTop + kh) (likewise columns).
struct PoolGeometry {
  int64_t n = 1, ih = 1, iw = 1, c = 1;
  int64_t kh = 1, kw = 1, strideH = 1, strideW = 1;
  int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  int64_t oh = 1, ow = 1;
};

/// Max over the in-bounds part of each window (padding never wins).
void maxPool2D(const PoolGeometry &g, const float *in, float *out);
/// Average pooling. The sum runs over in-bounds elements. The divisor is:
///  - countIncludePad: the window clipped to the padded extent, i.e.
///    (min(y0+kh, ih+padBottom) - y0) * (min(x0+kw, iw+padRight) - x0) with
///    y0 = oy*strideH - padTop (PyTorch's and Caffe's rule, so windows that
///    ceil mode pushes past the padding count only up to the padding);
///  - otherwise: the number of in-bounds elements.
void avgPool2D(const PoolGeometry &g, bool countIncludePad, const float *in,
               float *out);
/// [n, h, w, c] -> [n, 1, 1, c].
void globalAvgPool2D(const float *in, float *out, int64_t n, int64_t hw,
                     int64_t c);
void globalMaxPool2D(const float *in, float *out, int64_t n, int64_t hw,
                     int64_t c);

enum class UnaryKind : uint8_t {
  Relu,        ///< max(x, 0)
  Relu6,       ///< min(max(x, 0), 6)
  LeakyRelu,   ///< x >= 0 ? x : alpha * x
  Sigmoid,     ///< 1 / (1 + exp(-x))
  Tanh,        ///< tanh(x)
  HardSigmoid, ///< max(0, min(1, alpha * x + beta))
  Clip,        ///< min(max(x, alpha), beta)
};
/// out may alias in.
void unary(UnaryKind kind, const float *in, float *out, int64_t n,
           float alpha = 0.0f, float beta = 0.0f);

/// Rounding of fixed-point quantization (docs/quantization.md).
enum class RoundMode : uint8_t {
  Dpu, ///< floor(v + 0.5)
  Std, ///< half away from zero
  Py3, ///< half to even
};
/// Fixed-point quantize-dequantize:
/// out = clamp(round(in * 2^fixPoint), lo, hi) * 2^-fixPoint, computed
/// exactly (in double); NaN becomes 0. out may alias in.
void fixQuantize(const float *in, float *out, int64_t n, int fixPoint,
                 int64_t lo, int64_t hi, RoundMode mode);

/// out[i, c] = x[i, c] >= 0 ? x[i, c] : slope[c] * x[i, c] over `outer` rows
/// of `channels` values. out may alias in.
void prelu(const float *in, const float *slope, float *out, int64_t outer,
           int64_t channels);

/// out[i, c] = in[i, c] * scale[c] + shift[c]; scale or shift may be null
/// (meaning 1 and 0). out may alias in. Serves batch norm (folded), scale and
/// bias add.
void channelAffine(const float *in, const float *scale, const float *shift,
                   float *out, int64_t outer, int64_t channels);

enum class BinaryKind : uint8_t { Add, Sub, Mul, Div, Max, Min };
/// Element-wise with NumPy broadcasting. aShape, bShape and outShape have the
/// same rank (the caller left-pads with 1s); each input dim equals the output
/// dim or is 1. out may alias a or b when that input has the output's shape.
void binary(BinaryKind kind, const float *a, const Shape &aShape,
            const float *b, const Shape &bShape, float *out,
            const Shape &outShape, ActivationSpec act = {});

/// Softmax along the middle axis of [outer, axis, inner]; numerically stable
/// (subtracts the max).
void softmax(const float *in, float *out, int64_t outer, int64_t axis,
             int64_t inner);

/// Mean over the listed axes (sorted, unique); out has the input's shape with
/// those axes set to 1 (the caller drops them for keepdims=false).
void reduceMean(const float *in, const Shape &inShape,
                const std::vector<int64_t> &axes, float *out);

enum class ResizeMode : uint8_t { Nearest, Bilinear };
/// How an output coordinate maps to an input coordinate (ONNX names):
///  Asymmetric:       x_in = x_out / scale
///  AlignCorners:     x_in = x_out * (in - 1) / (out - 1)   (0 if out == 1)
///  HalfPixel:        x_in = (x_out + 0.5) / scale - 0.5
///  PytorchHalfPixel: like HalfPixel, but 0 when out == 1
/// with scale = out / in.
enum class CoordMode : uint8_t {
  Asymmetric,
  AlignCorners,
  HalfPixel,
  PytorchHalfPixel
};
/// How Nearest rounds x_in to an index (then clamped to [0, in-1]).
enum class NearestRound : uint8_t {
  Floor,
  Ceil,
  RoundPreferFloor,
  RoundPreferCeil
};
struct ResizeParams {
  int64_t n = 1, ih = 1, iw = 1, c = 1, oh = 1, ow = 1;
  ResizeMode mode = ResizeMode::Nearest;
  CoordMode coord = CoordMode::Asymmetric;
  NearestRound nearest = NearestRound::Floor;
};
/// NHWC resize. Bilinear clamps x_in to [0, in-1] before interpolating
/// (negative coordinates read the edge), as PyTorch, TF and ONNX do.
void resize(const ResizeParams &p, const float *in, float *out);

//===----------------------------------------------------------------------===//
// Data movement, any element type (elemSize bytes). File:
// lib/Runtime/Kernels.cpp
//===----------------------------------------------------------------------===//

/// Concatenates along `axis`; all inputs have the output's rank and agree on
/// every other dim.
void concat(const std::vector<const void *> &ins,
            const std::vector<Shape> &inShapes, int64_t axis, size_t elemSize,
            void *out);

/// out = in.transpose(perm): out.shape[i] = in.shape[perm[i]].
void transpose(const void *in, const Shape &inShape,
               const std::vector<int64_t> &perm, size_t elemSize, void *out);

/// out[i] = in[offsets + i * strides] per dim, for the output shape
/// `outShape`; strides are positive.
void slice(const void *in, const Shape &inShape,
           const std::vector<int64_t> &offsets,
           const std::vector<int64_t> &strides, size_t elemSize, void *out,
           const Shape &outShape);

enum class PadMode : uint8_t { Constant, Reflect, Edge };
/// Pads every dim i by low[i] before and high[i] after (both >= 0).
/// Constant writes `value` (elemSize bytes); Reflect mirrors without
/// repeating the edge (numpy 'reflect', needs pad < dim); Edge repeats it.
void pad(const void *in, const Shape &inShape, const std::vector<int64_t> &low,
         const std::vector<int64_t> &high, PadMode mode, const void *value,
         size_t elemSize, void *out);

} // namespace vai::rt

#endif // VAI_RUNTIME_KERNELS_H
