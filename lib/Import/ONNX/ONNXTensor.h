//===- ONNXTensor.h - Constant tensors of the ONNX importer -----*- C++ -*-===//
//
// Initializers, Constant nodes and folded shape computations are held as
// ConstTensor (ONNX's row-major order, values widened to double). The helpers
// here parse TensorProto and fold the few operators torch.onnx.export emits
// on constant shapes.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_ONNX_ONNXTENSOR_H
#define VAI_LIB_IMPORT_ONNX_ONNXTENSOR_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace vai::import::onnx_import {

struct ConstTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  /// Integer element type (shapes, indices): folded results are truncated.
  bool isInteger = false;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  std::vector<float> floats() const { return {data.begin(), data.end()}; }
  /// The values as integers, saturated to the int64 range (INT64_MAX, as
  /// Slice uses for "to the end", does not survive the trip through double).
  std::vector<int64_t> ints() const;
};

int64_t numElements(llvm::ArrayRef<int64_t> shape);

/// Parses a TensorProto (raw_data or typed fields; float, double, float16,
/// integer and bool types). Returns false with `error` set otherwise.
bool parseTensor(const onnx::TensorProto &proto, ConstTensor &out,
                 std::string &error);

/// NumPy-broadcast element-wise `fn(a, b)`; false when shapes do not
/// broadcast.
bool foldBinary(const ConstTensor &a, const ConstTensor &b,
                const std::function<double(double, double)> &fn,
                ConstTensor &out);

/// out.shape[i] = in.shape[perm[i]].
ConstTensor transposeConst(const ConstTensor &in, llvm::ArrayRef<int64_t> perm);

/// Pads the shape with leading 1s up to `rank`.
ConstTensor padRank(const ConstTensor &in, int64_t rank);

/// One dimension of a resolved ONNX Slice: `size` elements from `start` in
/// steps of `step` (which may be negative).
struct SliceDim {
  int64_t start = 0, size = 0, step = 1;
};
/// Resolves ONNX Slice's starts/ends/axes/steps (clamping as the spec does)
/// against `shape`; false with `error` on bad axes or a zero step.
bool resolveSlice(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> starts,
                  llvm::ArrayRef<int64_t> ends, llvm::ArrayRef<int64_t> axes,
                  llvm::ArrayRef<int64_t> steps, std::vector<SliceDim> &dims,
                  std::string &error);
ConstTensor sliceConst(const ConstTensor &in, llvm::ArrayRef<SliceDim> dims);

/// Gather along `axis` with (possibly negative) indices; false when out of
/// range.
bool gatherConst(const ConstTensor &data, const ConstTensor &indices,
                 int64_t axis, ConstTensor &out);

} // namespace vai::import::onnx_import

#endif // VAI_LIB_IMPORT_ONNX_ONNXTENSOR_H
