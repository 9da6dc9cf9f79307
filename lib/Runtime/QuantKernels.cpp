//===- QuantKernels.cpp - Integer semantics of quantized ops --------------===//

#include "vai/Runtime/QuantKernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace vai::rt {

void convRequant(const int32_t *acc, const int8_t *bias, int shiftBias,
                 const Requant &rq, int8_t *out, int64_t outer,
                 int64_t channels) {
  const int64_t biasMul = int64_t(1) << shiftBias;
  if (rq.act == Activation::LeakyRelu || rq.shift < 0) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < outer; ++i) {
      const int32_t *a = acc + i * channels;
      int8_t *o = out + i * channels;
      for (int64_t c = 0; c < channels; ++c)
        o[c] = static_cast<int8_t>(
            rq.apply(int64_t(a[c]) + (bias ? bias[c] * biasMul : 0)));
    }
    return;
  }
  // The common case, vectorised: floor((acc + bias * 2^sb + 2^(s-1)) / 2^s)
  // in double is exact (every value is an integer below 2^53 and the
  // division by a power of two only moves the exponent), then the
  // activation and saturation are one clamp since lo <= 0 <= hi.
  const int s = rq.shift;
  const double scale = std::ldexp(1.0, -s);
  const double round = s > 0 ? std::ldexp(1.0, s - 1) : 0.0;
  std::vector<double> offset(channels);
  for (int64_t c = 0; c < channels; ++c)
    offset[c] = (bias ? double(bias[c] * biasMul) : 0.0) + round;
  double lo = static_cast<double>(rq.lo), hi = static_cast<double>(rq.hi);
  if (rq.act == Activation::Relu || rq.act == Activation::Relu6)
    lo = std::max(lo, 0.0);
  if (rq.act == Activation::Relu6)
    hi = std::min(hi, static_cast<double>(rq.relu6Max));
  const double *off = offset.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < outer; ++i) {
    const int32_t *a = acc + i * channels;
    int8_t *o = out + i * channels;
#pragma omp simd
    for (int64_t c = 0; c < channels; ++c) {
      double y = std::floor((double(a[c]) + off[c]) * scale);
      y = y < lo ? lo : (y > hi ? hi : y);
      o[c] = static_cast<int8_t>(static_cast<int32_t>(y));
    }
  }
}

void addRequant(const int8_t *a, int shiftA, const int8_t *b, int shiftB,
                const Requant &rq, int8_t *out, int64_t n) {
  const int64_t mulA = int64_t(1) << shiftA, mulB = int64_t(1) << shiftB;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<int8_t>(rq.apply(a[i] * mulA + b[i] * mulB));
}

AvgPoolFactor avgPoolFactor(int64_t kh, int64_t kw) {
  // The hardware's table (Vitis AI, docs/quantization.md).
  if (kh == 3 && kw == 3)
    return {7, 6};
  if (kh == 5 && kw == 5)
    return {10, 8};
  if ((kh == 6 && kw == 6) || (kh == 3 && kw == 6) || (kh == 6 && kw == 3))
    return {7, 8};
  if (kh == 7 && kw == 7)
    return {21, 10};
  if (kh == 14 && kw == 14)
    return {21, 12};
  // Otherwise the closest round(2^s / n) / 2^s to 1 / n, smallest s on ties;
  // powers of two come out exact.
  const int64_t n = kh * kw;
  const int maxShift =
      static_cast<int>(std::ceil(std::log2(static_cast<double>(n) * 128))) - 1;
  AvgPoolFactor best;
  double bestErr = INFINITY;
  for (int s = 0; s <= maxShift; ++s) {
    int64_t m = std::llround(std::ldexp(1.0, s) / static_cast<double>(n));
    double err = std::fabs(static_cast<double>(m) / std::ldexp(1.0, s) -
                           1.0 / static_cast<double>(n));
    if (err < bestErr) {
      bestErr = err;
      best = {m, s};
    }
  }
  return best;
}

void avgPool2DInt(const PoolGeometry &g, const int8_t *in, int64_t mul,
                  const Requant &rq, int8_t *out) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      std::vector<int64_t> sum(g.c);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        std::fill(sum.begin(), sum.end(), 0);
        int64_t y0 = oy * g.strideH - g.padTop, x0 = ox * g.strideW - g.padLeft;
        for (int64_t y = std::max<int64_t>(y0, 0);
             y < std::min(y0 + g.kh, g.ih); ++y)
          for (int64_t x = std::max<int64_t>(x0, 0);
               x < std::min(x0 + g.kw, g.iw); ++x) {
            const int8_t *src = in + ((b * g.ih + y) * g.iw + x) * g.c;
            for (int64_t c = 0; c < g.c; ++c)
              sum[c] += src[c];
          }
        int8_t *o = out + ((b * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t c = 0; c < g.c; ++c)
          o[c] = static_cast<int8_t>(rq.apply(sum[c] * mul));
      }
    }
}

} // namespace vai::rt
