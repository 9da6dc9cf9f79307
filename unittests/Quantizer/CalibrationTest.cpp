//===- CalibrationTest.cpp - Tensor statistics and fix-position choice ----===//
//
// Checks of include/vai/Quantizer/Calibration.h. Expected values are derived
// here from the definitions in docs/quantization.md (by hand or by brute
// force in the test), never copied from the implementation. The timing
// tests print how long the hot paths take on realistic sizes.
//
//===----------------------------------------------------------------------===//

#include "vai/Quantizer/Calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

using namespace vai::quant;

namespace {

const QuantSpec kAct{};                                    // [-127, 127], DPU
const QuantSpec kWeight{-128, 127, QuantSpec::Round::Std}; // [-128, 127], STD

/// Normal samples from a fixed seed (Box-Muller over mt19937, whose output
/// is specified, so the data is the same on every platform).
std::vector<float> normal(size_t n, double sigma, uint32_t seed) {
  std::mt19937 gen(seed);
  auto uniform = [&] { return (gen() + 0.5) / 4294967296.0; };
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    double r = std::sqrt(-2.0 * std::log(uniform()));
    out[i] = static_cast<float>(sigma * r * std::cos(2 * M_PI * uniform()));
  }
  return out;
}

TensorStats statsOf(const std::vector<float> &v, int64_t bins = 2048) {
  TensorStats s(bins);
  s.add(v.data(), static_cast<int64_t>(v.size()));
  return s;
}

int position(const TensorStats &s, Method m, const QuantSpec &spec = kAct) {
  llvm::Expected<int> p = choosePosition(s, m, spec);
  if (!p) {
    ADD_FAILURE() << llvm::toString(p.takeError());
    return std::numeric_limits<int>::min();
  }
  return *p;
}

/// Mean squared quantization error of the raw data at position p.
double measuredMse(const std::vector<float> &v, int p, const QuantSpec &spec) {
  double sum = 0.0;
  for (float x : v) {
    double d = x - quantize(x, p, spec);
    sum += d * d;
  }
  return sum / v.size();
}

std::string errorText(llvm::Expected<int> p) {
  if (p)
    return "no error";
  return llvm::toString(p.takeError());
}

//===----------------------------------------------------------------------===//
// quantize
//===----------------------------------------------------------------------===//

TEST(Quantize, DpuRoundsTiesUp) {
  EXPECT_EQ(quantize(2.5, 0, kAct), 3.0);
  EXPECT_EQ(quantize(-2.5, 0, kAct), -2.0);
  EXPECT_EQ(quantize(-2.51, 0, kAct), -3.0);
  EXPECT_EQ(quantize(0.5, 0, kAct), 1.0);
  EXPECT_EQ(quantize(-0.5, 0, kAct), 0.0);
  // At p = 2 the grid step is 0.25: 0.625 * 4 = 2.5 -> 3 -> 0.75.
  EXPECT_EQ(quantize(0.625, 2, kAct), 0.75);
  EXPECT_EQ(quantize(-0.625, 2, kAct), -0.5);
}

TEST(Quantize, StdRoundsTiesAwayFromZero) {
  EXPECT_EQ(quantize(2.5, 0, kWeight), 3.0);
  EXPECT_EQ(quantize(-2.5, 0, kWeight), -3.0);
  EXPECT_EQ(quantize(2.49, 0, kWeight), 2.0);
  EXPECT_EQ(quantize(-0.625, 2, kWeight), -0.75);
}

TEST(Quantize, Saturates) {
  EXPECT_EQ(quantize(200.0, 0, kAct), 127.0);
  EXPECT_EQ(quantize(-200.0, 0, kAct), -127.0);
  EXPECT_EQ(quantize(-200.0, 0, kWeight), -128.0);
  EXPECT_EQ(quantize(127.5, 0, kAct), 127.0);   // rounds to 128, saturates
  EXPECT_EQ(quantize(-127.5, 0, kAct), -127.0); // rounds up to -127
  EXPECT_EQ(quantize(-127.5, 0, kWeight), -128.0);
  // Negative positions: step 8 at p = -3.
  EXPECT_EQ(quantize(1000.0, -3, kAct), 1000.0);
  EXPECT_EQ(quantize(1020.0, -3, kAct), 1016.0); // 127.5 -> 128 -> 127
  EXPECT_EQ(quantize(1.0, 7, kAct), 127.0 / 128.0);
}

//===----------------------------------------------------------------------===//
// TensorStats
//===----------------------------------------------------------------------===//

TEST(TensorStats, BasicCounts) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {-3.0f, 0.5f, 2.0f, nan, -inf};
  TensorStats s = statsOf(v, 8);
  EXPECT_EQ(s.count(), 5);
  EXPECT_EQ(s.nonFinite(), 2);
  EXPECT_EQ(s.min(), -3.0);
  EXPECT_EQ(s.max(), 2.0);
  EXPECT_EQ(s.absMax(), 3.0);
  EXPECT_DOUBLE_EQ(s.negativeFraction(), 1.0 / 3.0);
  EXPECT_FALSE(s.allZero());
  // Range: the next power of two >= 3 is 4, so 8 bins of 0.5.
  ASSERT_EQ(s.bins(), 8);
  EXPECT_EQ(s.binWidth(), 0.5);
  std::vector<double> expected(8, 0.0);
  expected[6] = 1; // |-3| / 0.5 = 6
  expected[1] = 1; // 0.5 / 0.5 = 1
  expected[4] = 1; // 2 / 0.5 = 4
  EXPECT_EQ(std::vector<double>(s.histogram().begin(), s.histogram().end()),
            expected);
}

TEST(TensorStats, ExactPowerOfTwoGoesToLastBin) {
  std::vector<float> v = {1.0f, -0.25f};
  TensorStats s = statsOf(v, 4);
  EXPECT_EQ(s.binWidth(), 0.25); // range 1
  EXPECT_EQ(s.histogram()[3], 1.0);
  EXPECT_EQ(s.histogram()[1], 1.0);
}

TEST(TensorStats, RangeGrowsAcrossBatches) {
  TensorStats s(8);
  std::vector<float> a = {0.3f, -0.9f}, b = {3.5f};
  s.add(a.data(), 2);
  EXPECT_EQ(s.binWidth(), 1.0 / 8); // range 1
  EXPECT_EQ(s.histogram()[2], 1.0); // 0.3 / 0.125 = 2.4
  EXPECT_EQ(s.histogram()[7], 1.0); // 0.9 / 0.125 = 7.2
  s.add(b.data(), 1);
  EXPECT_EQ(s.binWidth(), 0.5); // range 4
  std::vector<double> expected(8, 0.0);
  expected[0] = 1; // 0.3 / 0.5
  expected[1] = 1; // 0.9 / 0.5
  expected[7] = 1; // 3.5 / 0.5
  EXPECT_EQ(std::vector<double>(s.histogram().begin(), s.histogram().end()),
            expected);
  EXPECT_EQ(s.min(), -0.9f);
  EXPECT_EQ(s.max(), 3.5f);
  EXPECT_EQ(s.count(), 3);
}

TEST(TensorStats, ZerosBeforeTheRangeAreInBinZero) {
  TensorStats s(8);
  std::vector<float> zeros(3, 0.0f), one = {0.75f};
  s.add(zeros.data(), 3);
  EXPECT_TRUE(s.allZero());
  s.add(one.data(), 1);
  EXPECT_FALSE(s.allZero());
  EXPECT_EQ(s.binWidth(), 1.0 / 8);
  EXPECT_EQ(s.histogram()[0], 3.0);
  EXPECT_EQ(s.histogram()[6], 1.0); // 0.75 / 0.125 = 6
}

/// Batches at very different scales, so the range grows several times.
std::vector<std::vector<float>> scaledBatches() {
  std::vector<std::vector<float>> batches;
  double scales[] = {0.01, 1.0, 0.2, 37.0, 3.0, 0.0005};
  uint32_t seed = 1;
  for (double scale : scales)
    batches.push_back(normal(5000, scale, seed++));
  batches.push_back(std::vector<float>(100, 0.0f));
  return batches;
}

TEST(TensorStats, MergingMatchesDirectBinning) {
  auto batches = scaledBatches();
  TensorStats s(2048);
  std::vector<float> all;
  for (auto &b : batches) {
    s.add(b.data(), static_cast<int64_t>(b.size()));
    all.insert(all.end(), b.begin(), b.end());
  }
  // The final range is the next power of two >= max |x|.
  double absMax = 0;
  for (float x : all)
    absMax = std::max(absMax, std::fabs(double(x)));
  double range = std::exp2(std::ceil(std::log2(absMax)));
  EXPECT_EQ(s.binWidth(), range / 2048);
  EXPECT_EQ(s.absMax(), absMax);
  // Counting each value directly at the final bin width gives the same
  // histogram: merging lost nothing and moved nothing.
  std::vector<double> expected(2048, 0.0);
  for (float x : all)
    expected[std::min<int64_t>(
        static_cast<int64_t>(std::fabs(double(x)) / s.binWidth()), 2047)] += 1;
  EXPECT_EQ(std::vector<double>(s.histogram().begin(), s.histogram().end()),
            expected);
  double total = 0;
  for (double h : s.histogram())
    total += h;
  EXPECT_EQ(total, static_cast<double>(all.size()));
  EXPECT_EQ(s.count(), static_cast<int64_t>(all.size()));
}

TEST(TensorStats, OrderIndependent) {
  auto batches = scaledBatches();
  TensorStats forward(2048), backward(2048), shuffled(2048);
  for (auto &b : batches)
    forward.add(b.data(), static_cast<int64_t>(b.size()));
  for (auto it = batches.rbegin(); it != batches.rend(); ++it)
    backward.add(it->data(), static_cast<int64_t>(it->size()));
  for (size_t i : {3, 0, 6, 5, 1, 4, 2})
    shuffled.add(batches[i].data(), static_cast<int64_t>(batches[i].size()));
  auto vec = [](const TensorStats &s) {
    return std::vector<double>(s.histogram().begin(), s.histogram().end());
  };
  EXPECT_EQ(vec(forward), vec(backward));
  EXPECT_EQ(vec(forward), vec(shuffled));
  EXPECT_EQ(forward.binWidth(), backward.binWidth());
  EXPECT_EQ(forward.min(), shuffled.min());
  EXPECT_EQ(forward.max(), shuffled.max());
  EXPECT_EQ(forward.negativeFraction(), shuffled.negativeFraction());
}

TEST(TensorStats, AbsPercentileOfUniformData) {
  // 100000 values evenly spread over (-1, 1): |x| is uniform on (0, 1).
  std::vector<float> v;
  const int n = 100000;
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<float>((2.0 * i + 1) / n - 1.0));
  TensorStats s = statsOf(v);
  double w = s.binWidth(); // 1 / 2048
  for (double f : {0.1, 0.5, 0.9, 0.999})
    EXPECT_NEAR(s.absPercentile(f), f, w) << f;
  EXPECT_LE(s.absPercentile(1.0), s.absMax());
  EXPECT_NEAR(s.absPercentile(1.0), 1.0, w);
  EXPECT_EQ(s.absPercentile(0.0), 0.0);
}

//===----------------------------------------------------------------------===//
// choosePosition
//===----------------------------------------------------------------------===//

TEST(ChoosePosition, MaxMin) {
  // 1.0 * 2^7 = 128 > 127.5 saturates; 1.0 * 2^6 = 64 fits.
  EXPECT_EQ(position(statsOf({-0.5f, 1.0f, 0.25f}), Method::MaxMin), 6);
  EXPECT_EQ(position(statsOf({-1.0f, 0.5f}), Method::MaxMin), 6);
  // 0.99 * 2^7 = 126.72 fits, 0.99 * 2^8 does not.
  EXPECT_EQ(position(statsOf({0.99f, -0.3f}), Method::MaxMin), 7);
  // At the limit: 127.5 * 2^0 = 127.5 is allowed (the rounded value
  // saturates by at most half a step), 127.5 * 2^1 is not.
  EXPECT_EQ(position(statsOf({127.5f}), Method::MaxMin), 0);
  EXPECT_EQ(position(statsOf({127.0f}), Method::MaxMin), 0);
  EXPECT_EQ(position(statsOf({128.0f}), Method::MaxMin), -1);
  // Clamped to the searched range.
  EXPECT_EQ(position(statsOf({1e-30f}), Method::MaxMin), kMaxPosition);
  EXPECT_EQ(position(statsOf({1e30f}), Method::MaxMin), kMinPosition);
}

TEST(ChoosePosition, PercentileIgnoresAnOutlier) {
  std::vector<float> v;
  for (int i = 0; i < 100000; ++i)
    v.push_back(static_cast<float>(0.1 * ((2.0 * i + 1) / 100000 - 1.0)));
  v.push_back(100.0f);
  TensorStats s = statsOf(v);
  int maxMin = position(s, Method::MaxMin);
  EXPECT_EQ(maxMin, 0); // 100 * 2^0 <= 127.5 < 200
  llvm::Expected<int> p = choosePosition(s, Method::Percentile, kAct, 99.9);
  ASSERT_TRUE(static_cast<bool>(p)) << llvm::toString(p.takeError());
  // The 99.9th percentile of |x| is about 0.1: 0.1 * 2^10 = 102.4 fits; the
  // histogram's bins are 1/16 wide here, so allow one position less.
  EXPECT_GT(*p, maxMin);
  EXPECT_GE(*p, 9);
  EXPECT_LE(*p, 10);
}

/// Gaussian activations with a few far outliers.
std::vector<float> gaussianWithOutliers() {
  std::vector<float> v = normal(200000, 1.0, 42);
  for (float o : {20.0f, -19.0f, 18.5f})
    v.push_back(o);
  return v;
}

TEST(ChoosePosition, ErrorMethodsClipOutliers) {
  std::vector<float> v = gaussianWithOutliers();
  TensorStats s = statsOf(v);
  int maxMin = position(s, Method::MaxMin);
  EXPECT_EQ(maxMin, 2); // 20 * 4 = 80 fits, 20 * 8 = 160 does not
  int mse = position(s, Method::MSE);
  int diffs = position(s, Method::Diffs);
  int entropy = position(s, Method::Entropy);
  EXPECT_GE(mse, maxMin);
  EXPECT_GE(diffs, maxMin);
  EXPECT_GE(entropy, maxMin);
  std::printf("gaussian + outliers: maxmin %d, mse %d, diffs %d, entropy %d\n",
              maxMin, mse, diffs, entropy);
  EXPECT_LT(measuredMse(v, mse, kAct), measuredMse(v, maxMin, kAct));
  // MSE's choice is the measured optimum over the window, or next to it
  // (the histogram resolution is the only difference).
  int best = maxMin;
  for (int p = maxMin - 8; p <= maxMin + 8; ++p)
    if (measuredMse(v, p, kAct) <= measuredMse(v, best, kAct))
      best = p;
  EXPECT_LE(std::abs(mse - best), 1) << "measured best " << best;
}

TEST(ChoosePosition, AllMethodsAgreeOnUniformData) {
  // |x| uniform over (0, 0.99]: every value is representable without
  // saturation at p = 7, and p = 8 would clip half of them.
  std::vector<float> v;
  const int n = 100000;
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<float>(0.99 * ((2.0 * i + 1) / n - 1.0)));
  v.push_back(0.99f);
  TensorStats s = statsOf(v);
  for (Method m : {Method::MaxMin, Method::Percentile, Method::Entropy,
                   Method::MSE, Method::Diffs})
    EXPECT_EQ(position(s, m), 7) << methodName(m).str();
}

TEST(ChoosePosition, OneSidedData) {
  // After relu: no negative values.
  std::vector<float> v = normal(100000, 2.0, 7);
  for (float &x : v)
    x = std::max(x, 0.0f);
  TensorStats s = statsOf(v);
  EXPECT_EQ(s.negativeFraction(), 0.0);
  EXPECT_EQ(s.min(), 0.0);
  int maxMin = position(s, Method::MaxMin);
  // 2^-p * 127.5 >= max: the independent check of MaxMin's definition.
  EXPECT_LE(s.max() * std::exp2(maxMin), 127.5);
  EXPECT_GT(s.max() * std::exp2(maxMin + 1), 127.5);
  for (Method m : {Method::Entropy, Method::MSE, Method::Diffs})
    EXPECT_GE(position(s, m), maxMin) << methodName(m).str();
  int mse = position(s, Method::MSE);
  EXPECT_LE(measuredMse(v, mse, kAct), measuredMse(v, maxMin, kAct));
  // The mirrored tensor (all values <= 0) has the same MaxMin position.
  std::vector<float> mirrored(v);
  for (float &x : mirrored)
    x = -x;
  TensorStats ms = statsOf(mirrored);
  EXPECT_EQ(ms.negativeFraction() > 0.0, true);
  EXPECT_EQ(position(ms, Method::MaxMin), maxMin);
}

TEST(ChoosePosition, Errors) {
  TensorStats empty;
  EXPECT_EQ(errorText(choosePosition(empty, Method::MSE, kAct)),
            "no values were observed");
  std::vector<float> bad = {1.0f, std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity()};
  EXPECT_EQ(errorText(choosePosition(statsOf(bad), Method::MaxMin, kAct)),
            "2 values are NaN or infinite");
  EXPECT_EQ(
      errorText(choosePosition(statsOf({0.0f, -0.0f}), Method::Entropy, kAct)),
      "all values are zero");

  EXPECT_EQ(errorText(bestPositionForValues({}, kWeight)),
            "no values were observed");
  EXPECT_EQ(errorText(bestPositionForValues(bad, kWeight)),
            "2 values are NaN or infinite");
  std::vector<float> zeros(10, 0.0f);
  EXPECT_EQ(errorText(bestPositionForValues(zeros, kWeight)),
            "all values are zero");
}

//===----------------------------------------------------------------------===//
// bestPositionForValues
//===----------------------------------------------------------------------===//

/// The position of least squared error over the whole range, ties to the
/// larger position, by direct evaluation of quantize().
int bruteForce(const std::vector<float> &v, const QuantSpec &spec) {
  int best = kMinPosition;
  double bestErr = std::numeric_limits<double>::infinity();
  for (int p = kMinPosition; p <= kMaxPosition; ++p) {
    double err = 0;
    for (float x : v) {
      double d = x - quantize(x, p, spec);
      err += d * d;
    }
    if (err <= bestErr) {
      bestErr = err;
      best = p;
    }
  }
  return best;
}

TEST(BestPositionForValues, MatchesBruteForce) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::vector<float> w = normal(20000, 0.05 * seed, seed);
    for (const QuantSpec &spec : {kWeight, kAct}) {
      llvm::Expected<int> p = bestPositionForValues(w, spec);
      ASSERT_TRUE(static_cast<bool>(p)) << llvm::toString(p.takeError());
      EXPECT_EQ(*p, bruteForce(w, spec)) << "seed " << seed;
    }
  }
  // A few values: exactly representable at p = 3 and beyond, so the largest
  // position without saturation (0.875 * 2^7 = 112) is the tie-winner.
  std::vector<float> exact = {0.125f, -0.875f, 0.5f};
  llvm::Expected<int> p = bestPositionForValues(exact, kWeight);
  ASSERT_TRUE(static_cast<bool>(p));
  EXPECT_EQ(*p, 7);
  EXPECT_EQ(*p, bruteForce(exact, kWeight));
}

//===----------------------------------------------------------------------===//
// Method names
//===----------------------------------------------------------------------===//

TEST(Methods, NamesRoundTrip) {
  for (Method m : {Method::MaxMin, Method::Percentile, Method::Entropy,
                   Method::MSE, Method::Diffs}) {
    std::optional<Method> parsed = parseMethod(methodName(m));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_EQ(methodName(Method::Diffs), "diffs");
  EXPECT_EQ(methodName(Method::MaxMin), "maxmin");
  EXPECT_FALSE(parseMethod("kl").has_value());
  EXPECT_FALSE(parseMethod("").has_value());
  EXPECT_FALSE(parseMethod("auto").has_value());
  EXPECT_FALSE(parseMethod("MSE ").has_value());
}

//===----------------------------------------------------------------------===//
// Timing (printed; the budgets are asserted loosely to stay robust on busy
// machines)
//===----------------------------------------------------------------------===//

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

TEST(Timing, ChoosePosition) {
  std::vector<float> v = gaussianWithOutliers();
  TensorStats s = statsOf(v);
  for (Method m : {Method::MaxMin, Method::Percentile, Method::Entropy,
                   Method::MSE, Method::Diffs}) {
    const int reps = 100;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
      (void)position(s, m);
    double ms = secondsSince(t0) * 1e3 / reps;
    std::printf("choosePosition(%s, 2048 bins): %.4f ms\n",
                methodName(m).str().c_str(), ms);
    EXPECT_LT(ms, 10.0);
  }
}

TEST(Timing, TensorStatsAdd) {
  std::vector<float> v = normal(1 << 22, 1.0, 9);
  TensorStats s;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i)
    s.add(v.data(), static_cast<int64_t>(v.size()));
  double sec = secondsSince(t0);
  std::printf("TensorStats::add: %.2f ns/value (%.0f Mvalues/s)\n",
              sec * 1e9 / (5.0 * v.size()), 5.0 * v.size() / sec / 1e6);
  EXPECT_EQ(s.count(), 5 * static_cast<int64_t>(v.size()));
}

TEST(Timing, BestPositionForValues) {
  std::vector<float> w = normal(2400000, 0.02, 11); // ResNet-50's weights
  for (const QuantSpec &spec : {kWeight, kAct}) {
    auto t0 = std::chrono::steady_clock::now();
    llvm::Expected<int> p = bestPositionForValues(w, spec);
    double sec = secondsSince(t0);
    ASSERT_TRUE(static_cast<bool>(p));
    std::printf("bestPositionForValues(2.4M, %s): %.3f s, p = %d\n",
                spec.round == QuantSpec::Round::Std ? "std" : "dpu", sec, *p);
    EXPECT_LT(sec, 2.0);
  }
}

} // namespace
