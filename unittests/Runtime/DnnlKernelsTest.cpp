//===- DnnlKernelsTest.cpp - Tests of the oneDNN-backed kernels -----------===//
//
// Every kernel is compared against a naive loop written straight from the
// formula documented in include/vai/Runtime/Kernels.h, on odd shapes with
// random data (fixed seeds).
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/Kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace vai::rt;

namespace {

std::vector<float> randomData(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

float refActivate(const ActivationSpec &act, double x) {
  switch (act.kind) {
  case Activation::None:
    return static_cast<float>(x);
  case Activation::Relu:
    return static_cast<float>(std::max(x, 0.0));
  case Activation::Relu6:
    return static_cast<float>(std::min(std::max(x, 0.0), 6.0));
  case Activation::LeakyRelu:
    return static_cast<float>(x >= 0.0 ? x : act.alpha * x);
  }
  return static_cast<float>(x);
}

/// Relative tolerance 1e-4, scaled by max(|ref|, 1).
void expectClose(const std::vector<float> &got, const std::vector<float> &ref) {
  ASSERT_EQ(got.size(), ref.size());
  int64_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    float tol = 1e-4f * std::max(std::fabs(ref[i]), 1.0f);
    if (!(std::fabs(got[i] - ref[i]) <= tol)) {
      if (++bad <= 5)
        ADD_FAILURE() << "mismatch at " << i << ": got " << got[i]
                      << ", expected " << ref[i];
    }
  }
  EXPECT_EQ(bad, 0) << "of " << ref.size() << " elements";
}

/// Geometry with oh/ow from the usual floor formula.
ConvGeometry convGeom(int64_t n, int64_t ih, int64_t iw, int64_t ic, int64_t oc,
                      int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                      int64_t dh, int64_t dw, int64_t pt, int64_t pb,
                      int64_t pl, int64_t pr, int64_t groups) {
  ConvGeometry g;
  g.n = n;
  g.ih = ih;
  g.iw = iw;
  g.ic = ic;
  g.oc = oc;
  g.kh = kh;
  g.kw = kw;
  g.strideH = sh;
  g.strideW = sw;
  g.dilH = dh;
  g.dilW = dw;
  g.padTop = pt;
  g.padBottom = pb;
  g.padLeft = pl;
  g.padRight = pr;
  g.groups = groups;
  g.oh = (ih + pt + pb - dh * (kh - 1) - 1) / sh + 1;
  g.ow = (iw + pl + pr - dw * (kw - 1) - 1) / sw + 1;
  return g;
}

/// Geometry of a transposed convolution with output padding opH/opW:
/// oh = (ih-1)*s - padTop - padBottom + dil*(k-1) + 1 + op.
ConvGeometry transposedGeom(int64_t n, int64_t ih, int64_t iw, int64_t ic,
                            int64_t oc, int64_t kh, int64_t kw, int64_t sh,
                            int64_t sw, int64_t dh, int64_t dw, int64_t pt,
                            int64_t pb, int64_t pl, int64_t pr, int64_t groups,
                            int64_t opH, int64_t opW) {
  ConvGeometry g = convGeom(n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb,
                            pl, pr, groups);
  g.oh = (ih - 1) * sh - pt - pb + dh * (kh - 1) + 1 + opH;
  g.ow = (iw - 1) * sw - pl - pr + dw * (kw - 1) + 1 + opW;
  return g;
}

int64_t weightSize(const ConvGeometry &g) {
  return g.oc * g.kh * g.kw * (g.ic / g.groups);
}

std::vector<float> refConv(const ConvGeometry &g, const std::vector<float> &in,
                           const std::vector<float> &w, const float *bias,
                           const ActivationSpec &act) {
  const int64_t icg = g.ic / g.groups, ocg = g.oc / g.groups;
  std::vector<float> out(g.n * g.oh * g.ow * g.oc);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox)
        for (int64_t o = 0; o < g.oc; ++o) {
          int64_t grp = o / ocg;
          double acc = bias ? bias[o] : 0.0;
          for (int64_t ky = 0; ky < g.kh; ++ky)
            for (int64_t kx = 0; kx < g.kw; ++kx)
              for (int64_t i = grp * icg; i < (grp + 1) * icg; ++i) {
                int64_t y = oy * g.strideH - g.padTop + ky * g.dilH;
                int64_t x = ox * g.strideW - g.padLeft + kx * g.dilW;
                if (y < 0 || y >= g.ih || x < 0 || x >= g.iw)
                  continue;
                acc += static_cast<double>(
                           in[((n * g.ih + y) * g.iw + x) * g.ic + i]) *
                       w[((o * g.kh + ky) * g.kw + kx) * icg + i - grp * icg];
              }
          out[((n * g.oh + oy) * g.ow + ox) * g.oc + o] = refActivate(act, acc);
        }
  return out;
}

/// Scatter form, exactly as documented on TransposedConv2D.
std::vector<float> refTransposedConv(const ConvGeometry &g,
                                     const std::vector<float> &in,
                                     const std::vector<float> &w,
                                     const float *bias,
                                     const ActivationSpec &act) {
  const int64_t icg = g.ic / g.groups, ocg = g.oc / g.groups;
  std::vector<double> acc(g.n * g.oh * g.ow * g.oc, 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t iy = 0; iy < g.ih; ++iy)
      for (int64_t ix = 0; ix < g.iw; ++ix)
        for (int64_t o = 0; o < g.oc; ++o) {
          int64_t grp = o / ocg;
          for (int64_t ky = 0; ky < g.kh; ++ky)
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              int64_t y = iy * g.strideH - g.padTop + ky * g.dilH;
              int64_t x = ix * g.strideW - g.padLeft + kx * g.dilW;
              if (y < 0 || y >= g.oh || x < 0 || x >= g.ow)
                continue;
              for (int64_t i = grp * icg; i < (grp + 1) * icg; ++i)
                acc[((n * g.oh + y) * g.ow + x) * g.oc + o] +=
                    static_cast<double>(
                        in[((n * g.ih + iy) * g.iw + ix) * g.ic + i]) *
                    w[((o * g.kh + ky) * g.kw + kx) * icg + i - grp * icg];
            }
        }
  std::vector<float> out(acc.size());
  for (size_t j = 0; j < acc.size(); ++j)
    out[j] = refActivate(act, acc[j] + (bias ? bias[j % g.oc] : 0.0));
  return out;
}

std::string actName(const ActivationSpec &act) {
  switch (act.kind) {
  case Activation::None:
    return "None";
  case Activation::Relu:
    return "Relu";
  case Activation::Relu6:
    return "Relu6";
  case Activation::LeakyRelu:
    return "LeakyRelu";
  }
  return "?";
}

const ActivationSpec kNone{};
const ActivationSpec kRelu{Activation::Relu};
const ActivationSpec kRelu6{Activation::Relu6};
const ActivationSpec kLeaky{Activation::LeakyRelu, 0.1f};

struct ConvCase {
  const char *name;
  ConvGeometry g;
  ActivationSpec act;
  bool bias;
  /// Weight magnitude; large enough for Relu6 to clip at 6.
  float wScale = 1.0f;
};

std::ostream &operator<<(std::ostream &os, const ConvCase &c) {
  return os << c.name << " (" << actName(c.act)
            << (c.bias ? ", bias)" : ", no bias)");
}

ConvGeometry withOutput(ConvGeometry g, int64_t oh, int64_t ow) {
  g.oh = oh;
  g.ow = ow;
  return g;
}

ConvGeometry withPadTop(ConvGeometry g, int64_t padTop) {
  g.padTop = padTop;
  return g;
}

//===----------------------------------------------------------------------===//
// Conv2D
//===----------------------------------------------------------------------===//

// convGeom(n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups)
const ConvCase kConvCases[] = {
    {"Basic3x3", convGeom(1, 7, 9, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
     kNone, true},
    {"Stride2AsymPad",
     convGeom(2, 13, 5, 4, 6, 3, 3, 2, 2, 1, 1, 1, 2, 0, 1, 1), kRelu, true},
    {"Stride3Kernel5",
     convGeom(3, 13, 11, 3, 7, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1), kLeaky, false},
    {"Stride3x2Kernel4x2",
     convGeom(2, 7, 9, 5, 4, 4, 2, 3, 2, 1, 1, 0, 1, 1, 0, 1), kNone, false},
    {"Dilation2", convGeom(2, 9, 7, 4, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1),
     kRelu6, true, 3.0f},
    {"Dilation2Stride2AsymPad",
     convGeom(1, 13, 5, 3, 4, 3, 3, 2, 1, 2, 1, 1, 2, 0, 1, 1), kRelu, false},
    {"Groups2", convGeom(2, 7, 9, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2), kNone,
     true},
    {"Groups3Stride2",
     convGeom(3, 13, 5, 6, 9, 3, 3, 2, 2, 1, 1, 1, 2, 0, 1, 3), kLeaky, true},
    {"Groups2Wide", convGeom(2, 9, 7, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2),
     kRelu, true},
    {"Depthwise", convGeom(2, 7, 9, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8),
     kRelu6, true, 3.0f},
    {"DepthwiseMultiplier2Stride2",
     convGeom(2, 13, 5, 5, 10, 3, 3, 2, 2, 1, 1, 1, 2, 0, 1, 5), kRelu, false},
    {"DepthwiseDilation2",
     convGeom(1, 9, 9, 16, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 16), kNone, true},
    {"DepthwiseWideStride2",
     convGeom(3, 13, 11, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32), kRelu6,
     true, 3.0f},
    {"Pointwise", convGeom(2, 7, 9, 16, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
     kNone, true},
    // Floor division leaves the last input row/column unused: padding_r = -1.
    {"PointwiseStride2",
     convGeom(1, 8, 8, 16, 32, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1), kNone, true},
    {"ResNetLike3x3",
     convGeom(1, 14, 14, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), kRelu, true},
    {"ResNetLikeStride2",
     convGeom(2, 15, 15, 32, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), kRelu,
     false},
    {"Stem7x7Stride2",
     convGeom(1, 23, 23, 3, 16, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1), kRelu, true},
    {"OddChannels", convGeom(3, 5, 7, 13, 19, 3, 3, 1, 2, 1, 1, 1, 0, 2, 1, 1),
     kLeaky, false},
    {"KernelLargerThanInput",
     convGeom(1, 3, 2, 4, 5, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1), kNone, true},
    // The caller's oh/ow leave a large part of the input unused (oneDNN
    // cannot express padding_r <= -stride; the input is cropped).
    {"OutputSmallerThanInput",
     withOutput(convGeom(2, 13, 11, 3, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1), 7,
                5),
     kRelu, true},
    // The caller's oh/ow exceed the floor formula (ceil mode): the extra
    // row/column reads zeros past the declared padding.
    {"OutputLargerThanFloor",
     withOutput(convGeom(2, 8, 9, 4, 6, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1), 4, 5),
     kRelu6, true, 3.0f},
    // Every output position reads padding only: direct-loop fallback.
    {"PaddingOnly",
     withOutput(
         withPadTop(convGeom(1, 3, 3, 2, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
                    5),
         2, 3),
     kLeaky, true},
};

class Conv2DTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2DTest, MatchesNaiveLoop) {
  const ConvCase &c = GetParam();
  const ConvGeometry &g = c.g;
  auto in = randomData(g.n * g.ih * g.iw * g.ic, 1);
  auto w = randomData(weightSize(g), 2, c.wScale);
  auto b = randomData(g.oc, 3);
  const float *bias = c.bias ? b.data() : nullptr;
  Conv2D conv(g, w.data(), bias, c.act);
  std::vector<float> out(g.n * g.oh * g.ow * g.oc, -123.0f);
  conv.run(in.data(), out.data());
  expectClose(out, refConv(g, in, w, bias, c.act));
  // A second run on the same object gives the same result.
  std::vector<float> again(out.size(), 7.0f);
  conv.run(in.data(), again.data());
  EXPECT_EQ(out, again);
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv2DTest, ::testing::ValuesIn(kConvCases),
                         [](const ::testing::TestParamInfo<ConvCase> &info) {
                           return std::string(info.param.name) + "_" +
                                  actName(info.param.act) +
                                  (info.param.bias ? "_Bias" : "_NoBias");
                         });

/// Random int8 values in [lo, 127], also as floats for the reference loops
/// (whose double sums are exact for these sizes).
std::vector<int8_t> randomInt8(int64_t n, uint32_t seed, int lo = -128) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, 127);
  std::vector<int8_t> v(n);
  for (int8_t &x : v)
    x = static_cast<int8_t>(dist(rng));
  return v;
}
std::vector<float> asFloats(const std::vector<int8_t> &v) {
  return std::vector<float>(v.begin(), v.end());
}
void expectExactSums(const std::vector<int32_t> &got,
                     const std::vector<float> &ref) {
  ASSERT_EQ(got.size(), ref.size());
  int64_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (static_cast<float>(got[i]) != ref[i] && ++bad <= 5)
      ADD_FAILURE() << "mismatch at " << i << ": got " << got[i]
                    << ", expected " << ref[i];
  EXPECT_EQ(bad, 0) << "of " << ref.size() << " elements";
}

// The exact integer form on the same geometries (including the cropping and
// direct-loop fallbacks): int32 sums equal the naive loop exactly.
TEST_P(Conv2DTest, Int8SumsAreExact) {
  const ConvGeometry &g = GetParam().g;
  auto in = randomInt8(g.n * g.ih * g.iw * g.ic, 21, -127);
  auto w = randomInt8(weightSize(g), 22);
  Conv2D conv(g, w.data());
  std::vector<int32_t> out(g.n * g.oh * g.ow * g.oc, -123);
  conv.run(in.data(), out.data());
  expectExactSums(out, refConv(g, asFloats(in), asFloats(w), nullptr, kNone));
  // The int8 object refuses float data, with an error (not a crash).
  std::vector<float> f(out.size());
  EXPECT_THROW(conv.run(asFloats(in).data(), f.data()), std::runtime_error);
}

TEST(Conv2DConcurrency, FourThreadsShareOneObject) {
  ConvGeometry g = convGeom(2, 15, 15, 32, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1);
  auto w = randomData(weightSize(g), 11);
  auto b = randomData(g.oc, 12);
  Conv2D conv(g, w.data(), b.data(), kRelu);
  constexpr int kThreads = 4, kIters = 8;
  const int64_t inSize = g.n * g.ih * g.iw * g.ic;
  const int64_t outSize = g.n * g.oh * g.ow * g.oc;
  std::vector<std::vector<float>> ins, serial;
  for (int t = 0; t < kThreads; ++t) {
    ins.push_back(randomData(inSize, 100 + t));
    serial.emplace_back(outSize);
    conv.run(ins[t].data(), serial[t].data());
    expectClose(serial[t], refConv(g, ins[t], w, b.data(), kRelu));
  }
  std::vector<std::vector<float>> outs(kThreads * kIters,
                                       std::vector<float>(outSize, 0.0f));
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kIters; ++i)
          conv.run(ins[t].data(), outs[t * kIters + i].data());
      } catch (const std::exception &e) {
        errors[t] = e.what();
      }
    });
  for (std::thread &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "");
    for (int i = 0; i < kIters; ++i)
      expectClose(outs[t * kIters + i], serial[t]);
  }
}

TEST(Conv2DErrors, GroupsMustDivideChannels) {
  ConvGeometry g = convGeom(1, 5, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2);
  std::vector<float> w(4 * 3 * 3 * 3, 0.0f);
  EXPECT_THROW(Conv2D(g, w.data(), nullptr), std::runtime_error);
  EXPECT_THROW(TransposedConv2D(g, w.data(), nullptr), std::runtime_error);
}

//===----------------------------------------------------------------------===//
// TransposedConv2D
//===----------------------------------------------------------------------===//

// transposedGeom(n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr,
//                groups, outputPadH, outputPadW)
const ConvCase kTransposedCases[] = {
    {"Stride2Pad1OutPad1",
     transposedGeom(2, 7, 9, 4, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1),
     kRelu, true},
    // Output one larger than oneDNN's formula with zero padding.
    {"Stride2OutPad1",
     transposedGeom(1, 7, 5, 3, 5, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1),
     kNone, true},
    {"Stride3OutPad2",
     transposedGeom(2, 5, 4, 3, 4, 2, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 2, 2),
     kLeaky, false},
    // Output padding >= stride: rows/columns beyond oneDNN's reach.
    {"Stride1Dilation2OutPad1",
     transposedGeom(1, 6, 7, 4, 3, 3, 3, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1),
     kLeaky, true},
    {"Stride2OutPad3x2",
     transposedGeom(1, 4, 4, 3, 2, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 3, 2),
     kRelu6, true, 3.0f},
    {"Stride2Kernel4Groups2",
     transposedGeom(2, 7, 9, 4, 6, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2, 0, 0),
     kRelu6, false, 3.0f},
    {"Groups3Dilation2AsymPad",
     transposedGeom(1, 5, 7, 6, 9, 3, 3, 2, 2, 2, 2, 1, 2, 0, 1, 3, 0, 0),
     kNone, true},
    {"AsymPad",
     transposedGeom(3, 7, 9, 5, 3, 3, 3, 2, 2, 1, 1, 1, 2, 0, 1, 1, 0, 0),
     kRelu, true},
    {"Stride3Kernel5Pad2",
     transposedGeom(2, 5, 6, 4, 5, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 2),
     kNone, false},
    {"Depthwise",
     transposedGeom(1, 6, 6, 8, 8, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 8, 0, 0),
     kNone, true},
    {"DepthwiseMultiplier2",
     transposedGeom(2, 7, 5, 4, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, 1, 1),
     kRelu, false},
    {"Pointwise",
     transposedGeom(3, 5, 7, 8, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0),
     kNone, true},
    {"Upsample2x2Wide",
     transposedGeom(1, 14, 14, 32, 16, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0),
     kRelu, true},
    // Cropping so large that no input reaches the output: direct loop.
    {"CroppedAway",
     withOutput(withPadTop(transposedGeom(1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0,
                                          0, 0, 1, 0, 0),
                           3),
                2, 2),
     kLeaky, true},
};

class TransposedConv2DTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(TransposedConv2DTest, MatchesNaiveLoop) {
  const ConvCase &c = GetParam();
  const ConvGeometry &g = c.g;
  auto in = randomData(g.n * g.ih * g.iw * g.ic, 4);
  auto w = randomData(weightSize(g), 5, c.wScale);
  auto b = randomData(g.oc, 6);
  const float *bias = c.bias ? b.data() : nullptr;
  TransposedConv2D conv(g, w.data(), bias, c.act);
  std::vector<float> out(g.n * g.oh * g.ow * g.oc, -123.0f);
  conv.run(in.data(), out.data());
  expectClose(out, refTransposedConv(g, in, w, bias, c.act));
}

TEST_P(TransposedConv2DTest, Int8SumsAreExact) {
  const ConvGeometry &g = GetParam().g;
  auto in = randomInt8(g.n * g.ih * g.iw * g.ic, 23, -127);
  auto w = randomInt8(weightSize(g), 24);
  TransposedConv2D conv(g, w.data());
  std::vector<int32_t> out(g.n * g.oh * g.ow * g.oc, -123);
  conv.run(in.data(), out.data());
  expectExactSums(
      out, refTransposedConv(g, asFloats(in), asFloats(w), nullptr, kNone));
}

INSTANTIATE_TEST_SUITE_P(Cases, TransposedConv2DTest,
                         ::testing::ValuesIn(kTransposedCases),
                         [](const ::testing::TestParamInfo<ConvCase> &info) {
                           return std::string(info.param.name) + "_" +
                                  actName(info.param.act) +
                                  (info.param.bias ? "_Bias" : "_NoBias");
                         });

//===----------------------------------------------------------------------===//
// InnerProduct
//===----------------------------------------------------------------------===//

std::vector<float> refInnerProduct(int64_t batch, int64_t in, int64_t out,
                                   const std::vector<float> &x,
                                   const std::vector<float> &w,
                                   const float *bias,
                                   const ActivationSpec &act) {
  std::vector<float> y(batch * out);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < out; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        acc += static_cast<double>(x[b * in + i]) * w[o * in + i];
      y[b * out + o] = refActivate(act, acc);
    }
  return y;
}

struct IpCase {
  int64_t batch, in, out;
  ActivationSpec act;
  bool bias;
  float wScale = 1.0f;
};

TEST(InnerProductTest, MatchesNaiveLoop) {
  const IpCase cases[] = {
      {3, 17, 11, kNone, true},        {3, 17, 11, kRelu, false},
      {3, 17, 11, kRelu6, true, 3.0f}, {3, 17, 11, kLeaky, true},
      {1, 1000, 10, kNone, true},      {5, 64, 1, kNone, false},
      {2, 1, 7, kRelu, true},          {7, 129, 65, kLeaky, false},
  };
  for (const IpCase &c : cases) {
    SCOPED_TRACE(std::to_string(c.batch) + "x" + std::to_string(c.in) + "->" +
                 std::to_string(c.out) + " " + actName(c.act) +
                 (c.bias ? " bias" : " no bias"));
    auto x = randomData(c.batch * c.in, 7);
    auto w = randomData(c.out * c.in, 8, c.wScale);
    auto b = randomData(c.out, 9);
    const float *bias = c.bias ? b.data() : nullptr;
    InnerProduct ip(c.batch, c.in, c.out, w.data(), bias, c.act);
    std::vector<float> y(c.batch * c.out, -123.0f);
    ip.run(x.data(), y.data());
    expectClose(y, refInnerProduct(c.batch, c.in, c.out, x, w, bias, c.act));
  }
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

std::vector<float> refMatmul(const std::vector<float> &a,
                             const std::vector<float> &b, int64_t batch,
                             int64_t m, int64_t k, int64_t n, bool aBatched,
                             bool bBatched) {
  std::vector<float> c(batch * m * n);
  for (int64_t p = 0; p < batch; ++p) {
    const float *ap = a.data() + (aBatched ? p * m * k : 0);
    const float *bp = b.data() + (bBatched ? p * k * n : 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t q = 0; q < k; ++q)
          acc += static_cast<double>(ap[i * k + q]) * bp[q * n + j];
        c[(p * m + i) * n + j] = static_cast<float>(acc);
      }
  }
  return c;
}

TEST(MatmulTest, AllBatchingCombinations) {
  struct Dims {
    int64_t batch, m, k, n;
  };
  const Dims dims[] = {
      {3, 5, 7, 9}, {1, 5, 7, 9}, {2, 33, 65, 17}, {4, 1, 13, 1}, {3, 6, 1, 5}};
  for (const Dims &d : dims)
    for (bool aBatched : {false, true})
      for (bool bBatched : {false, true}) {
        SCOPED_TRACE("batch=" + std::to_string(d.batch) +
                     " m=" + std::to_string(d.m) + " k=" + std::to_string(d.k) +
                     " n=" + std::to_string(d.n) +
                     " aBatched=" + std::to_string(aBatched) +
                     " bBatched=" + std::to_string(bBatched));
        auto a = randomData((aBatched ? d.batch : 1) * d.m * d.k, 21);
        auto b = randomData((bBatched ? d.batch : 1) * d.k * d.n, 22);
        std::vector<float> c(d.batch * d.m * d.n, -123.0f);
        matmul(a.data(), b.data(), c.data(), d.batch, d.m, d.k, d.n, aBatched,
               bBatched);
        expectClose(
            c, refMatmul(a, b, d.batch, d.m, d.k, d.n, aBatched, bBatched));
      }
}

TEST(MatmulTest, EmptyReductionGivesZeros) {
  std::vector<float> c(2 * 3 * 4, -1.0f);
  float dummy = 0.0f;
  matmul(&dummy, &dummy, c.data(), 2, 3, 0, 4, true, true);
  EXPECT_EQ(c, std::vector<float>(c.size(), 0.0f));
}

} // namespace
