//===- Dataset.h - Calibration and test inputs ------------------*- C++ -*-===//
//
// Where vai-quantize reads its inputs: a folder of JPEG/PNG images (or .npy
// samples), searched recursively in sorted order, or one .npy file holding
// the samples stacked along its first axis. Each sample becomes one batch
// entry of the model's (single) input, after the preprocessing the user
// gives as `key=value` pairs (on the command line or in a config file).
//
//===----------------------------------------------------------------------===//
#ifndef VAI_QUANTIZER_DATASET_H
#define VAI_QUANTIZER_DATASET_H

#include "vai/Quantizer/Image.h"
#include "vai/Runtime/Tensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace vai::quant {

/// Parses preprocessing options, comma-separated `key=value` (or a bare
/// key): resize=HxW, shorter-side=S, crop=HxW (or S), mean=a[:b:c],
/// scale=a[:b:c] (value = (pixel - mean) * scale), std=a[:b:c] (scale =
/// 1/std), bgr, gray. Later keys override earlier ones in `p`. Errors name
/// the key and what is wrong.
llvm::Error parsePreprocess(llvm::StringRef spec, Preprocess &p);

/// Reads a config file of `key = value` lines ('#' starts a comment) into
/// (key, value) pairs, in order; errors name the file and line.
llvm::Expected<std::vector<std::pair<std::string, std::string>>>
readConfig(llvm::StringRef path);

class Dataset {
public:
  /// Opens a folder (images and .npy samples) or a stacked .npy file. An
  /// empty folder, or a file that is neither, is an error naming it.
  static llvm::Expected<Dataset> open(llvm::StringRef path);

  int64_t size() const { return count; }
  const std::string &path() const { return root; }
  /// Where sample i comes from (file, or "file.npy[i]").
  std::string describe(int64_t i) const;

  /// Sample i as one batch entry of shape `entry` ([C, H, W] or [H, W, C] as
  /// `p.nchw` says for images; any shape for .npy data, which must match it
  /// exactly). Images are preprocessed with `p` (channels taken from
  /// `entry`); .npy samples are converted to float32 and get only the mean
  /// and scale. Errors name the sample and both shapes.
  llvm::Expected<rt::Tensor> sample(int64_t i, const rt::Shape &entry,
                                    const Preprocess &p) const;

private:
  std::string root;
  std::vector<std::string> files; ///< images and .npy samples
  rt::Tensor stacked;             ///< a stacked .npy dataset
  int64_t count = 0;
};

} // namespace vai::quant

#endif // VAI_QUANTIZER_DATASET_H
