//===- ONNXImporterImpl.h - The ONNX importer's state -----------*- C++ -*-===//
//
// The Importer class shared by ONNXImporter.cpp (values, layout, driver) and
// ONNXOperators.cpp (one handler per ONNX operator). Every ONNX value is a
// Tensor: a constant or an MLIR value, NHWC when it is a 4-D activation.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_ONNX_ONNXIMPORTERIMPL_H
#define VAI_LIB_IMPORT_ONNX_ONNXIMPORTERIMPL_H

#include "ONNXTensor.h"

#include "vai/Import/GraphBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vai::import::onnx_import {

using namespace mlir;
using namespace mlir::vai;

/// An input index that is never present (for attribute-only forms).
constexpr int kNoInput = -1;
constexpr int64_t kToNHWC[4] = {0, 2, 3, 1};
constexpr int64_t kToNCHW[4] = {0, 3, 1, 2};

/// One ONNX value: a constant or an MLIR value (NHWC when `nhwc`).
struct Tensor {
  Value value;
  bool nhwc = false;
  std::shared_ptr<ConstTensor> constant;

  bool isConstant() const { return constant != nullptr; }
  /// Shape in ONNX's order.
  std::vector<int64_t> shape() const {
    if (constant)
      return constant->shape;
    auto dims = cast<RankedTensorType>(value.getType()).getShape();
    std::vector<int64_t> s(dims.begin(), dims.end());
    if (nhwc)
      s = {s[0], s[3], s[1], s[2]};
    return s;
  }
  int64_t rank() const { return static_cast<int64_t>(shape().size()); }
};

/// The attributes of a node by name, with typed getters and defaults.
class Attrs {
public:
  explicit Attrs(const onnx::NodeProto &node) {
    for (const onnx::AttributeProto &a : node.attribute())
      map[a.name()] = &a;
  }
  bool has(StringRef name) const { return map.count(name); }
  int64_t getInt(StringRef name, int64_t def) const {
    auto *a = get(name);
    return a ? a->i() : def;
  }
  float getFloat(StringRef name, float def) const {
    auto *a = get(name);
    return a ? a->f() : def;
  }
  std::string getString(StringRef name, StringRef def) const {
    auto *a = get(name);
    return a ? a->s() : def.str();
  }
  std::vector<int64_t> getInts(StringRef name,
                               std::vector<int64_t> def = {}) const {
    auto *a = get(name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
  }
  std::vector<float> getFloats(StringRef name) const {
    auto *a = get(name);
    return a ? std::vector<float>(a->floats().begin(), a->floats().end())
             : std::vector<float>();
  }
  const onnx::TensorProto *getTensor(StringRef name) const {
    auto *a = get(name);
    return a && a->has_t() ? &a->t() : nullptr;
  }

private:
  const onnx::AttributeProto *get(StringRef name) const {
    auto it = map.find(name);
    return it == map.end() ? nullptr : it->second;
  }
  llvm::StringMap<const onnx::AttributeProto *> map;
};

/// The spatial geometry of a convolution or pooling window in vai's terms.
struct Window {
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> pad; // [top, bottom, left, right]
};

/// "[4, 3, 3, 3]" for diagnostics.
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

enum class BinaryKind { Add, Sub, Mul, Div };

class Importer {
public:
  Importer(MLIRContext &context, StringRef display, const ImportOptions &opts)
      : gb(context, display, opts), display(display.str()) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

private:
  using Handler = LogicalResult (Importer::*)(const onnx::NodeProto &);
  static const llvm::StringMap<Handler> &handlers();
  static std::string supportedList();

  // Diagnostics.
  Location nodeLoc(const onnx::NodeProto &node) {
    return gb.loc(node.name().empty() ? node.output(0) : node.name());
  }
  InFlightDiagnostic error(const onnx::NodeProto &node) {
    return emitError(nodeLoc(node))
           << display << ": node '"
           << (node.name().empty() ? node.output(0) : node.name()) << "' ("
           << node.op_type() << "): ";
  }
  LogicalResult fail(const onnx::NodeProto &node, const Twine &msg) {
    error(node) << msg;
    return failure();
  }

  // Values.
  bool hasInput(const onnx::NodeProto &node, int i) {
    return i >= 0 && i < node.input_size() && !node.input(i).empty();
  }
  const Tensor *input(const onnx::NodeProto &node, int i);
  const ConstTensor *constInput(const onnx::NodeProto &node, int i,
                                StringRef what);
  const Tensor *activationInput(const onnx::NodeProto &node, int i, int rank);
  LogicalResult define(const onnx::NodeProto &node, Tensor t, int i = 0);
  LogicalResult defineConst(const onnx::NodeProto &node, ConstTensor c) {
    return define(node, Tensor{{}, false, std::make_shared<ConstTensor>(c)});
  }
  LogicalResult defineValue(const onnx::NodeProto &node, Value v, bool nhwc) {
    if (!v)
      return fail(node, "cannot be expressed as vai ops (see the error above)");
    return define(node, Tensor{v, nhwc, nullptr});
  }

  // Layout.
  Value materialize(const Tensor &t, Location loc);
  Value onnxOrder(const Tensor &t, Location loc);
  LogicalResult defineOnnxOrder(const onnx::NodeProto &node, Value v,
                                int i = 0);
  /// GraphBuilder::create, but null (the error already reported) when an
  /// operand could not be built.
  template <typename OpTy>
  Value build(Location loc, ValueRange operands,
              ArrayRef<NamedAttribute> attrs = {}) {
    if (llvm::any_of(operands, [](Value v) { return !v; }))
      return Value();
    return gb.create<OpTy>(loc, operands, attrs);
  }
  Value toNHWC(Location loc, Value v) { return v ? gb.toNHWC(loc, v) : v; }
  Value toNCHW(Location loc, Value v) { return v ? gb.toNCHW(loc, v) : v; }
  Value transpose(Location loc, Value v, ArrayRef<int64_t> perm) {
    return build<TransposeOp>(loc, v, {gb.attr("perm", perm)});
  }
  Value reshape(Location loc, Value v, ArrayRef<int64_t> shape) {
    return build<ReshapeOp>(loc, v, {gb.attr("shape", shape)});
  }
  /// Defines the node's output as `x` with a new shape (ONNX order): a
  /// constant stays constant, a value gets a reshape in ONNX order.
  LogicalResult defineReshaped(const onnx::NodeProto &node, const Tensor &x,
                               ArrayRef<int64_t> shape) {
    if (x.isConstant()) {
      ConstTensor c = *x.constant;
      c.shape.assign(shape.begin(), shape.end());
      return defineConst(node, c);
    }
    Location loc = nodeLoc(node);
    return defineOnnxOrder(node, reshape(loc, onnxOrder(x, loc), shape));
  }
  Value toNhwcOperand(const Tensor &t, Location loc);
  template <typename Fn>
  LogicalResult perChannel(const onnx::NodeProto &node, const Tensor &x, Fn fn);

  // Shared geometry and broadcasting.
  LogicalResult window(const onnx::NodeProto &node, const Attrs &attrs,
                       ArrayRef<int64_t> inHW, ArrayRef<int64_t> kernel,
                       bool transposed, Window &w);
  LogicalResult binary(const onnx::NodeProto &node, BinaryKind kind);
  std::optional<int64_t> axisAttr(const onnx::NodeProto &node, int64_t axis,
                                  int64_t rank);
  std::optional<std::vector<int64_t>> axesOf(const onnx::NodeProto &node,
                                             int inputIndex, int64_t rank);
  LogicalResult activation(const onnx::NodeProto &node,
                           const std::function<Value(Location, Value)> &fn);

  // Operators.
  LogicalResult convert(const onnx::NodeProto &node);
  LogicalResult onConv(const onnx::NodeProto &node);
  LogicalResult onConvTranspose(const onnx::NodeProto &node);
  LogicalResult onGemm(const onnx::NodeProto &node);
  LogicalResult onMatMul(const onnx::NodeProto &node);
  LogicalResult onBatchNorm(const onnx::NodeProto &node);
  LogicalResult onPool(const onnx::NodeProto &node);
  LogicalResult onGlobalPool(const onnx::NodeProto &node);
  LogicalResult onRelu(const onnx::NodeProto &node);
  LogicalResult onLeakyRelu(const onnx::NodeProto &node);
  LogicalResult onPRelu(const onnx::NodeProto &node);
  LogicalResult onClip(const onnx::NodeProto &node);
  LogicalResult onSigmoid(const onnx::NodeProto &node);
  LogicalResult onTanh(const onnx::NodeProto &node);
  LogicalResult onHardSigmoid(const onnx::NodeProto &node);
  LogicalResult onAdd(const onnx::NodeProto &n) {
    return binary(n, BinaryKind::Add);
  }
  LogicalResult onSub(const onnx::NodeProto &n) {
    return binary(n, BinaryKind::Sub);
  }
  LogicalResult onMul(const onnx::NodeProto &n) {
    return binary(n, BinaryKind::Mul);
  }
  LogicalResult onDiv(const onnx::NodeProto &n) {
    return binary(n, BinaryKind::Div);
  }
  LogicalResult onConcat(const onnx::NodeProto &node);
  LogicalResult onSplit(const onnx::NodeProto &node);
  LogicalResult onSlice(const onnx::NodeProto &node);
  LogicalResult onReshape(const onnx::NodeProto &node);
  LogicalResult onFlatten(const onnx::NodeProto &node);
  LogicalResult onTranspose(const onnx::NodeProto &node);
  LogicalResult onSqueeze(const onnx::NodeProto &node);
  LogicalResult onUnsqueeze(const onnx::NodeProto &node);
  LogicalResult onPad(const onnx::NodeProto &node);
  LogicalResult onResize(const onnx::NodeProto &node);
  LogicalResult onSoftmax(const onnx::NodeProto &node);
  LogicalResult onReduceMean(const onnx::NodeProto &node);
  LogicalResult onConstant(const onnx::NodeProto &node);
  LogicalResult onIdentity(const onnx::NodeProto &node);
  LogicalResult onCast(const onnx::NodeProto &node);
  LogicalResult onShape(const onnx::NodeProto &node);
  LogicalResult onGather(const onnx::NodeProto &node);
  LogicalResult onConstantOfShape(const onnx::NodeProto &node);

  GraphBuilder gb;
  std::string display;
  int64_t opset = 13;
  llvm::StringMap<Tensor> values;
};

/// Runs `fn(channelsLastValue)` for a per-channel op on the channel axis 1
/// of `x`: NHWC and 2-D values already have channels last; other ranks are
/// transposed there and back.
template <typename Fn>
LogicalResult Importer::perChannel(const onnx::NodeProto &node, const Tensor &x,
                                   Fn fn) {
  Location loc = nodeLoc(node);
  int64_t rank = x.rank();
  if (x.nhwc || rank == 2)
    return defineValue(node, fn(materialize(x, loc)), x.nhwc);
  if (rank < 2)
    return fail(node, "expects an input of rank >= 2");
  std::vector<int64_t> perm = {0};
  for (int64_t i = 2; i < rank; ++i)
    perm.push_back(i);
  perm.push_back(1);
  std::vector<int64_t> inverse(rank);
  for (int64_t i = 0; i < rank; ++i)
    inverse[perm[i]] = i;
  Value v = fn(transpose(loc, materialize(x, loc), perm));
  if (!v)
    return failure();
  return defineOnnxOrder(node, transpose(loc, v, inverse));
}

} // namespace vai::import::onnx_import

#endif // VAI_LIB_IMPORT_ONNX_ONNXIMPORTERIMPL_H
