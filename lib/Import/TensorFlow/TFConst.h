//===- TFConst.h - Constant tensors of the TensorFlow importer --*- C++ -*-===//
//
// Const nodes and everything TensorFlow computes from them (shape arithmetic,
// the unfused batch norm's parameters, casts) are evaluated at import time as
// ConstTensor: row-major values in TensorFlow's own order, widened to double.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_TENSORFLOW_TFCONST_H
#define VAI_LIB_IMPORT_TENSORFLOW_TFCONST_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vai_tf {
class TensorProto;
class TensorShapeProto;
} // namespace vai_tf

namespace vai::import::tf_import {

struct ConstTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  /// Integer or bool element type: arithmetic on it stays integral.
  bool isInteger = false;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  std::vector<float> floats() const { return {data.begin(), data.end()}; }
  std::vector<int64_t> ints() const;
};

/// Product of the dimensions.
int64_t elementCount(llvm::ArrayRef<int64_t> shape);

/// "[a, b, c]" for diagnostics.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// Reads a TensorProto (tensor_content or the typed *_val fields, with
/// TensorFlow's "last value repeats" rule) of a float, integer or bool type.
/// Returns an explanation when it cannot.
std::optional<std::string> parseTensor(const vai_tf::TensorProto &proto,
                                       ConstTensor &out);

/// The dimensions of a TensorShapeProto (-1 for unknown ones); nullopt when
/// the rank itself is unknown.
std::optional<std::vector<int64_t>>
shapeFromProto(const vai_tf::TensorShapeProto &proto);

/// Element-wise `fn(a, b)` with NumPy broadcasting; nullopt when the shapes
/// do not broadcast.
std::optional<ConstTensor>
broadcastConst(const ConstTensor &a, const ConstTensor &b,
               const std::function<double(double, double)> &fn);

/// out.shape[i] = in.shape[perm[i]].
ConstTensor permuteConst(const ConstTensor &in, llvm::ArrayRef<int64_t> perm);

/// Joins constants of equal rank along `axis`; nullopt when other dimensions
/// differ.
std::optional<ConstTensor> concatConst(llvm::ArrayRef<const ConstTensor *> in,
                                       int64_t axis);

/// TensorFlow's StridedSlice resolved against a known input shape: per input
/// dimension the first index, element count and step, and the shape of the
/// result after new axes are inserted and shrunk axes dropped.
struct StridedSliceSpec {
  std::vector<int64_t> begin, size, step;
  std::vector<int64_t> resultShape;
};
/// Resolves begin/end/strides and the five masks the way TensorFlow does
/// (ellipsis expansion, negative indices, clamping); an explanation when the
/// spec is invalid for `shape`.
std::optional<std::string>
resolveStridedSlice(llvm::ArrayRef<int64_t> shape,
                    llvm::ArrayRef<int64_t> begin, llvm::ArrayRef<int64_t> end,
                    llvm::ArrayRef<int64_t> strides, int64_t beginMask,
                    int64_t endMask, int64_t ellipsisMask, int64_t newAxisMask,
                    int64_t shrinkAxisMask, StridedSliceSpec &spec);

/// Applies a resolved slice to a constant.
ConstTensor sliceConst(const ConstTensor &in, const StridedSliceSpec &spec);

} // namespace vai::import::tf_import

#endif // VAI_LIB_IMPORT_TENSORFLOW_TFCONST_H
