//===- KernelsTest.cpp - Tests of the OpenMP reference kernels ------------===//
//
// Each kernel of lib/Runtime/Kernels.cpp against a naive implementation written
// here straight from the formulas in Kernels.h, on odd shapes with random data
// (fixed seeds). Some shapes are large enough (> 32K elements) to take the
// parallel paths. Float results must agree to 1e-5 relative (relative to
// max(|expected|, 1) for data of magnitude ~1, where cancellation makes pure
// relative error meaningless); data movement must be bit exact.
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/Kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

using namespace vai::rt;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

std::vector<float> randomFloats(int64_t n, unsigned seed, float lo = -2.0f,
                                float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

template <typename T> std::vector<T> randomValues(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<T> v(n);
  for (T &x : v) {
    if constexpr (std::is_floating_point_v<T>)
      x = std::uniform_real_distribution<T>(-100, 100)(rng);
    else
      x = static_cast<T>(rng());
  }
  return v;
}

std::vector<int64_t> unravel(int64_t i, const Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return idx;
}

int64_t ravel(const std::vector<int64_t> &idx, const Shape &shape) {
  int64_t i = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    i = i * shape[d] + idx[d];
  return i;
}

/// |got - want| <= rtol * max(|want|, 1) element-wise; reports the first
/// mismatches only.
void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 double rtol = 1e-5, const std::string &what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    double tol = rtol * std::max(std::abs(want[i]), 1.0);
    bool ok = std::abs(got[i] - want[i]) <= tol ||
              (std::isnan(want[i]) && std::isnan(got[i])) ||
              (std::isinf(want[i]) && got[i] == want[i]);
    if (!ok) {
      ADD_FAILURE() << what << " element " << i << ": got " << got[i]
                    << ", want " << want[i];
      ++failures;
    }
  }
}

template <typename T>
void expectSame(const std::vector<T> &got, const std::vector<T> &want,
                const std::string &what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      ADD_FAILURE() << what << " first mismatch at element " << i;
      return;
    }
}

std::string shapeStr(const Shape &s) { return shapeToString(s); }

//===----------------------------------------------------------------------===//
// Activations and unary ops
//===----------------------------------------------------------------------===//

double refActivation(const ActivationSpec &act, double x) {
  switch (act.kind) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return std::max(x, 0.0);
  case Activation::Relu6:
    return std::min(std::max(x, 0.0), 6.0);
  case Activation::LeakyRelu:
    return x >= 0 ? x : act.alpha * x;
  }
  return x;
}

const ActivationSpec kActivations[] = {{Activation::None, 0.0f},
                                       {Activation::Relu, 0.0f},
                                       {Activation::Relu6, 0.0f},
                                       {Activation::LeakyRelu, 0.1f}};

TEST(KernelsTest, ApplyActivation) {
  for (int64_t n : {1, 13, 1003, 70001}) {
    std::vector<float> in = randomFloats(n, 1, -8.0f, 8.0f);
    for (const ActivationSpec &act : kActivations) {
      std::vector<float> got = in;
      applyActivation(act, got.data(), n);
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i)
        want[i] = refActivation(act, in[i]);
      expectClose(got, want, 1e-6, "kind " + std::to_string(int(act.kind)));
    }
  }
}

double refUnary(UnaryKind kind, double x, double alpha, double beta) {
  switch (kind) {
  case UnaryKind::Relu:
    return std::max(x, 0.0);
  case UnaryKind::Relu6:
    return std::min(std::max(x, 0.0), 6.0);
  case UnaryKind::LeakyRelu:
    return x >= 0 ? x : alpha * x;
  case UnaryKind::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case UnaryKind::Tanh:
    return std::tanh(x);
  case UnaryKind::HardSigmoid:
    return std::max(0.0, std::min(1.0, alpha * x + beta));
  case UnaryKind::Clip:
    return std::min(std::max(x, alpha), beta);
  }
  return x;
}

struct UnaryCase {
  UnaryKind kind;
  float alpha, beta;
};

TEST(KernelsTest, Unary) {
  const UnaryCase cases[] = {
      {UnaryKind::Relu, 0, 0},
      {UnaryKind::Relu6, 0, 0},
      {UnaryKind::LeakyRelu, 0.01f, 0},
      {UnaryKind::Sigmoid, 0, 0},
      {UnaryKind::Tanh, 0, 0},
      // ONNX HardSigmoid defaults (PyTorch's hardsigmoid is alpha = 1/6).
      {UnaryKind::HardSigmoid, 0.2f, 0.5f},
      {UnaryKind::Clip, -0.5f, 1.5f},
  };
  for (int64_t n : {1, 7, 1003, 70001}) {
    std::vector<float> in = randomFloats(n, 2, -9.0f, 9.0f);
    for (const UnaryCase &c : cases) {
      std::vector<float> got(n);
      unary(c.kind, in.data(), got.data(), n, c.alpha, c.beta);
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i)
        want[i] = refUnary(c.kind, in[i], c.alpha, c.beta);
      std::string what =
          "kind " + std::to_string(int(c.kind)) + " n " + std::to_string(n);
      expectClose(got, want, 1e-6, what);
      // In place.
      std::vector<float> inPlace = in;
      unary(c.kind, inPlace.data(), inPlace.data(), n, c.alpha, c.beta);
      expectSame(inPlace, got, what + " in place");
    }
  }
}

/// Sigmoid and tanh are accurate to 1e-6 relative over the whole range
/// (normal results), including the tails and tiny inputs.
TEST(KernelsTest, SigmoidTanhAccuracy) {
  std::vector<float> x;
  for (double v = -110.0; v <= 110.0; v += 0.000731)
    x.push_back(static_cast<float>(v));
  for (double v = 1e-30; v < 10.0; v *= 1.01) {
    x.push_back(static_cast<float>(v));
    x.push_back(static_cast<float>(-v));
  }
  for (UnaryKind kind : {UnaryKind::Sigmoid, UnaryKind::Tanh}) {
    std::vector<float> got(x.size());
    unary(kind, x.data(), got.data(), x.size());
    double worst = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      double want = refUnary(kind, x[i], 0, 0);
      if (std::abs(want) < std::numeric_limits<float>::min())
        continue; // Subnormal results carry no relative accuracy.
      worst = std::max(worst, std::abs(got[i] - want) / std::abs(want));
    }
    EXPECT_LE(worst, 1e-6) << "kind " << int(kind);
  }
  const float inf = std::numeric_limits<float>::infinity();
  float special[] = {inf, -inf, std::nanf(""), 0.0f};
  float out[4];
  unary(UnaryKind::Sigmoid, special, out, 4);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_EQ(out[3], 0.5f);
  unary(UnaryKind::Tanh, special, out, 4);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_EQ(out[3], 0.0f);
}

TEST(KernelsTest, PRelu) {
  for (auto [outer, channels] :
       {std::pair<int64_t, int64_t>{37, 13}, {1, 29}, {301, 1}, {4096, 24}}) {
    int64_t n = outer * channels;
    std::vector<float> in = randomFloats(n, 3);
    std::vector<float> slope = randomFloats(channels, 4, -1.0f, 1.0f);
    std::vector<float> got(n);
    prelu(in.data(), slope.data(), got.data(), outer, channels);
    std::vector<double> want(n);
    for (int64_t i = 0; i < n; ++i) {
      double x = in[i];
      want[i] = x >= 0 ? x : slope[i % channels] * x;
    }
    expectClose(got, want, 1e-6, "prelu " + std::to_string(channels));
    prelu(in.data(), slope.data(), in.data(), outer, channels);
    expectSame(in, got, "prelu in place");
  }
}

TEST(KernelsTest, ChannelAffine) {
  for (auto [outer, channels] :
       {std::pair<int64_t, int64_t>{37, 17}, {5, 1}, {2048, 32}}) {
    int64_t n = outer * channels;
    std::vector<float> in = randomFloats(n, 5);
    std::vector<float> scale = randomFloats(channels, 6);
    std::vector<float> shift = randomFloats(channels, 7);
    for (int mask = 0; mask < 4; ++mask) {
      const float *s = mask & 1 ? scale.data() : nullptr;
      const float *b = mask & 2 ? shift.data() : nullptr;
      std::vector<float> got(n);
      channelAffine(in.data(), s, b, got.data(), outer, channels);
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i) {
        int64_t c = i % channels;
        want[i] = double(in[i]) * (s ? s[c] : 1.0) + (b ? b[c] : 0.0);
      }
      std::string what = "affine mask " + std::to_string(mask);
      expectClose(got, want, 1e-6, what);
      std::vector<float> inPlace = in;
      channelAffine(inPlace.data(), s, b, inPlace.data(), outer, channels);
      expectSame(inPlace, got, what + " in place");
    }
  }
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

double refBinary(BinaryKind kind, double a, double b) {
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div:
    return a / b;
  case BinaryKind::Max:
    return std::max(a, b);
  case BinaryKind::Min:
    return std::min(a, b);
  }
  return 0;
}

/// NumPy broadcasting from the definition: output index i reads the input
/// index with 0 along the dims where the input has size 1. Returns that input
/// index for every output element.
std::vector<int64_t> broadcastIndex(const Shape &inShape,
                                    const Shape &outShape) {
  std::vector<int64_t> map(numElements(outShape));
  for (size_t i = 0; i < map.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, outShape);
    for (size_t d = 0; d < idx.size(); ++d)
      if (inShape[d] == 1)
        idx[d] = 0;
    map[i] = ravel(idx, inShape);
  }
  return map;
}

TEST(KernelsTest, BinaryBroadcast) {
  struct Case {
    Shape a, b, out;
  };
  const Case cases[] = {
      {{2, 1, 5, 3}, {1, 4, 1, 3}, {2, 4, 5, 3}},    // broadcast in 3 dims
      {{3, 5, 7, 11}, {3, 5, 7, 11}, {3, 5, 7, 11}}, // identical
      {{2, 64, 32, 17}, {2, 64, 32, 17}, {2, 64, 32, 17}}, // identical, big
      {{2, 3, 4, 5}, {1, 1, 1, 1}, {2, 3, 4, 5}},          // scalar b
      {{1, 1, 1, 1}, {2, 3, 4, 5}, {2, 3, 4, 5}},          // scalar a
      {{1}, {1}, {1}},                                     // scalars
      {{2, 6, 7, 19}, {1, 1, 1, 19}, {2, 6, 7, 19}},       // per channel
      {{1, 1, 1, 19}, {2, 6, 7, 19}, {2, 6, 7, 19}},       // per channel a
      {{2, 40, 41, 24}, {1, 1, 1, 24}, {2, 40, 41, 24}},   // per channel, big
      {{2, 9, 10, 16}, {2, 1, 1, 16}, {2, 9, 10, 16}},     // SE block scale
      // Few channels (image normalisation): rows are widened, with a
      // remainder.
      {{2, 13, 11, 3}, {1, 1, 1, 3}, {2, 13, 11, 3}},
      {{1, 1, 1, 5}, {3, 10, 10, 5}, {3, 10, 10, 5}},
      {{4, 1}, {1, 6}, {4, 6}},                  // outer product
      {{3, 1, 70000}, {3, 2, 1}, {3, 2, 70000}}, // long rows
      {{2, 3, 1, 2, 1, 3}, {1, 3, 4, 1, 5, 3}, {2, 3, 4, 2, 5, 3}}, // rank 6
  };
  const BinaryKind kinds[] = {BinaryKind::Add, BinaryKind::Sub,
                              BinaryKind::Mul, BinaryKind::Div,
                              BinaryKind::Max, BinaryKind::Min};
  unsigned seed = 10;
  for (const Case &c : cases) {
    std::vector<float> a = randomFloats(numElements(c.a), ++seed);
    std::vector<float> b = randomFloats(numElements(c.b), ++seed);
    std::vector<int64_t> aIdx = broadcastIndex(c.a, c.out);
    std::vector<int64_t> bIdx = broadcastIndex(c.b, c.out);
    // Keep divisors away from 0.
    for (float &x : b)
      x = x < 0 ? x - 0.25f : x + 0.25f;
    for (BinaryKind kind : kinds) {
      for (const ActivationSpec &act : kActivations) {
        std::vector<float> got(numElements(c.out));
        binary(kind, a.data(), c.a, b.data(), c.b, got.data(), c.out, act);
        std::string what = shapeStr(c.a) + " op" + std::to_string(int(kind)) +
                           " " + shapeStr(c.b) + " act" +
                           std::to_string(int(act.kind));
        std::vector<double> want(got.size());
        for (size_t i = 0; i < want.size(); ++i)
          want[i] = refActivation(act, refBinary(kind, a[aIdx[i]], b[bIdx[i]]));
        expectClose(got, want, 1e-6, what);
      }
    }
  }
}

TEST(KernelsTest, BinaryInPlace) {
  Shape s = {2, 15, 17, 3}, ch = {1, 1, 1, 3};
  std::vector<float> a = randomFloats(numElements(s), 30);
  std::vector<float> b = randomFloats(numElements(s), 31);
  std::vector<float> c = randomFloats(3, 32);
  std::vector<float> want(a.size());
  binary(BinaryKind::Add, a.data(), s, b.data(), s, want.data(), s);
  std::vector<float> got = a;
  binary(BinaryKind::Add, got.data(), s, b.data(), s, got.data(), s);
  expectSame(got, want, "out aliases a");
  got = b;
  binary(BinaryKind::Add, a.data(), s, got.data(), s, got.data(), s);
  expectSame(got, want, "out aliases b");
  binary(BinaryKind::Mul, a.data(), s, c.data(), ch, want.data(), s,
         {Activation::Relu, 0});
  got = a;
  binary(BinaryKind::Mul, got.data(), s, c.data(), ch, got.data(), s,
         {Activation::Relu, 0});
  expectSame(got, want, "per channel in place");
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Output size by the op's rule: floor or ceil, and in ceil mode one less when
/// the last window would start at or past in + padBegin (PyTorch, Caffe).
int64_t poolOut(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1,
                bool ceilMode) {
  int64_t span = in + p0 + p1 - k;
  int64_t o = (ceilMode ? (span + s - 1) / s : span / s) + 1;
  if (ceilMode && (o - 1) * s >= in + p0)
    --o;
  return o;
}

/// Straight from Kernels.h: window rows [oy*sh - top, oy*sh - top + kh).
std::vector<double> refPool(const PoolGeometry &g, const std::vector<float> &in,
                            bool isMax, bool countIncludePad) {
  std::vector<double> out(g.n * g.oh * g.ow * g.c);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox)
        for (int64_t c = 0; c < g.c; ++c) {
          int64_t y0 = oy * g.strideH - g.padTop;
          int64_t x0 = ox * g.strideW - g.padLeft;
          double acc = isMax ? -INFINITY : 0.0;
          int64_t count = 0;
          for (int64_t ky = 0; ky < g.kh; ++ky)
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              int64_t y = y0 + ky, x = x0 + kx;
              if (y < 0 || y >= g.ih || x < 0 || x >= g.iw)
                continue;
              double v = in[((n * g.ih + y) * g.iw + x) * g.c + c];
              acc = isMax ? std::max(acc, v) : acc + v;
              ++count;
            }
          if (!isMax) {
            int64_t divisor =
                countIncludePad
                    ? (std::min(y0 + g.kh, g.ih + g.padBottom) - y0) *
                          (std::min(x0 + g.kw, g.iw + g.padRight) - x0)
                    : count;
            acc /= divisor;
          }
          out[((n * g.oh + oy) * g.ow + ox) * g.c + c] = acc;
        }
  return out;
}

PoolGeometry makePool(int64_t n, int64_t ih, int64_t iw, int64_t c, int64_t k,
                      int64_t s, std::array<int64_t, 4> pad, bool ceilMode) {
  PoolGeometry g;
  g.n = n;
  g.ih = ih;
  g.iw = iw;
  g.c = c;
  g.kh = g.kw = k;
  g.strideH = g.strideW = s;
  g.padTop = pad[0];
  g.padBottom = pad[1];
  g.padLeft = pad[2];
  g.padRight = pad[3];
  g.oh = poolOut(ih, k, s, pad[0], pad[1], ceilMode);
  g.ow = poolOut(iw, k, s, pad[2], pad[3], ceilMode);
  return g;
}

TEST(KernelsTest, Pooling) {
  const PoolGeometry geoms[] = {
      // 7x9, k3 s2, asymmetric pads, ceil mode: the first window starts in
      // the top padding, the last row/column windows run past the bottom /
      // right padding (PyTorch ceil_mode=True with Caffe-style extra window).
      makePool(2, 7, 9, 5, 3, 2, {1, 0, 0, 1}, true),
      makePool(2, 7, 9, 5, 3, 2, {1, 0, 0, 1}, false),
      makePool(1, 7, 9, 3, 3, 2, {2, 1, 1, 2}, true),
      // Stride larger than the kernel (inputs skipped).
      makePool(1, 8, 7, 4, 2, 3, {1, 1, 0, 1}, true),
      // ResNet stem pool on a larger tensor (parallel path).
      makePool(2, 33, 35, 16, 3, 2, {1, 1, 1, 1}, false),
      makePool(1, 13, 13, 1, 3, 2, {0, 0, 0, 0}, true),
  };
  unsigned seed = 40;
  for (const PoolGeometry &g : geoms) {
    std::vector<float> in = randomFloats(g.n * g.ih * g.iw * g.c, ++seed);
    std::string what = std::to_string(g.ih) + "x" + std::to_string(g.iw) +
                       "->" + std::to_string(g.oh) + "x" + std::to_string(g.ow);
    std::vector<float> got(g.n * g.oh * g.ow * g.c);
    maxPool2D(g, in.data(), got.data());
    expectClose(got, refPool(g, in, true, false), 0.0, "max " + what);
    for (bool cip : {true, false}) {
      avgPool2D(g, cip, in.data(), got.data());
      expectClose(got, refPool(g, in, false, cip), 1e-5,
                  std::string("avg cip=") + (cip ? "1 " : "0 ") + what);
    }
  }
}

TEST(KernelsTest, AvgPoolDivisorByHand) {
  // 1x3x3x1 ones, kernel 2, stride 2, no padding, ceil mode: 2x2 output whose
  // last row/column windows hang past the input. PyTorch (count_include_pad
  // =True) divides those by the window clipped to the padded extent (here the
  // input itself, padBottom = padRight = 0), so every output is 1.
  PoolGeometry g = makePool(1, 3, 3, 1, 2, 2, {0, 0, 0, 0}, true);
  ASSERT_EQ(g.oh, 2);
  ASSERT_EQ(g.ow, 2);
  std::vector<float> ones(9, 1.0f), out(4);
  for (bool cip : {true, false}) {
    avgPool2D(g, cip, ones.data(), out.data());
    for (float v : out)
      EXPECT_EQ(v, 1.0f) << "cip " << cip;
  }
  // torch.nn.functional.avg_pool2d(torch.ones(1, 1, 2, 2), 2, stride=1,
  // padding=1): the padding counts, [[.25, .5, .25], [.5, 1, .5], [.25, .5,
  // .25]]; with count_include_pad=False all ones.
  g = makePool(1, 2, 2, 1, 2, 1, {1, 1, 1, 1}, false);
  ASSERT_EQ(g.oh, 3);
  std::vector<float> in(4, 1.0f), got(9);
  avgPool2D(g, true, in.data(), got.data());
  const float want[] = {.25f, .5f, .25f, .5f, 1.f, .5f, .25f, .5f, .25f};
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(got[i], want[i]) << i;
  avgPool2D(g, false, in.data(), got.data());
  for (float v : got)
    EXPECT_EQ(v, 1.0f);
  // Max pooling ignores the padding even when all values are negative.
  std::vector<float> neg(4, -3.0f);
  maxPool2D(g, neg.data(), got.data());
  for (float v : got)
    EXPECT_EQ(v, -3.0f);
}

TEST(KernelsTest, GlobalPooling) {
  for (auto [n, hw, c] : {std::array<int64_t, 3>{2, 63, 37},
                          {1, 56 * 56, 256},
                          {3, 1, 5},
                          {1, 49, 2048},
                          {1, 50, 1001}, // channel chunks with a remainder
                          {8, 49, 700}}) {
    std::vector<float> in = randomFloats(n * hw * c, 50);
    std::vector<double> wantAvg(n * c, 0.0), wantMax(n * c, -INFINITY);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t k = 0; k < c; ++k) {
          double v = in[(b * hw + p) * c + k];
          wantAvg[b * c + k] += v / hw;
          wantMax[b * c + k] = std::max(wantMax[b * c + k], v);
        }
    std::vector<float> got(n * c);
    globalAvgPool2D(in.data(), got.data(), n, hw, c);
    expectClose(got, wantAvg, 1e-5, "global avg " + std::to_string(hw));
    globalMaxPool2D(in.data(), got.data(), n, hw, c);
    expectClose(got, wantMax, 0.0, "global max " + std::to_string(hw));
  }
}

//===----------------------------------------------------------------------===//
// Softmax and reduceMean
//===----------------------------------------------------------------------===//

std::vector<double> refSoftmax(const std::vector<float> &in, int64_t outer,
                               int64_t axis, int64_t inner) {
  std::vector<double> out(in.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t a) { return (o * axis + a) * inner + i; };
      double m = -INFINITY, sum = 0;
      for (int64_t a = 0; a < axis; ++a)
        m = std::max(m, double(in[at(a)]));
      for (int64_t a = 0; a < axis; ++a)
        sum += std::exp(in[at(a)] - m);
      for (int64_t a = 0; a < axis; ++a)
        out[at(a)] = std::exp(in[at(a)] - m) / sum;
    }
  return out;
}

TEST(KernelsTest, Softmax) {
  // [3, 5, 7] over its first, middle and last axis, then larger tensors.
  struct Case {
    int64_t outer, axis, inner;
  };
  const Case cases[] = {{1, 3, 35},    {3, 5, 7}, {15, 7, 1},  {64, 1000, 1},
                        {2, 10, 3000}, {4, 1, 9}, {1, 37, 300}};
  unsigned seed = 60;
  for (const Case &c : cases) {
    int64_t n = c.outer * c.axis * c.inner;
    // Large logits: only the max subtraction keeps exp finite.
    std::vector<float> in = randomFloats(n, ++seed, 80.0f, 120.0f);
    std::vector<float> got(n);
    softmax(in.data(), got.data(), c.outer, c.axis, c.inner);
    std::string what = std::to_string(c.outer) + "x" + std::to_string(c.axis) +
                       "x" + std::to_string(c.inner);
    std::vector<double> want = refSoftmax(in, c.outer, c.axis, c.inner);
    expectClose(got, want, 1e-5, what);
    // Relative accuracy on small probabilities too.
    double worst = 0.0;
    for (int64_t i = 0; i < n; ++i)
      if (want[i] > 1e-30)
        worst = std::max(worst, std::abs(got[i] - want[i]) / want[i]);
    EXPECT_LE(worst, 1e-5) << what;
    softmax(in.data(), in.data(), c.outer, c.axis, c.inner);
    expectSame(in, got, what + " in place");
  }
}

std::vector<double> refReduceMean(const std::vector<float> &in,
                                  const Shape &shape,
                                  const std::vector<int64_t> &axes) {
  Shape outShape = shape;
  int64_t count = 1;
  for (int64_t a : axes) {
    outShape[a] = 1;
    count *= shape[a];
  }
  std::vector<double> out(numElements(outShape), 0.0);
  for (size_t i = 0; i < in.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, shape);
    for (int64_t a : axes)
      idx[a] = 0;
    out[ravel(idx, outShape)] += in[i];
  }
  for (double &v : out)
    v /= count;
  return out;
}

TEST(KernelsTest, ReduceMean) {
  struct Case {
    Shape shape;
    std::vector<int64_t> axes;
  };
  const Case cases[] = {
      {{2, 7, 9, 5}, {1, 2}},       // NHWC spatial mean
      {{2, 7, 9, 5}, {3}},          // channels
      {{2, 7, 9, 5}, {0, 2}},       // interleaved
      {{2, 7, 9, 5}, {0, 1, 2, 3}}, // everything
      {{2, 7, 9, 5}, {}},           // nothing
      {{2, 1, 9, 5}, {1}},          // a unit dim
      {{1, 28, 28, 512}, {1, 2}},   // parallel over channel chunks
      {{64, 3, 40, 5}, {1, 3}},     // parallel over outputs, reduced inner
  };
  unsigned seed = 70;
  for (const Case &c : cases) {
    std::vector<float> in = randomFloats(numElements(c.shape), ++seed);
    Shape outShape = c.shape;
    for (int64_t a : c.axes)
      outShape[a] = 1;
    std::vector<float> got(numElements(outShape));
    reduceMean(in.data(), c.shape, c.axes, got.data());
    expectClose(got, refReduceMean(in, c.shape, c.axes), 1e-5,
                shapeStr(c.shape));
  }
}

/// Means over ~50K elements hold 1e-6 relative accuracy (the kernel
/// accumulates in double); positive data so that relative error is meaningful.
TEST(KernelsTest, ReduceMeanAccuracy) {
  struct Case {
    Shape shape;
    std::vector<int64_t> axes;
  };
  const Case cases[] = {{{1, 50000}, {1}},
                        {{1, 200, 250, 3}, {1, 2}},
                        {{3, 50021}, {1}},
                        {{1, 224, 224, 1}, {0, 1, 2, 3}}};
  for (const Case &c : cases) {
    std::vector<float> in =
        randomFloats(numElements(c.shape), 80, 1000.0f, 1001.0f);
    Shape outShape = c.shape;
    for (int64_t a : c.axes)
      outShape[a] = 1;
    std::vector<float> got(numElements(outShape));
    reduceMean(in.data(), c.shape, c.axes, got.data());
    std::vector<double> want = refReduceMean(in, c.shape, c.axes);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-6 * want[i]) << shapeStr(c.shape);
  }
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

/// Input coordinate per the table in Kernels.h, evaluated in double. The
/// header defines it exactly (scale = out / in); where the exact value is an
/// integer or a half-integer the rounding mode decides, so values within 1e-9
/// of a multiple of 1/2 are snapped to it.
double refCoord(CoordMode mode, int64_t x, int64_t in, int64_t out) {
  double scale = double(out) / double(in), v = 0.0;
  switch (mode) {
  case CoordMode::Asymmetric:
    v = x / scale;
    break;
  case CoordMode::AlignCorners:
    v = out == 1 ? 0.0 : x * double(in - 1) / double(out - 1);
    break;
  case CoordMode::HalfPixel:
    v = (x + 0.5) / scale - 0.5;
    break;
  case CoordMode::PytorchHalfPixel:
    v = out == 1 ? 0.0 : (x + 0.5) / scale - 0.5;
    break;
  }
  double half = std::round(v * 2.0) / 2.0;
  return std::abs(v - half) < 1e-9 ? half : v;
}

int64_t refNearest(NearestRound mode, double v, int64_t in) {
  double r = 0;
  switch (mode) {
  case NearestRound::Floor:
    r = std::floor(v);
    break;
  case NearestRound::Ceil:
    r = std::ceil(v);
    break;
  case NearestRound::RoundPreferFloor:
    r = std::ceil(v - 0.5);
    break;
  case NearestRound::RoundPreferCeil:
    r = std::floor(v + 0.5);
    break;
  }
  return std::clamp<int64_t>(static_cast<int64_t>(r), 0, in - 1);
}

std::vector<double> refResize(const ResizeParams &p,
                              const std::vector<float> &in) {
  std::vector<double> out(p.n * p.oh * p.ow * p.c);
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t oy = 0; oy < p.oh; ++oy)
      for (int64_t ox = 0; ox < p.ow; ++ox)
        for (int64_t c = 0; c < p.c; ++c) {
          auto at = [&](int64_t y, int64_t x) {
            return double(in[((n * p.ih + y) * p.iw + x) * p.c + c]);
          };
          double vy = refCoord(p.coord, oy, p.ih, p.oh);
          double vx = refCoord(p.coord, ox, p.iw, p.ow);
          double v;
          if (p.mode == ResizeMode::Nearest) {
            v = at(refNearest(p.nearest, vy, p.ih),
                   refNearest(p.nearest, vx, p.iw));
          } else {
            double cy = std::clamp(vy, 0.0, double(p.ih - 1));
            double cx = std::clamp(vx, 0.0, double(p.iw - 1));
            int64_t y0 = int64_t(std::floor(cy)), x0 = int64_t(std::floor(cx));
            int64_t y1 = std::min(y0 + 1, p.ih - 1);
            int64_t x1 = std::min(x0 + 1, p.iw - 1);
            double wy = cy - y0, wx = cx - x0;
            v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
                wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
          }
          out[((n * p.oh + oy) * p.ow + ox) * p.c + c] = v;
        }
  return out;
}

TEST(KernelsTest, Resize) {
  // (ih, iw) -> (oh, ow): x2 upscale, non-integer scales (5->7, 7->3), out
  // == 1, in == 1, and a larger one for the parallel path.
  const std::array<int64_t, 4> sizes[] = {
      {4, 5, 8, 10}, {5, 7, 7, 3}, {7, 5, 3, 7},    {3, 4, 1, 1},
      {1, 3, 5, 6},  {6, 6, 6, 6}, {40, 30, 80, 60}};
  const CoordMode coords[] = {CoordMode::Asymmetric, CoordMode::AlignCorners,
                              CoordMode::HalfPixel,
                              CoordMode::PytorchHalfPixel};
  const NearestRound rounds[] = {NearestRound::Floor, NearestRound::Ceil,
                                 NearestRound::RoundPreferFloor,
                                 NearestRound::RoundPreferCeil};
  unsigned seed = 90;
  for (auto [ih, iw, oh, ow] : sizes) {
    ResizeParams p;
    p.n = 2;
    p.c = 3;
    p.ih = ih;
    p.iw = iw;
    p.oh = oh;
    p.ow = ow;
    std::vector<float> in = randomFloats(p.n * ih * iw * p.c, ++seed);
    std::vector<float> got(p.n * oh * ow * p.c);
    for (CoordMode coord : coords) {
      p.coord = coord;
      std::string what = std::to_string(ih) + "x" + std::to_string(iw) + "->" +
                         std::to_string(oh) + "x" + std::to_string(ow) +
                         " coord " + std::to_string(int(coord));
      p.mode = ResizeMode::Bilinear;
      resize(p, in.data(), got.data());
      expectClose(got, refResize(p, in), 1e-5, what + " bilinear");
      p.mode = ResizeMode::Nearest;
      for (NearestRound r : rounds) {
        p.nearest = r;
        resize(p, in.data(), got.data());
        expectClose(got, refResize(p, in), 0.0,
                    what + " nearest " + std::to_string(int(r)));
      }
    }
  }
}

/// 1-D resize along W of a [1, 1, in, 1] tensor.
std::vector<float> resize1D(const std::vector<float> &in, int64_t out,
                            ResizeMode mode, CoordMode coord,
                            NearestRound nearest = NearestRound::Floor) {
  ResizeParams p;
  p.iw = in.size();
  p.ow = out;
  p.mode = mode;
  p.coord = coord;
  p.nearest = nearest;
  std::vector<float> o(out);
  resize(p, in.data(), o.data());
  return o;
}

TEST(KernelsTest, ResizeByHand) {
  using V = std::vector<float>;
  // F.interpolate(x, size=4, mode='linear', align_corners=False) of [0, 1]:
  // coordinates -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  EXPECT_EQ(
      resize1D({0, 1}, 4, ResizeMode::Bilinear, CoordMode::PytorchHalfPixel),
      (V{0, .25f, .75f, 1}));
  // align_corners=True.
  V ac = resize1D({0, 3}, 4, ResizeMode::Bilinear, CoordMode::AlignCorners);
  EXPECT_EQ(ac, (V{0, 1, 2, 3}));
  // PyTorch 'nearest' (asymmetric, floor), 3 -> 7: floor(x * 3 / 7).
  EXPECT_EQ(resize1D({0, 1, 2}, 7, ResizeMode::Nearest, CoordMode::Asymmetric),
            (V{0, 0, 0, 1, 1, 2, 2}));
  // PyTorch 'nearest-exact' = half_pixel + round_prefer_ceil, 3 -> 7:
  // floor((x + 0.5) * 3 / 7).
  EXPECT_EQ(resize1D({0, 1, 2}, 7, ResizeMode::Nearest, CoordMode::HalfPixel,
                     NearestRound::RoundPreferCeil),
            (V{0, 0, 1, 1, 1, 2, 2}));
  // ONNX rounding modes at exact ties: asymmetric 2 -> 4 maps to 0, .5, 1,
  // 1.5; indices clamp to in - 1.
  V in = {10, 20};
  EXPECT_EQ(resize1D(in, 4, ResizeMode::Nearest, CoordMode::Asymmetric,
                     NearestRound::Floor),
            (V{10, 10, 20, 20}));
  EXPECT_EQ(resize1D(in, 4, ResizeMode::Nearest, CoordMode::Asymmetric,
                     NearestRound::Ceil),
            (V{10, 20, 20, 20}));
  EXPECT_EQ(resize1D(in, 4, ResizeMode::Nearest, CoordMode::Asymmetric,
                     NearestRound::RoundPreferFloor),
            (V{10, 10, 20, 20}));
  EXPECT_EQ(resize1D(in, 4, ResizeMode::Nearest, CoordMode::Asymmetric,
                     NearestRound::RoundPreferCeil),
            (V{10, 20, 20, 20}));
  // out == 1: align_corners and pytorch_half_pixel read index 0; half_pixel
  // reads the centre ((0.5) * 4 - 0.5 = 1.5, interpolated).
  V four = {1, 2, 3, 4};
  EXPECT_EQ(resize1D(four, 1, ResizeMode::Bilinear, CoordMode::AlignCorners),
            (V{1}));
  EXPECT_EQ(
      resize1D(four, 1, ResizeMode::Bilinear, CoordMode::PytorchHalfPixel),
      (V{1}));
  EXPECT_EQ(resize1D(four, 1, ResizeMode::Bilinear, CoordMode::HalfPixel),
            (V{2.5f}));
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

template <typename T>
std::vector<T> refConcat(const std::vector<std::vector<T>> &ins,
                         const std::vector<Shape> &shapes, int64_t axis,
                         Shape &outShape) {
  outShape = shapes[0];
  outShape[axis] = 0;
  for (const Shape &s : shapes)
    outShape[axis] += s[axis];
  std::vector<T> out(numElements(outShape));
  int64_t start = 0;
  for (size_t k = 0; k < ins.size(); ++k) {
    for (size_t i = 0; i < ins[k].size(); ++i) {
      std::vector<int64_t> idx = unravel(i, shapes[k]);
      idx[axis] += start;
      out[ravel(idx, outShape)] = ins[k][i];
    }
    start += shapes[k][axis];
  }
  return out;
}

template <typename T> void checkConcat(const Shape &base, unsigned seed) {
  for (int64_t axis = 0; axis < int64_t(base.size()); ++axis) {
    std::vector<Shape> shapes;
    std::vector<std::vector<T>> data;
    std::vector<const void *> ptrs;
    for (int64_t k = 0; k < 3; ++k) {
      Shape s = base;
      s[axis] = base[axis] + k * 2 - 1 > 0 ? base[axis] + k * 2 - 1 : 1;
      shapes.push_back(s);
      data.push_back(randomValues<T>(numElements(s), seed++));
    }
    for (const auto &d : data)
      ptrs.push_back(d.data());
    Shape outShape;
    std::vector<T> want = refConcat(data, shapes, axis, outShape);
    std::vector<T> got(want.size());
    concat(ptrs, shapes, axis, sizeof(T), got.data());
    expectSame(got, want,
               "concat " + shapeStr(base) + " axis " + std::to_string(axis) +
                   " elem " + std::to_string(sizeof(T)));
  }
}

TEST(KernelsTest, Concat) {
  checkConcat<float>({2, 3, 5, 4}, 100);
  checkConcat<int8_t>({2, 3, 5, 4}, 110);
  checkConcat<int8_t>({3, 7, 9, 3}, 120);
  checkConcat<int64_t>({4, 5, 3}, 130);
  checkConcat<float>({9}, 140);
  checkConcat<int8_t>({2, 3, 2, 3, 2, 3}, 150);
  checkConcat<float>({2, 40, 40, 16}, 160); // parallel
  checkConcat<int8_t>({1, 100000}, 170);    // long rows
}

template <typename T>
void checkTranspose(const Shape &inShape, const std::vector<int64_t> &perm,
                    unsigned seed) {
  std::vector<T> in = randomValues<T>(numElements(inShape), seed);
  Shape outShape(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    outShape[i] = inShape[perm[i]];
  std::vector<T> want(in.size()), got(in.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<int64_t> o = unravel(i, outShape), idx(perm.size());
    for (size_t d = 0; d < perm.size(); ++d)
      idx[perm[d]] = o[d];
    want[i] = in[ravel(idx, inShape)];
  }
  transpose(in.data(), inShape, perm, sizeof(T), got.data());
  std::string p;
  for (int64_t d : perm)
    p += std::to_string(d);
  expectSame(got, want,
             "transpose " + shapeStr(inShape) + " perm " + p + " elem " +
                 std::to_string(sizeof(T)));
}

TEST(KernelsTest, Transpose) {
  // Every rank-4 permutation, float and int8.
  std::vector<int64_t> perm = {0, 1, 2, 3};
  do {
    checkTranspose<float>({3, 4, 5, 6}, perm, 200);
    checkTranspose<int8_t>({2, 9, 10, 11}, perm, 201);
  } while (std::next_permutation(perm.begin(), perm.end()));
  // NHWC <-> NCHW on sizes that take the tiled path, with odd remainders.
  checkTranspose<float>({2, 17, 19, 23}, {0, 3, 1, 2}, 210);
  checkTranspose<float>({2, 23, 17, 19}, {0, 2, 3, 1}, 211);
  checkTranspose<float>({1, 64, 56, 56}, {0, 2, 3, 1}, 212); // parallel
  checkTranspose<float>({1, 56, 56, 64}, {0, 3, 1, 2}, 213);
  checkTranspose<int8_t>({1, 37, 41, 70}, {0, 3, 1, 2}, 214);
  checkTranspose<int64_t>({2, 30, 9, 20}, {0, 3, 1, 2}, 215);
  // Rank 3, rank 2 and rank 6.
  perm = {0, 1, 2};
  do {
    checkTranspose<float>({5, 7, 9}, perm, 220);
    checkTranspose<int64_t>({5, 7, 9}, perm, 221);
  } while (std::next_permutation(perm.begin(), perm.end()));
  checkTranspose<float>({300, 257}, {1, 0}, 230);
  checkTranspose<int8_t>({2, 3, 4, 3, 2, 5}, {5, 3, 1, 0, 4, 2}, 231);
  checkTranspose<float>({2, 3, 4, 3, 2, 5}, {0, 1, 2, 3, 5, 4}, 232);
}

template <typename T>
void checkSlice(const Shape &inShape, const std::vector<int64_t> &offsets,
                const std::vector<int64_t> &strides, const Shape &outShape,
                unsigned seed) {
  std::vector<T> in = randomValues<T>(numElements(inShape), seed);
  std::vector<T> want(numElements(outShape)), got(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, outShape);
    for (size_t d = 0; d < idx.size(); ++d)
      idx[d] = offsets[d] + idx[d] * strides[d];
    want[i] = in[ravel(idx, inShape)];
  }
  slice(in.data(), inShape, offsets, strides, sizeof(T), got.data(), outShape);
  expectSame(got, want,
             "slice " + shapeStr(inShape) + " -> " + shapeStr(outShape));
}

TEST(KernelsTest, Slice) {
  checkSlice<float>({7, 9, 11, 5}, {1, 0, 2, 1}, {2, 3, 2, 1}, {3, 3, 5, 4},
                    300);
  checkSlice<int8_t>({7, 9, 11, 5}, {1, 0, 2, 1}, {2, 3, 2, 2}, {3, 3, 5, 2},
                     301);
  checkSlice<float>({2, 6, 8, 3}, {0, 1, 1, 0}, {1, 2, 2, 1}, {2, 3, 4, 3},
                    302); // space-to-depth style
  checkSlice<int64_t>({20}, {3}, {2}, {8}, 303);
  checkSlice<float>({2, 3, 4, 5, 6, 7}, {1, 0, 1, 2, 0, 3}, {1, 2, 2, 1, 3, 2},
                    {1, 2, 2, 3, 2, 2}, 304);
  checkSlice<float>({1, 64, 64, 32}, {0, 0, 0, 0}, {1, 2, 2, 1},
                    {1, 32, 32, 32}, 305); // parallel
  checkSlice<int8_t>({4, 50000}, {1, 7}, {2, 1}, {2, 40000}, 306);
}

template <typename T>
void checkPad(const Shape &inShape, const std::vector<int64_t> &low,
              const std::vector<int64_t> &high, PadMode mode, T value,
              unsigned seed) {
  std::vector<T> in = randomValues<T>(numElements(inShape), seed);
  Shape outShape(inShape.size());
  for (size_t d = 0; d < inShape.size(); ++d)
    outShape[d] = inShape[d] + low[d] + high[d];
  std::vector<T> want(numElements(outShape)), got(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, outShape);
    bool inside = true;
    for (size_t d = 0; d < idx.size(); ++d) {
      int64_t j = idx[d] - low[d], n = inShape[d];
      if (j < 0 || j >= n) {
        if (mode == PadMode::Constant)
          inside = false;
        else if (mode == PadMode::Edge)
          j = j < 0 ? 0 : n - 1;
        else // numpy 'reflect': mirror about the edge without repeating it.
          j = j < 0 ? -j : 2 * (n - 1) - j;
      }
      idx[d] = j;
    }
    want[i] = inside ? in[ravel(idx, inShape)] : value;
  }
  pad(in.data(), inShape, low, high, mode, &value, sizeof(T), got.data());
  expectSame(got, want,
             "pad " + shapeStr(inShape) + " mode " + std::to_string(int(mode)) +
                 " elem " + std::to_string(sizeof(T)));
}

TEST(KernelsTest, Pad) {
  // Reflect is numpy/ONNX 'reflect' and PyTorch's ReflectionPad (the edge is
  // not repeated); Edge is ONNX 'edge', PyTorch's ReplicationPad.
  for (PadMode mode : {PadMode::Constant, PadMode::Reflect, PadMode::Edge}) {
    // NHWC spatial padding (channels untouched), asymmetric.
    checkPad<float>({2, 5, 6, 3}, {0, 2, 1, 0}, {0, 1, 3, 0}, mode, 1.5f, 400);
    checkPad<int8_t>({2, 5, 6, 3}, {0, 2, 1, 0}, {0, 1, 3, 0}, mode, int8_t(-7),
                     401);
    // Every dim padded, including the innermost.
    checkPad<float>({3, 4, 5, 6}, {1, 0, 2, 1}, {2, 3, 0, 2}, mode, -2.0f, 402);
    checkPad<int8_t>({3, 4, 5, 6}, {2, 1, 0, 3}, {1, 2, 4, 5}, mode, int8_t(5),
                     403);
    checkPad<int64_t>({9}, {3}, {5}, mode, int64_t(-1), 404);
    checkPad<float>({2, 3, 4, 3, 2, 5}, {1, 0, 2, 1, 1, 0}, {0, 2, 1, 1, 0, 3},
                    mode, 0.0f, 405);
    checkPad<float>({1, 56, 56, 64}, {0, 1, 1, 0}, {0, 1, 1, 0}, mode, 0.0f,
                    406); // parallel
    checkPad<float>({2, 3, 4, 5}, {0, 0, 0, 0}, {0, 0, 0, 0}, mode, 0.0f,
                    407); // nothing
  }
}

} // namespace
