//===- QuantKernels.h - Integer semantics of quantized ops ------*- C++ -*-===//
//
// The exact integer arithmetic of the DPU (docs/quantization.md): the
// requantization after a convolution's int32 sums, element-wise addition with
// alignment shifts, average pooling with the hardware's multiplier table.
// The reference interpreter's quantized mode and the simulator both use these
// definitions, so there is one statement of the arithmetic. Plain C++ (no
// LLVM): the simulator and the VART runners link it.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_RUNTIME_QUANTKERNELS_H
#define VAI_RUNTIME_QUANTKERNELS_H

#include "vai/Runtime/Kernels.h"

#include <cstdint>

namespace vai::rt {

/// rshift(a, s) = (a + 2^(s-1)) >> s for s > 0 (arithmetic shift, which is
/// DPU_ROUND(a / 2^s)); a for s == 0; a * 2^-s for s < 0.
inline int64_t roundShift(int64_t a, int s) {
  if (s > 0)
    return (a + (int64_t(1) << (s - 1))) >> s;
  return s == 0 ? a : a * (int64_t(1) << -s);
}

/// clamp(v, lo, hi).
inline int64_t saturate(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/// How an integer accumulator becomes an output integer: shifted right by
/// `shift` with rounding, activated, saturated to [lo, hi].
struct Requant {
  int shift = 0;
  Activation act = Activation::None;
  /// Relu6's upper clamp in output integers: 6 * 2^p_out.
  int64_t relu6Max = 0;
  int64_t lo = -127, hi = 127;

  /// The hardware's leaky relu slope: 26 / 2^8 (0.1015625 for 0.1).
  static constexpr int64_t kLeakyMul = 26;
  static constexpr int kLeakyShift = 8;

  int64_t apply(int64_t acc) const {
    int64_t y;
    if (act == Activation::LeakyRelu && acc < 0)
      y = roundShift(acc * kLeakyMul, shift + kLeakyShift);
    else
      y = roundShift(acc, shift);
    if (act == Activation::Relu || act == Activation::Relu6)
      y = y < 0 ? 0 : y;
    if (act == Activation::Relu6 && y > relu6Max)
      y = relu6Max;
    return saturate(y, lo, hi);
  }
};

/// Convolution post-processing over `outer` rows of `channels` int32 sums:
/// out[i, c] = rq.apply(acc[i, c] + bias[c] * 2^shiftBias) (bias may be
/// null; shiftBias >= 0).
void convRequant(const int32_t *acc, const int8_t *bias, int shiftBias,
                 const Requant &rq, int8_t *out, int64_t outer,
                 int64_t channels);

/// Element-wise add of two tensors of n integers aligned to a common
/// position: out = rq.apply(a * 2^shiftA + b * 2^shiftB) with shiftA,
/// shiftB >= 0 (pm - pa and pm - pb).
void addRequant(const int8_t *a, int shiftA, const int8_t *b, int shiftB,
                const Requant &rq, int8_t *out, int64_t n);

/// The DPU's multiplier for average pooling over kh x kw: the window sum is
/// multiplied by mul and shifted right by shift (docs/quantization.md).
struct AvgPoolFactor {
  int64_t mul = 1;
  int shift = 0;
};
AvgPoolFactor avgPoolFactor(int64_t kh, int64_t kw);

/// Average pooling in integers: out = rq.apply(sum * mul) where the sum runs
/// over the window's in-bounds elements (padding reads 0) and rq.shift is
/// the factor's shift plus p_in - p_out. Window placement as maxPool2D.
void avgPool2DInt(const PoolGeometry &g, const int8_t *in, int64_t mul,
                  const Requant &rq, int8_t *out);

} // namespace vai::rt

#endif // VAI_RUNTIME_QUANTKERNELS_H
