//===- GraphBuilder.cpp - Shared machinery of the importers ---------------===//

#include "vai/Import/GraphBuilder.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;
using namespace mlir::vai;

namespace vai::import {

int64_t nchwAxisToNhwc(int64_t axis) {
  static const int64_t map[4] = {0, 3, 1, 2};
  return axis >= 0 && axis < 4 ? map[axis] : axis;
}

std::vector<float> oihwToOhwi(ArrayRef<float> w, int64_t o, int64_t i,
                              int64_t kh, int64_t kw) {
  std::vector<float> out(w.size());
  for (int64_t a = 0; a < o; ++a)
    for (int64_t b = 0; b < i; ++b)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          out[((a * kh + y) * kw + x) * i + b] =
              w[((a * i + b) * kh + y) * kw + x];
  return out;
}

std::vector<float> iohwToOhwi(ArrayRef<float> w, int64_t ic, int64_t ocPerGroup,
                              int64_t kh, int64_t kw, int64_t groups) {
  int64_t icPerGroup = ic / groups;
  std::vector<float> out(w.size());
  for (int64_t i = 0; i < ic; ++i) {
    int64_t g = i / icPerGroup, il = i % icPerGroup;
    for (int64_t ol = 0; ol < ocPerGroup; ++ol) {
      int64_t o = g * ocPerGroup + ol;
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          out[((o * kh + y) * kw + x) * icPerGroup + il] =
              w[((i * ocPerGroup + ol) * kh + y) * kw + x];
    }
  }
  return out;
}

std::vector<float> depthwiseOihwToMhwc(ArrayRef<float> w, int64_t c, int64_t m,
                                       int64_t kh, int64_t kw) {
  std::vector<float> out(w.size());
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t mi = 0; mi < m; ++mi)
      for (int64_t k = 0; k < kh * kw; ++k)
        out[(mi * kh * kw + k) * c + ci] = w[(ci * m + mi) * kh * kw + k];
  return out;
}

GraphBuilder::GraphBuilder(MLIRContext &context, StringRef file,
                           const ImportOptions &options)
    : builder(&context), fileName(file.str()), opts(options) {
  Location fileLoc = FileLineColLoc::get(&context, fileName, 0, 0);
  module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  func = func::FuncOp::create(builder, fileLoc, opts.functionName,
                              builder.getFunctionType({}, {}));
  body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);
}

Location GraphBuilder::loc(StringRef layer) {
  return NameLoc::get(builder.getStringAttr(layer),
                      FileLineColLoc::get(getContext(), fileName, 0, 0));
}

Type GraphBuilder::placeholderType() {
  return RankedTensorType::get({1}, builder.getF32Type());
}

Value GraphBuilder::inferResult(Operation *op) {
  auto iface = cast<InferTypeOpInterface>(op);
  SmallVector<Type> types;
  if (failed(iface.inferReturnTypes(
          getContext(), op->getLoc(), op->getOperands(),
          op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
          op->getRegions(), types)) ||
      types.size() != 1) {
    op->erase();
    return Value();
  }
  op->getResult(0).setType(types.front());
  return op->getResult(0);
}

NamedAttribute GraphBuilder::attr(StringRef name, ArrayRef<int64_t> v) {
  return builder.getNamedAttr(name, builder.getDenseI64ArrayAttr(v));
}
NamedAttribute GraphBuilder::attr(StringRef name, int64_t v) {
  return builder.getNamedAttr(name, builder.getI64IntegerAttr(v));
}
NamedAttribute GraphBuilder::attr(StringRef name, float v) {
  return builder.getNamedAttr(name, builder.getF32FloatAttr(v));
}
NamedAttribute GraphBuilder::attr(StringRef name, bool v) {
  return builder.getNamedAttr(name, builder.getBoolAttr(v));
}
NamedAttribute GraphBuilder::attr(StringRef name, Attribute v) {
  return builder.getNamedAttr(name, v);
}

Value GraphBuilder::constant(Location loc, ArrayRef<int64_t> shape,
                             ArrayRef<float> data, StringRef name) {
  return createF32Constant(builder, loc, shape, data,
                           name.empty() ? StringRef("weight") : name);
}

Value GraphBuilder::scalarConstant(Location loc, float value) {
  return constant(loc, {1}, {value});
}

Value GraphBuilder::toNHWC(Location loc, Value nchw) {
  return create<TransposeOp>(loc, nchw,
                             {attr("perm", ArrayRef<int64_t>{0, 2, 3, 1})});
}

Value GraphBuilder::toNCHW(Location loc, Value nhwc) {
  return create<TransposeOp>(loc, nhwc,
                             {attr("perm", ArrayRef<int64_t>{0, 3, 1, 2})});
}

Value GraphBuilder::addInput(StringRef name, ArrayRef<int64_t> shape,
                             bool nchw) {
  bool transpose = nchw && shape.size() == 4;
  SmallVector<int64_t> argShape(shape);
  if (transpose && !opts.frameworkLayoutIO)
    argShape = {shape[0], shape[2], shape[3], shape[1]};
  auto type = RankedTensorType::get(argShape, builder.getF32Type());
  Value arg = body->addArgument(type, loc(name));
  if (transpose && opts.frameworkLayoutIO)
    return toNHWC(loc((name + ".to_nhwc").str()), arg);
  return arg;
}

void GraphBuilder::addOutput(StringRef name, Value v, bool nchw) {
  if (nchw && opts.frameworkLayoutIO &&
      cast<RankedTensorType>(v.getType()).getRank() == 4)
    v = toNCHW(loc((name + ".to_nchw").str()), v);
  outputs.push_back(v);
}

OwningOpRef<ModuleOp> GraphBuilder::finish() {
  func::ReturnOp::create(builder, func.getLoc(), outputs);
  func.setType(builder.getFunctionType(body->getArgumentTypes(),
                                       ValueRange(outputs).getTypes()));
  if (failed(verify(*module)))
    return nullptr;
  return std::move(module);
}

} // namespace vai::import
