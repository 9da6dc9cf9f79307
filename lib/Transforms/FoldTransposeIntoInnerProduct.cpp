//===- FoldTransposeIntoInnerProduct.cpp ----------------------------------===//

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::vai {
#define GEN_PASS_DEF_FOLDTRANSPOSEINTOINNERPRODUCT
#include "vai/Transforms/Passes.h.inc"
} // namespace mlir::vai

using namespace mlir;
using namespace mlir::vai;

namespace {

struct FoldTransposeIntoInnerProductPass
    : mlir::vai::impl::FoldTransposeIntoInnerProductBase<
          FoldTransposeIntoInnerProductPass> {
  void runOnOperation() override {
    SmallVector<InnerProductOp> candidates;
    getOperation()->walk([&](InnerProductOp ip) { candidates.push_back(ip); });
    for (InnerProductOp ip : candidates)
      fold(ip);
  }

  void fold(InnerProductOp ip) {
    // A flatten at axis 1, or a reshape to [N, rest] (what ONNX exports).
    Operation *flatten = ip.getInput().getDefiningOp();
    auto asFlatten = dyn_cast_or_null<FlattenOp>(flatten);
    auto asReshape = dyn_cast_or_null<ReshapeOp>(flatten);
    if (!(asFlatten && asFlatten.getAxis() == 1) &&
        !(asReshape && asReshape.getType().getRank() == 2 &&
          asReshape.getType().getDimSize(0) ==
              asReshape.getInput().getType().getDimSize(0)))
      return;
    if (!flatten->hasOneUse())
      return;
    auto transpose = flatten->getOperand(0).getDefiningOp<TransposeOp>();
    if (!transpose || !transpose->hasOneUse())
      return;
    ArrayRef<int64_t> perm = transpose.getPerm();
    std::optional<std::vector<float>> w = getConstantF32(ip.getWeight());
    if (perm.empty() || perm[0] != 0 || !w)
      return;
    // x has shape s (batch first); the transposed tensor has shape t with
    // t[i] = s[perm[i]]. Column j of W reads flattened element j of the
    // transposed tensor; W' column k reads element k of x.
    ArrayRef<int64_t> s = transpose.getInput().getType().getShape();
    size_t rank = s.size();
    SmallVector<int64_t> t(rank), tStride(rank, 1);
    for (size_t i = 0; i < rank; ++i)
      t[i] = s[perm[i]];
    for (size_t i = rank - 1; i > 1; --i)
      tStride[i - 1] = tStride[i] * t[i];
    int64_t cols = 1;
    for (size_t i = 1; i < rank; ++i)
      cols *= s[i];
    int64_t rows = static_cast<int64_t>(w->size()) / cols;
    std::vector<float> folded(w->size());
    SmallVector<int64_t> idx(rank, 0); // index into x (dims 1..rank-1)
    for (int64_t k = 0; k < cols; ++k) {
      // Position of x's element idx in the transposed tensor.
      int64_t j = 0;
      for (size_t i = 1; i < rank; ++i)
        j += idx[perm[i]] * tStride[i];
      for (int64_t o = 0; o < rows; ++o)
        folded[o * cols + k] = (*w)[o * cols + j];
      for (size_t d = rank - 1; d >= 1; --d) { // next row-major index
        if (++idx[d] < s[d])
          break;
        idx[d] = 0;
      }
    }
    OpBuilder b(ip);
    auto flatType = RankedTensorType::get({s[0], cols},
                                          transpose.getType().getElementType());
    auto newFlatten = FlattenOp::create(b, flatten->getLoc(), flatType,
                                        transpose.getInput(), 1);
    Value oldWeight = ip.getWeight();
    ConstantOp k = createF32Constant(b, oldWeight.getLoc(), {rows, cols},
                                     folded, "weight");
    ip.getInputMutable().assign(newFlatten);
    ip.getWeightMutable().assign(k);
    flatten->erase();
    transpose.erase();
    if (Operation *def = oldWeight.getDefiningOp(); def && def->use_empty())
      def->erase();
    ++numFolded;
  }
};

} // namespace
