//===- Kernel.h - Prepared kernels of the interpreter (internal) -*- C++ -*-=//
#ifndef VAI_LIB_INTERPRETER_KERNEL_H
#define VAI_LIB_INTERPRETER_KERNEL_H

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Runtime/Kernels.h"
#include "vai/Runtime/Tensor.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <optional>
#include <vector>

namespace vai {

using Inputs = std::vector<const rt::Tensor *>;
/// Computes one op's result from its operands' tensors.
using Kernel = std::function<rt::Tensor(const Inputs &)>;
/// The host tensors of the function's constants (including `vai.fix` of a
/// constant, evaluated at preparation).
using ConstantMap = llvm::DenseMap<mlir::Value, const rt::Tensor *>;

inline rt::Shape shapeOf(mlir::Value v) {
  auto s = mlir::cast<mlir::RankedTensorType>(v.getType()).getShape();
  return rt::Shape(s.begin(), s.end());
}

/// The runtime geometry of a conv2d, depthwise_conv2d or transposed_conv2d
/// (groups left at 1).
template <typename ConvOp> rt::ConvGeometry convGeometry(ConvOp op) {
  rt::ConvGeometry g;
  rt::Shape in = shapeOf(op.getInput()), w = shapeOf(op.getWeight()),
            out = shapeOf(op.getOutput());
  g.n = in[0], g.ih = in[1], g.iw = in[2], g.ic = in[3];
  g.kh = w[1], g.kw = w[2], g.oc = out[3];
  g.oh = out[1], g.ow = out[2];
  llvm::ArrayRef<int64_t> s = op.getStrides(), p = op.getPad(),
                          d = op.getDilations();
  g.strideH = s[0], g.strideW = s[1];
  g.padTop = p[0], g.padBottom = p[1], g.padLeft = p[2], g.padRight = p[3];
  g.dilH = d[0], g.dilW = d[1];
  return g;
}

template <typename PoolOp> rt::PoolGeometry poolGeometry(PoolOp op) {
  rt::PoolGeometry g;
  rt::Shape in = shapeOf(op.getInput()), out = shapeOf(op.getOutput());
  g.n = in[0], g.ih = in[1], g.iw = in[2], g.c = in[3];
  g.oh = out[1], g.ow = out[2];
  llvm::ArrayRef<int64_t> k = op.getKernel(), s = op.getStrides(),
                          p = op.getPad();
  g.kh = k[0], g.kw = k[1], g.strideH = s[0], g.strideW = s[1];
  g.padTop = p[0], g.padBottom = p[1], g.padLeft = p[2], g.padRight = p[3];
  return g;
}

/// Depthwise weights [M, KH, KW, C] as grouped OHWI [C * M, KH, KW, 1]
/// (output channel c * M + m).
template <typename T>
std::vector<T> depthwiseToGroupedOhwi(const T *w, const rt::Shape &shape) {
  int64_t m = shape[0], khw = shape[1] * shape[2], c = shape[3];
  std::vector<T> ohwi(m * khw * c);
  for (int64_t mi = 0; mi < m; ++mi)
    for (int64_t k = 0; k < khw; ++k)
      for (int64_t ci = 0; ci < c; ++ci)
        ohwi[(ci * m + mi) * khw + k] = w[(mi * khw + k) * c + ci];
  return ohwi;
}

/// The integer kernel of a quantized op (docs/quantization.md) whose integer
/// semantics differ from its float semantics followed by the output fix:
/// conv2d, depthwise_conv2d, transposed_conv2d, inner_product, add,
/// avg_pool2d and global_avg_pool2d, with 8-bit fix ops. nullopt when `op`
/// is not such an op, or its integer semantics are not defined (a negative
/// bias shift, an add that broadcasts, a leaky relu slope other than 0.1):
/// the float kernel then runs, followed by the output fix. For every other
/// op between fix ops (copies, max pooling, concat, relu) the float kernel
/// followed by the fix equals the integer semantics exactly.
std::optional<Kernel> prepareQuantized(mlir::Operation *op,
                                       const ConstantMap &constants);

} // namespace vai

#endif // VAI_LIB_INTERPRETER_KERNEL_H
