//===- QuantKernelsTest.cpp - Tests of the integer semantics --------------===//
//
// docs/quantization.md's definitions, checked against arithmetic written out
// in the tests (exact rational rounding rather than shifts).
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/QuantKernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace vai::rt;

namespace {

/// DPU_ROUND(a / 2^s) computed with floor on exact doubles.
int64_t refRound(int64_t a, int s) {
  return static_cast<int64_t>(std::floor(std::ldexp(double(a), -s) + 0.5));
}

TEST(RoundShift, IsDpuRoundOfTheQuotient) {
  for (int s = 0; s <= 20; ++s)
    for (int64_t a = -5000; a <= 5000; a += 7)
      EXPECT_EQ(roundShift(a, s), refRound(a, s)) << a << " >> " << s;
  // Ties go up: -2.5 -> -2, 2.5 -> 3.
  EXPECT_EQ(roundShift(-5, 1), -2);
  EXPECT_EQ(roundShift(5, 1), 3);
  // Negative shifts multiply.
  EXPECT_EQ(roundShift(-3, -4), -48);
}

TEST(Requant, ActivationsAndSaturation) {
  Requant rq;
  rq.shift = 3;
  EXPECT_EQ(rq.apply(2000), 127);   // 250 saturates
  EXPECT_EQ(rq.apply(-2000), -127); // never -128
  EXPECT_EQ(rq.apply(-12), -1);     // -1.5 -> -1
  rq.act = Activation::Relu;
  EXPECT_EQ(rq.apply(-100), 0);
  rq.act = Activation::Relu6;
  rq.relu6Max = 6 << 3;
  EXPECT_EQ(rq.apply(1000), 48);
  rq.act = Activation::LeakyRelu;
  // acc * 26 / 2^(3 + 8), DPU-rounded: -1000 * 26 / 2048 = -12.695 -> -13.
  EXPECT_EQ(rq.apply(-1000), refRound(-1000 * 26, 11));
  EXPECT_EQ(rq.apply(-1000), -13);
  EXPECT_EQ(rq.apply(1000), 125);
}

TEST(AvgPoolFactor, HardwareTableAndGeneralRule) {
  auto eq = [](AvgPoolFactor f, int64_t mul, int shift) {
    return f.mul == mul && f.shift == shift;
  };
  EXPECT_TRUE(eq(avgPoolFactor(3, 3), 7, 6));
  EXPECT_TRUE(eq(avgPoolFactor(5, 5), 10, 8));
  EXPECT_TRUE(eq(avgPoolFactor(6, 6), 7, 8));
  EXPECT_TRUE(eq(avgPoolFactor(3, 6), 7, 8));
  EXPECT_TRUE(eq(avgPoolFactor(7, 7), 21, 10));
  EXPECT_TRUE(eq(avgPoolFactor(14, 14), 21, 12));
  // Powers of two are exact with the smallest shift.
  EXPECT_TRUE(eq(avgPoolFactor(1, 1), 1, 0));
  EXPECT_TRUE(eq(avgPoolFactor(2, 2), 1, 2));
  EXPECT_TRUE(eq(avgPoolFactor(4, 4), 1, 4));
  // Others: the closest m / 2^s to 1 / n over s < ceil(log2(128 n)).
  for (int64_t kh : {1, 2, 3, 5, 9, 11})
    for (int64_t kw : {3, 5, 7, 10}) {
      if ((kh == 3 && kw == 3) || (kh == 5 && kw == 5) || (kh == 7 && kw == 7))
        continue;
      AvgPoolFactor f = avgPoolFactor(kh, kw);
      double n = double(kh * kw);
      double err = std::fabs(f.mul / std::ldexp(1.0, f.shift) - 1.0 / n);
      int maxShift = int(std::ceil(std::log2(n * 128))) - 1;
      EXPECT_LE(f.shift, maxShift);
      for (int s = 0; s <= maxShift; ++s) {
        double m = std::floor(std::ldexp(1.0, s) / n + 0.5);
        EXPECT_GE(std::fabs(m / std::ldexp(1.0, s) - 1.0 / n), err)
            << kh << "x" << kw << " shift " << s;
      }
    }
}

TEST(ConvRequant, BiasShiftAndChannels) {
  std::vector<int32_t> acc = {100, -100, 37, -37, 5000, -5000};
  std::vector<int8_t> bias = {3, -2, 1};
  Requant rq;
  rq.shift = 4;
  std::vector<int8_t> out(6);
  convRequant(acc.data(), bias.data(), 2, rq, out.data(), 2, 3);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(out[i],
              std::max<int64_t>(
                  -127, std::min<int64_t>(
                            127, refRound(acc[i] + bias[i % 3] * 4, 4))))
        << i;
}

// The vectorised path (none, relu, relu6) equals Requant::apply on every
// element, over wide accumulators, every shift and bias shift.
TEST(ConvRequant, FastPathEqualsApply) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> accDist(-(1 << 30), 1 << 30);
  std::uniform_int_distribution<int> biasDist(-128, 127);
  const int64_t outer = 37, channels = 19;
  std::vector<int32_t> acc(outer * channels);
  std::vector<int8_t> bias(channels);
  for (int32_t &a : acc)
    a = accDist(rng) >> (rng() % 24); // magnitudes from tiny to 2^30
  for (int8_t &b : bias)
    b = static_cast<int8_t>(biasDist(rng));
  for (Activation act : {Activation::None, Activation::Relu, Activation::Relu6})
    for (int shift : {0, 1, 7, 16, 31})
      for (int shiftBias : {0, 9, 15}) {
        Requant rq;
        rq.shift = shift;
        rq.act = act;
        rq.relu6Max = 96;
        std::vector<int8_t> out(acc.size());
        convRequant(acc.data(), bias.data(), shiftBias, rq, out.data(), outer,
                    channels);
        for (size_t i = 0; i < acc.size(); ++i)
          ASSERT_EQ(out[i],
                    rq.apply(int64_t(acc[i]) +
                             bias[i % channels] * (int64_t(1) << shiftBias)))
              << "act " << int(act) << " shift " << shift << " sb " << shiftBias
              << " at " << i;
      }
}

TEST(AddRequant, AlignsToTheLargerPosition) {
  std::vector<int8_t> a = {10, -10, 127, -127}, b = {3, 3, 127, -127};
  Requant rq;
  rq.shift = 1;
  std::vector<int8_t> out(4);
  addRequant(a.data(), 0, b.data(), 2, rq, out.data(), 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(out[i],
              std::max<int64_t>(
                  -127, std::min<int64_t>(127, refRound(a[i] + b[i] * 4, 1))));
}

TEST(AvgPool2DInt, WindowSumsTimesFactor) {
  PoolGeometry g;
  g.n = 1, g.ih = 4, g.iw = 4, g.c = 2, g.kh = g.kw = 3;
  g.padTop = g.padBottom = g.padLeft = g.padRight = 1;
  g.oh = g.ow = 4;
  std::vector<int8_t> in(32);
  for (int i = 0; i < 32; ++i)
    in[i] = static_cast<int8_t>(i * 7 % 50 - 25);
  Requant rq;
  rq.shift = 6;
  std::vector<int8_t> out(32);
  avgPool2DInt(g, in.data(), 7, rq, out.data());
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 2; ++c) {
        int64_t sum = 0;
        for (int yy = y - 1; yy <= y + 1; ++yy)
          for (int xx = x - 1; xx <= x + 1; ++xx)
            if (yy >= 0 && yy < 4 && xx >= 0 && xx < 4)
              sum += in[(yy * 4 + xx) * 2 + c];
        EXPECT_EQ(out[(y * 4 + x) * 2 + c], refRound(sum * 7, 6));
      }
}

} // namespace
