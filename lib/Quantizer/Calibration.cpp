//===- Calibration.cpp - Tensor statistics and fix-position choice --------===//
//
// Implements include/vai/Quantizer/Calibration.h. Conventions are those of
// docs/quantization.md: a value is q * 2^-p, DPU_ROUND(x) = floor(x + 0.5),
// STD_ROUND rounds half away from zero, and q saturates to [qmin, qmax].
//
//===----------------------------------------------------------------------===//

#include "vai/Quantizer/Calibration.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

using namespace vai::quant;

namespace {

/// Half-width of the window of positions searched around MaxMin's position
/// by MSE, Diffs, Entropy and bestPositionForValues.
constexpr int kWindow = 8;

/// Rounds y to an integer (as a double) by the spec's rounding mode.
double roundTo(double y, QuantSpec::Round round) {
  if (round == QuantSpec::Round::Dpu)
    return std::floor(y + 0.5);
  return std::round(y); // half away from zero
}

/// quantize() with the scale 2^p and its inverse already computed.
double quantizeScaled(double v, double scale, double invScale,
                      const QuantSpec &spec) {
  double q = roundTo(v * scale, spec.round);
  q = std::clamp(q, static_cast<double>(spec.qmin),
                 static_cast<double>(spec.qmax));
  return q * invScale;
}

/// The largest position p in [kMinPosition, kMaxPosition] with
/// a * 2^p <= qmax + 0.5, i.e. a does not saturate after rounding. Clamps to
/// kMinPosition when no position fits, and gives kMaxPosition for a == 0.
int fitPosition(double a, const QuantSpec &spec) {
  double limit = static_cast<double>(spec.qmax) + 0.5;
  if (!(a > 0.0))
    return kMaxPosition;
  // A first guess from the logarithm, corrected exactly with ldexp.
  double guess = std::floor(std::log2(limit / a));
  int p = static_cast<int>(
      std::clamp(guess, double(kMinPosition) - 1, double(kMaxPosition) + 1));
  while (p > kMinPosition - 1 && std::ldexp(a, p) > limit)
    --p;
  while (p < kMaxPosition + 1 && std::ldexp(a, p + 1) <= limit)
    ++p;
  return std::clamp(p, kMinPosition, kMaxPosition);
}

/// The position in [center - kWindow, center + kWindow] (intersected with
/// [kMinPosition, kMaxPosition]) of least cost; ties go to the larger
/// position (more precision). Costs that are NaN never win; if no cost is
/// finite the center is returned. The one search shared by MSE, Diffs,
/// Entropy and bestPositionForValues.
int searchWindow(int center, llvm::function_ref<double(int)> cost) {
  int hi = std::min(center + kWindow, kMaxPosition);
  int lo = std::max(center - kWindow, kMinPosition);
  int best = center;
  double bestCost = std::numeric_limits<double>::infinity();
  for (int p = hi; p >= lo; --p) {
    double c = cost(p);
    if (c < bestCost) { // strict: the larger position wins ties
      bestCost = c;
      best = p;
    }
  }
  return best;
}

/// The exponent k of the histogram's range 2^k = binWidth * bins.
int rangeExponent(double binWidth, int64_t bins) {
  return static_cast<int>(
      std::lround(std::log2(binWidth * static_cast<double>(bins))));
}

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The errors shared by choosePosition and bestPositionForValues.
llvm::Error checkObserved(int64_t count, int64_t nonFinite, bool allZero) {
  if (count == 0)
    return makeError("no values were observed");
  if (nonFinite > 0)
    return makeError(llvm::Twine(nonFinite) + " values are NaN or infinite");
  if (allZero)
    return makeError("all values are zero");
  return llvm::Error::success();
}

/// Sum over the histogram of count * err(x - quantize(x)) at the bin centres,
/// the sign split by the negative fraction f:
///   E(p) = sum_i h_i * ((1 - f) * err(c_i - Q(c_i)) + f * err(-c_i - Q(-c_i)))
/// with c_i = (i + 0.5) * binWidth. DPU rounding is asymmetric (ties round
/// up), hence both signs.
double histogramError(const TensorStats &stats, int p, const QuantSpec &spec,
                      bool squared) {
  llvm::ArrayRef<double> hist = stats.histogram();
  double w = stats.binWidth();
  double f = stats.negativeFraction();
  double scale = std::ldexp(1.0, p), invScale = std::ldexp(1.0, -p);
  auto err = [&](double x) {
    double d = x - quantizeScaled(x, scale, invScale, spec);
    return squared ? d * d : std::fabs(d);
  };
  double sum = 0.0;
  for (size_t i = 0, e = hist.size(); i != e; ++i) {
    if (hist[i] == 0.0)
      continue;
    double c = (static_cast<double>(i) + 0.5) * w;
    double e2 = (1.0 - f) * err(c);
    if (f > 0.0)
      e2 += f * err(-c);
    sum += hist[i] * e2;
  }
  return sum;
}

/// TensorRT's entropy calibration with the threshold restricted to
/// T = (qmax + 0.5) * 2^-p. With n = max(1, round(T / binWidth)) bins kept
/// (bins beyond the histogram count as empty):
///   P_i = h_i for i < n - 1, P_{n-1} = h_{n-1} + sum_{i >= n} h_i (outliers);
///   the kept bins [0, n) are split into L = qmax + 1 levels, level j being
///   bins [floor(j n / L), floor((j + 1) n / L)); level j's mass is
///   S_j = sum h_i over its bins (without the outliers, as TensorRT does, so
///   that clipping costs divergence), spread evenly over the level's bins
///   where P is non-zero: Q_i = S_j / nz_j (zero bins of P stay zero);
///   p = P / sum P, q = Q / sum Q, KL(p || q) = sum_{P_i > 0} p_i
///   log(p_i / max(q_i, eps)).
/// Per level the sum collapses to (A_j - M_j log sum P) / sum P
/// - (M_j / sum P) log max(S_j / (nz_j sum Q), eps) with M_j = sum P_i,
/// A_j = sum P_i log P_i, computed from prefix sums in O(1); so each
/// candidate costs O(L) after one O(bins) pass.
class EntropyCost {
public:
  EntropyCost(const TensorStats &stats, const QuantSpec &spec)
      : hist(stats.histogram()), width(stats.binWidth()), levels(spec.qmax + 1),
        qmax(spec.qmax) {
    size_t n = hist.size();
    mass.assign(n + 1, 0.0);
    massLog.assign(n + 1, 0.0);
    nonZero.assign(n + 1, 0);
    for (size_t i = 0; i != n; ++i) {
      mass[i + 1] = mass[i] + hist[i];
      massLog[i + 1] = massLog[i] + xlogx(hist[i]);
      nonZero[i + 1] = nonZero[i] + (hist[i] > 0.0);
    }
  }

  double operator()(int p) const {
    const double eps = 1e-12;
    int64_t bins = static_cast<int64_t>(hist.size());
    double t = (static_cast<double>(qmax) + 0.5) * std::ldexp(1.0, -p);
    double nReal = std::min(std::round(t / width), 1e15);
    int64_t n = std::max<int64_t>(1, static_cast<int64_t>(nReal));
    int64_t kept = std::min(n, bins);
    double total = mass[bins];
    double outliers = total - mass[kept];
    double sumQ = mass[kept];
    if (sumQ <= 0.0)
      return std::numeric_limits<double>::infinity();
    double lastH = hist[kept - 1], lastP = lastH + outliers;
    double logTotal = std::log(total);
    // With no more bins than levels every bin is a level of its own; the
    // partition below is then the same with n levels, which keeps the loop
    // O(min(n, L)).
    int64_t numLevels = std::min(levels, n);
    double kl = 0.0;
    for (int64_t j = 0; j < numLevels; ++j) {
      int64_t a = j * n / numLevels, b = (j + 1) * n / numLevels;
      a = std::min(a, kept);
      b = std::min(b, kept);
      if (a >= kept)
        break;
      if (a == b)
        continue;
      double s = mass[b] - mass[a];
      double m = s;
      double aLog = massLog[b] - massLog[a];
      int64_t nz = nonZero[b] - nonZero[a];
      if (b == kept && outliers > 0.0) { // the level holding P_{n-1}
        m += outliers;
        aLog += xlogx(lastP) - xlogx(lastH);
        nz += (lastH > 0.0) ? 0 : 1;
      }
      if (nz == 0)
        continue;
      double q = std::max(s / (static_cast<double>(nz) * sumQ), eps);
      kl += (aLog - m * logTotal) / total - (m / total) * std::log(q);
    }
    return kl;
  }

private:
  static double xlogx(double x) { return x > 0.0 ? x * std::log(x) : 0.0; }

  llvm::ArrayRef<double> hist;
  double width;
  int64_t levels, qmax;
  std::vector<double> mass, massLog; // prefix sums of h and h log h
  std::vector<int64_t> nonZero;      // prefix counts of non-zero bins
};

/// The exact sum of squared errors of quantize() over float values at
/// position p. For grids below 2^20 the rounding is done by truncating
/// conversions, exact for float inputs (y = v * 2^p has a 24-bit mantissa,
/// so y + 0.5 + 2^21 is computed without rounding), which is several times
/// faster than floor(); other grids use quantizeScaled.
double valuesError(llvm::ArrayRef<float> values, int p, const QuantSpec &spec) {
  double scale = std::ldexp(1.0, p), invScale = std::ldexp(1.0, -p);
  const float *data = values.data();
  size_t n = values.size();
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  constexpr double kBig = 1 << 20, kOffset = 2.0 * kBig;
  if (spec.qmax >= kBig || spec.qmin <= -kBig) {
    for (size_t i = 0; i != n; ++i) {
      double d = data[i] - quantizeScaled(data[i], scale, invScale, spec);
      acc[i & 3] += d * d;
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
  double lo = static_cast<double>(spec.qmin),
         hi = static_cast<double>(spec.qmax);
  bool dpu = spec.round == QuantSpec::Round::Dpu;
  auto one = [&](double v) {
    double y = std::clamp(v * scale, lo - 1.0, hi + 1.0);
    double q;
    if (dpu) // floor(y + 0.5), via truncation of a positive number
      q = static_cast<double>(static_cast<int64_t>(y + 0.5 + kOffset)) -
          kOffset;
    else // half away from zero: truncate y +- 0.5
      q = static_cast<double>(static_cast<int64_t>(y + std::copysign(0.5, y)));
    double d = v - std::clamp(q, lo, hi) * invScale;
    return d * d;
  };
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    acc[0] += one(data[i]);
    acc[1] += one(data[i + 1]);
    acc[2] += one(data[i + 2]);
    acc[3] += one(data[i + 3]);
  }
  for (; i != n; ++i)
    acc[0] += one(data[i]);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

} // namespace

double vai::quant::quantize(double v, int p, const QuantSpec &spec) {
  return quantizeScaled(v, std::ldexp(1.0, p), std::ldexp(1.0, -p), spec);
}

//===----------------------------------------------------------------------===//
// TensorStats
//===----------------------------------------------------------------------===//

TensorStats::TensorStats(int64_t bins)
    : hist_(static_cast<size_t>(std::max<int64_t>(bins, 1)), 0.0) {}

double TensorStats::absMax() const {
  return std::max(std::fabs(min_), std::fabs(max_));
}

double TensorStats::negativeFraction() const {
  int64_t finite = count_ - nonFinite_;
  return finite > 0 ? static_cast<double>(negative_) / finite : 0.0;
}

// Two simple passes, branch-free but for the non-finite check: the batch's
// extents and counts, then binning (a scatter, hence scalar). The
// histogram covers [0, 2^k] with 2^k >= max |x|; bin i = floor(|x| * bins *
// 2^-k), the last bin also taking |x| == 2^k. For float x that product is exact
// (24-bit mantissa times a bin count below 2^29, scaled by a power of two), and
// doubling the range maps bin i to bin i / 2, so merging pairs of bins gives
// exactly the histogram the larger range would have had: the result is
// independent of the order of the batches.
void TensorStats::add(const float *data, int64_t n) {
  float mn = std::numeric_limits<float>::infinity();
  float mx = -std::numeric_limits<float>::infinity();
  int64_t bad = 0, neg = 0;
  // Both passes over the data run on every core for large tensors; the
  // results are exact (integer counts), so they do not depend on it.
  constexpr int64_t kParallelFrom = 1 << 16;
#pragma omp parallel for if (n >= kParallelFrom) schedule(static)              \
    reduction(min : mn) reduction(max : mx) reduction(+ : bad, neg)
  for (int64_t i = 0; i < n; ++i) {
    float x = data[i];
    bool finite = std::fabs(x) <= FLT_MAX; // false for NaN and +-Inf
    mn = finite && x < mn ? x : mn;
    mx = finite && x > mx ? x : mx;
    bad += !finite;
    neg += finite && x < 0.0f;
  }
  int64_t finiteCount = n - bad;
  if (finiteCount > 0) {
    if (count_ - nonFinite_ == 0) {
      min_ = mn;
      max_ = mx;
    } else {
      min_ = std::min(min_, static_cast<double>(mn));
      max_ = std::max(max_, static_cast<double>(mx));
    }
  }
  count_ += n;
  nonFinite_ += bad;
  negative_ += neg;
  if (finiteCount == 0)
    return;

  int64_t bins = this->bins();
  double batchAbsMax = std::max(std::fabs(double(mn)), std::fabs(double(mx)));
  if (batchAbsMax > 0.0) {
    // The smallest k with 2^k >= batchAbsMax.
    int e;
    double m = std::frexp(batchAbsMax, &e); // batchAbsMax = m * 2^e
    int k = (m == 0.5) ? e - 1 : e;
    if (binWidth_ == 0.0) {
      binWidth_ = std::ldexp(1.0, k) / static_cast<double>(bins);
    } else {
      int cur = rangeExponent(binWidth_, bins);
      if (k > cur) {
        // Merge groups of 2^(k - cur) bins: new bin i = old bins
        // [i * g, (i + 1) * g).
        int d = k - cur;
        int64_t g =
            d >= 62 ? std::numeric_limits<int64_t>::max() : (int64_t(1) << d);
        for (int64_t i = 0; i < bins; ++i) {
          double h = hist_[i];
          hist_[i] = 0.0;
          hist_[g >= bins ? 0 : i / g] += h;
        }
        binWidth_ = std::ldexp(1.0, k) / static_cast<double>(bins);
      }
    }
  }
  if (binWidth_ == 0.0) { // only zeros so far: they belong in bin 0
    hist_[0] += static_cast<double>(finiteCount);
    return;
  }
  double toBin =
      std::ldexp(static_cast<double>(bins), -rangeExponent(binWidth_, bins));
  double *h = hist_.data();
#pragma omp parallel if (n >= kParallelFrom)
  {
    std::vector<int64_t> local(bins, 0);
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < n; ++i) {
      float ax = std::fabs(data[i]);
      if (!(ax <= FLT_MAX))
        continue;
      int64_t b = static_cast<int64_t>(static_cast<double>(ax) * toBin);
      ++local[b < bins ? b : bins - 1];
    }
#pragma omp critical(vai_tensor_stats_histogram)
    for (int64_t b = 0; b < bins; ++b)
      h[b] += static_cast<double>(local[b]);
  }
}

// Walks the cumulative histogram to the bin where the count reaches
// fraction * total and interpolates linearly inside it, assuming its values
// spread evenly over [i * w, (i + 1) * w). Clamped to absMax().
double TensorStats::absPercentile(double fraction) const {
  double total = 0.0;
  for (double h : hist_)
    total += h;
  if (total <= 0.0 || binWidth_ == 0.0 || !(fraction > 0.0))
    return 0.0;
  double target = std::min(fraction, 1.0) * total;
  double cum = 0.0;
  for (size_t i = 0, e = hist_.size(); i != e; ++i) {
    if (hist_[i] > 0.0 && cum + hist_[i] >= target) {
      double t =
          (static_cast<double>(i) + (target - cum) / hist_[i]) * binWidth_;
      return std::min(t, absMax());
    }
    cum += hist_[i];
  }
  return absMax();
}

//===----------------------------------------------------------------------===//
// Methods
//===----------------------------------------------------------------------===//

llvm::StringRef vai::quant::methodName(Method m) {
  switch (m) {
  case Method::MaxMin:
    return "maxmin";
  case Method::Percentile:
    return "percentile";
  case Method::Entropy:
    return "entropy";
  case Method::MSE:
    return "mse";
  case Method::Diffs:
    return "diffs";
  }
  return "unknown";
}

std::optional<Method> vai::quant::parseMethod(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Method>>(name)
      .Case("maxmin", Method::MaxMin)
      .Case("percentile", Method::Percentile)
      .Case("entropy", Method::Entropy)
      .Case("mse", Method::MSE)
      .Case("diffs", Method::Diffs)
      .Default(std::nullopt);
}

llvm::Expected<int> vai::quant::choosePosition(const TensorStats &stats,
                                               Method method,
                                               const QuantSpec &spec,
                                               double percentile) {
  if (llvm::Error err =
          checkObserved(stats.count(), stats.nonFinite(), stats.allZero()))
    return std::move(err);
  int maxMin = fitPosition(stats.absMax(), spec);
  switch (method) {
  case Method::MaxMin:
    return maxMin;
  case Method::Percentile:
    return fitPosition(stats.absPercentile(percentile / 100.0), spec);
  case Method::MSE:
    return searchWindow(maxMin, [&](int p) {
      return histogramError(stats, p, spec, /*squared=*/true);
    });
  case Method::Diffs:
    return searchWindow(maxMin, [&](int p) {
      return histogramError(stats, p, spec, /*squared=*/false);
    });
  case Method::Entropy: {
    EntropyCost cost(stats, spec);
    return searchWindow(maxMin, [&](int p) { return cost(p); });
  }
  }
  return maxMin;
}

llvm::Expected<int>
vai::quant::bestPositionForValues(llvm::ArrayRef<float> values,
                                  const QuantSpec &spec) {
  int64_t nonFinite = 0;
  double absMax = 0.0;
  for (float v : values) {
    float a = std::fabs(v);
    nonFinite += !(a <= FLT_MAX);
    absMax = a <= FLT_MAX && a > absMax ? a : absMax;
  }
  if (llvm::Error err = checkObserved(static_cast<int64_t>(values.size()),
                                      nonFinite, absMax == 0.0))
    return std::move(err);
  return searchWindow(fitPosition(absMax, spec),
                      [&](int p) { return valuesError(values, p, spec); });
}
