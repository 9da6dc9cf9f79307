//===- Calibration.h - Tensor statistics and fix-position choice -*- C++ -*-=//
//
// Calibration collects statistics of each activation tensor while the float
// reference interpreter runs the calibration images, then picks the tensor's
// power-of-two fix position (docs/quantization.md) by one of the methods
// vai_q users know. Everything here is plain arithmetic on float data; the
// quantizer decides which tensors to observe and names them in messages.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_QUANTIZER_CALIBRATION_H
#define VAI_QUANTIZER_CALIBRATION_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vai::quant {

/// The integer grid a tensor is quantized to.
struct QuantSpec {
  int64_t qmin = -127; ///< activations on DPUCADF8H: [-127, 127]
  int64_t qmax = 127;
  enum class Round { Dpu, Std } round = Round::Dpu;
};

/// Quantizes v at position p: clamp(ROUND(v * 2^p), qmin, qmax) * 2^-p.
double quantize(double v, int p, const QuantSpec &spec);

/// Running statistics of one tensor over all calibration batches.
///
/// Keeps the exact min, max, count and NaN/Inf count, and a histogram of |x|
/// with a fixed number of bins over [0, range]. When a batch exceeds the
/// current range, the range grows to the next power of two times the initial
/// bin width and existing bins are merged (counts are never redistributed
/// unevenly), so the histogram stays exact to one bin width no matter the
/// order of the batches. Signed extents are kept separately (sum of counts
/// of negative values) so one-sided tensors (after relu) are recognised.
class TensorStats {
public:
  explicit TensorStats(int64_t bins = 2048);

  /// Adds n values; NaN and Inf are counted but not binned.
  void add(const float *data, int64_t n);

  int64_t count() const { return count_; }
  int64_t nonFinite() const { return nonFinite_; }
  double min() const { return min_; }
  double max() const { return max_; }
  double absMax() const;
  bool allZero() const { return count_ > 0 && absMax() == 0.0; }
  /// Fraction of finite values that are negative.
  double negativeFraction() const;

  int64_t bins() const { return static_cast<int64_t>(hist_.size()); }
  double binWidth() const { return binWidth_; }
  /// Counts of |x| in [i * binWidth, (i + 1) * binWidth).
  llvm::ArrayRef<double> histogram() const { return hist_; }

  /// The smallest t with at least `fraction` of the |x| values <= t
  /// (interpolated within its bin).
  double absPercentile(double fraction) const;

private:
  std::vector<double> hist_;
  double binWidth_ = 0.0;
  int64_t count_ = 0, nonFinite_ = 0, negative_ = 0;
  double min_ = 0.0, max_ = 0.0;
};

enum class Method {
  MaxMin,     ///< the largest position that still represents max |x|
  Percentile, ///< like MaxMin for the given percentile of |x|
  Entropy,    ///< KL divergence between the clipped histogram and its
              ///< quantized form (TensorRT's method)
  MSE,        ///< minimum mean squared quantization error over the histogram
  Diffs,      ///< vai_q's default: minimum mean absolute error (L1)
};

/// "maxmin", "percentile", "entropy", "mse", "diffs".
llvm::StringRef methodName(Method m);
std::optional<Method> parseMethod(llvm::StringRef name);

/// The fix position `method` chooses for a tensor with these statistics.
/// Errors (their text is completed by the caller with the tensor's name):
/// no values observed; all values zero; NaN or Inf among the values.
/// `percentile` is used by Method::Percentile (e.g. 99.99).
llvm::Expected<int> choosePosition(const TensorStats &stats, Method method,
                                   const QuantSpec &spec,
                                   double percentile = 99.99);

/// The position minimising the sum of squared quantization errors of
/// `values` exactly (no histogram): how weights and biases are quantized.
/// Errors on empty, all-zero or non-finite data, as above.
llvm::Expected<int> bestPositionForValues(llvm::ArrayRef<float> values,
                                          const QuantSpec &spec);

/// Positions are searched in [kMinPosition, kMaxPosition].
constexpr int kMinPosition = -32;
constexpr int kMaxPosition = 32;

} // namespace vai::quant

#endif // VAI_QUANTIZER_CALIBRATION_H
