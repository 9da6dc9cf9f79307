//===- TFImporterImpl.h - The TensorFlow importer's state -------*- C++ -*-===//
//
// The Importer class shared by TFImporter.cpp (reading the GraphDef,
// choosing inputs and outputs, ordering the nodes) and TFOps.cpp (one handler
// per TensorFlow op). Every node output is a Tensor: a constant evaluated at
// import time or an MLIR value. Values keep TensorFlow's own layout (NHWC for
// the default data_format, which is vai's), so only NCHW ops need
// transposes, around the op itself.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_TENSORFLOW_TFIMPORTERIMPL_H
#define VAI_LIB_IMPORT_TENSORFLOW_TFIMPORTERIMPL_H

#include "TFConst.h"
#include "graph.pb.h"

#include "vai/Import/GraphBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vai::import::tf_import {

using namespace mlir;
using namespace mlir::vai;
using vai_tf::NodeDef;

/// One node output: a constant or an MLIR value, in TensorFlow's layout.
struct Tensor {
  Value value;
  std::shared_ptr<ConstTensor> constant;
  /// Name hint for the vai.constant a constant becomes (its Const node).
  std::string constName;

  bool isConstant() const { return constant != nullptr; }
  std::vector<int64_t> shape() const {
    if (constant)
      return constant->shape;
    auto dims = cast<RankedTensorType>(value.getType()).getShape();
    return {dims.begin(), dims.end()};
  }
  int64_t rank() const { return static_cast<int64_t>(shape().size()); }
};

/// "node:2" -> {"node", 2}; "^node" is a control input.
struct TensorRef {
  std::string node;
  int index = 0;
  bool control = false;
};
TensorRef parseRef(llvm::StringRef ref);

/// A dense resource name for a constant from its Const node's name.
std::string resourceName(llvm::StringRef node);

/// The attributes of a node, with typed getters and defaults.
class Attrs {
public:
  explicit Attrs(const NodeDef &node) : node(node) {}
  const vai_tf::AttrValue *get(llvm::StringRef name) const {
    auto it = node.attr().find(name.str());
    return it == node.attr().end() ? nullptr : &it->second;
  }
  int64_t getInt(llvm::StringRef name, int64_t def) const {
    auto *a = get(name);
    return a && a->value_case() == vai_tf::AttrValue::kI ? a->i() : def;
  }
  float getFloat(llvm::StringRef name, float def) const {
    auto *a = get(name);
    return a && a->value_case() == vai_tf::AttrValue::kF ? a->f() : def;
  }
  bool getBool(llvm::StringRef name, bool def) const {
    auto *a = get(name);
    return a && a->value_case() == vai_tf::AttrValue::kB ? a->b() : def;
  }
  std::string getString(llvm::StringRef name, llvm::StringRef def) const {
    auto *a = get(name);
    return a && a->value_case() == vai_tf::AttrValue::kS ? a->s() : def.str();
  }
  std::vector<int64_t> getInts(llvm::StringRef name,
                               std::vector<int64_t> def = {}) const {
    auto *a = get(name);
    if (!a || a->value_case() != vai_tf::AttrValue::kList)
      return def;
    return {a->list().i().begin(), a->list().i().end()};
  }
  vai_tf::DataType getType(llvm::StringRef name) const {
    auto *a = get(name);
    return a && a->value_case() == vai_tf::AttrValue::kType
               ? a->type()
               : vai_tf::DT_INVALID;
  }

private:
  const NodeDef &node;
};

/// The spatial geometry of a convolution or pooling window in vai's terms.
struct Window {
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> pad; // [top, bottom, left, right]
};

enum class BinaryKind { Add, Sub, Mul, Div, FloorDiv, Max, Min };

class Importer {
public:
  Importer(MLIRContext &context, llvm::StringRef display,
           const ImportOptions &opts)
      : gb(context, display, opts), display(display.str()) {}

  OwningOpRef<ModuleOp> run(const vai_tf::GraphDef &graph);

private:
  using Handler = LogicalResult (Importer::*)(const NodeDef &);
  static const llvm::StringMap<Handler> &handlers();
  static std::string supportedList();

  // Driver (TFImporter.cpp).
  LogicalResult indexGraph(const vai_tf::GraphDef &graph);
  LogicalResult chooseOutputs(std::vector<TensorRef> &outputs);
  LogicalResult order(llvm::ArrayRef<TensorRef> outputs,
                      std::vector<const NodeDef *> &sorted);
  LogicalResult addInputs(llvm::ArrayRef<const NodeDef *> sorted);
  std::optional<std::vector<int64_t>> inputShape(const NodeDef &node,
                                                 int index);
  LogicalResult convert(const NodeDef &node);

  // Diagnostics.
  Location nodeLoc(const NodeDef &node) { return gb.loc(node.name()); }
  InFlightDiagnostic error(const NodeDef &node) {
    return emitError(nodeLoc(node)) << display << ": node '" << node.name()
                                    << "' (" << node.op() << "): ";
  }
  LogicalResult fail(const NodeDef &node, const llvm::Twine &msg) {
    error(node) << msg;
    return failure();
  }
  InFlightDiagnostic fileError() {
    return emitError(FileLineColLoc::get(gb.getContext(), display, 0, 0))
           << display << ": ";
  }

  // Values.
  int dataInputCount(const NodeDef &node) const;
  const Tensor *input(const NodeDef &node, int i);
  const ConstTensor *constInput(const NodeDef &node, int i,
                                llvm::StringRef what);
  const Tensor *activationInput(const NodeDef &node, int i, int rank);
  std::optional<std::vector<int64_t>> intsInput(const NodeDef &node, int i,
                                                llvm::StringRef what);
  Value materialize(const Tensor &t, Location loc);
  Value operand(const NodeDef &node, int i) {
    const Tensor *t = input(node, i);
    return t ? materialize(*t, nodeLoc(node)) : Value();
  }
  LogicalResult define(const NodeDef &node, Tensor t, int index = 0) {
    auto &outs = values[node.name()];
    if (static_cast<int>(outs.size()) <= index)
      outs.resize(index + 1);
    outs[index] = std::move(t);
    return success();
  }
  LogicalResult defineConst(const NodeDef &node, ConstTensor c) {
    return define(
        node,
        Tensor{{}, std::make_shared<ConstTensor>(std::move(c)), node.name()});
  }
  LogicalResult defineValue(const NodeDef &node, Value v) {
    if (!v)
      return fail(node, "cannot be expressed as vai ops (see the error above)");
    return define(node, Tensor{v, nullptr, ""});
  }
  /// GraphBuilder::create, but null (the error already reported) when an
  /// operand could not be built.
  template <typename OpTy>
  Value build(Location loc, ValueRange operands,
              llvm::ArrayRef<NamedAttribute> attrs = {}) {
    if (llvm::any_of(operands, [](Value v) { return !v; }))
      return Value();
    return gb.create<OpTy>(loc, operands, attrs);
  }
  Value reshape(Location loc, Value v, llvm::ArrayRef<int64_t> shape) {
    return build<ReshapeOp>(loc, v, {gb.attr("shape", shape)});
  }

  // Layout and geometry (TFOps.cpp).
  std::optional<bool> isNCHW(const NodeDef &node);
  Value toNHWC(Location loc, Value v, bool nchw) {
    return nchw && v ? gb.toNHWC(loc, v) : v;
  }
  Value fromNHWC(Location loc, Value v, bool nchw) {
    return nchw && v ? gb.toNCHW(loc, v) : v;
  }
  LogicalResult window(const NodeDef &node, bool nchw,
                       llvm::ArrayRef<int64_t> inHW,
                       llvm::ArrayRef<int64_t> kernel, Window &w);
  LogicalResult binary(const NodeDef &node, BinaryKind kind);
  LogicalResult clampToRelu6(const NodeDef &node, const Tensor &x, float bound,
                             bool isMax, Value &result);
  std::optional<int64_t> axis(const NodeDef &node, int64_t a, int64_t rank);
  template <typename OpTy>
  LogicalResult unary(const NodeDef &node,
                      llvm::ArrayRef<NamedAttribute> attrs = {}) {
    return defineValue(node,
                       build<OpTy>(nodeLoc(node), operand(node, 0), attrs));
  }

  // Ops.
  LogicalResult onConst(const NodeDef &node);
  LogicalResult onPlaceholder(const NodeDef &node);
  LogicalResult onIdentity(const NodeDef &node);
  LogicalResult onIdentityN(const NodeDef &node);
  LogicalResult onCast(const NodeDef &node);
  /// The constant filter input `i` with its dimensions permuted.
  Value filter(const NodeDef &node, int i, llvm::ArrayRef<int64_t> perm);
  LogicalResult onConv(const NodeDef &node);
  LogicalResult onConv2DBackpropInput(const NodeDef &node);
  LogicalResult onMatMul(const NodeDef &node);
  LogicalResult onBiasAdd(const NodeDef &node);
  LogicalResult onFusedBatchNorm(const NodeDef &node);
  LogicalResult onAdd(const NodeDef &n) { return binary(n, BinaryKind::Add); }
  LogicalResult onSub(const NodeDef &n) { return binary(n, BinaryKind::Sub); }
  LogicalResult onMul(const NodeDef &n) { return binary(n, BinaryKind::Mul); }
  LogicalResult onDiv(const NodeDef &n) { return binary(n, BinaryKind::Div); }
  LogicalResult onFloorDiv(const NodeDef &n) {
    return binary(n, BinaryKind::FloorDiv);
  }
  LogicalResult onMaximum(const NodeDef &n) {
    return binary(n, BinaryKind::Max);
  }
  LogicalResult onMinimum(const NodeDef &n) {
    return binary(n, BinaryKind::Min);
  }
  LogicalResult onConstUnary(const NodeDef &node);
  LogicalResult onNeg(const NodeDef &node);
  LogicalResult onSquare(const NodeDef &node);
  LogicalResult onRelu(const NodeDef &node);
  LogicalResult onRelu6(const NodeDef &n) { return unary<Relu6Op>(n); }
  LogicalResult onSigmoid(const NodeDef &n) { return unary<SigmoidOp>(n); }
  LogicalResult onTanh(const NodeDef &n) { return unary<TanhOp>(n); }
  LogicalResult onLeakyRelu(const NodeDef &node);
  LogicalResult onSoftmax(const NodeDef &node);
  LogicalResult onPool(const NodeDef &node);
  LogicalResult onMean(const NodeDef &node);
  LogicalResult onPad(const NodeDef &node);
  LogicalResult onConcat(const NodeDef &node);
  LogicalResult onPack(const NodeDef &node);
  LogicalResult onReshape(const NodeDef &node);
  LogicalResult onSqueeze(const NodeDef &node);
  LogicalResult onExpandDims(const NodeDef &node);
  LogicalResult onShape(const NodeDef &node);
  LogicalResult onStridedSlice(const NodeDef &node);
  LogicalResult onTranspose(const NodeDef &node);
  LogicalResult onResize(const NodeDef &node);

  GraphBuilder gb;
  std::string display;
  llvm::StringMap<const NodeDef *> nodes;
  /// Node names in file order (for stable argument and output order).
  llvm::StringMap<int> position;
  /// Number of data edges reading each node (any output).
  llvm::StringMap<int> consumers;
  /// Nodes whose outputs become function arguments.
  llvm::StringMap<bool> inputNodes;
  llvm::StringMap<std::vector<Tensor>> values;
  /// Results of Minimum/Maximum against a scalar: their operand and bound,
  /// so that the clip_by_value form of relu6 becomes one vai.relu6.
  struct Clamp {
    Value source;
    float bound;
    bool isMax;
    std::string node;
  };
  llvm::DenseMap<Value, Clamp> clamps;
  /// The Relu node behind each vai.relu (a relu before relu6 is absorbed).
  llvm::DenseMap<Value, std::string> reluNodes;
  /// Nodes whose values are results of the function.
  llvm::StringSet<> outputNodeNames;
  /// Whether the op built for `node` may be erased once its one reader is
  /// converted: it feeds exactly one data edge and is not an output.
  bool removable(llvm::StringRef node) const {
    return consumers.lookup(node) == 1 && !outputNodeNames.contains(node);
  }
};

} // namespace vai::import::tf_import

#endif // VAI_LIB_IMPORT_TENSORFLOW_TFIMPORTERIMPL_H
