//===- ONNXImporter.cpp - ONNX models into the vai dialect ----------------===//
//
// Reads a ModelProto with Debian's libonnx protobuf classes (size-checked,
// never aborting on corrupt files) and drives the conversion: initializers
// and graph inputs become Tensors, each node goes to its handler
// (ONNXOperators.cpp), graph outputs become results. Also the value and
// layout helpers the handlers share: 4-D activations are stored NHWC,
// everything else in ONNX's own order, and order-dependent operators see
// NCHW through transposes.
//
//===----------------------------------------------------------------------===//

#include "ONNXImport.h"
#include "ONNXImporterImpl.h"

#include "llvm/Support/MemoryBuffer.h"

#include <limits>

using namespace mlir;

namespace vai::import {
namespace onnx_import {

//===----------------------------------------------------------------------===//
// Values and layout
//===----------------------------------------------------------------------===//

const Tensor *Importer::input(const onnx::NodeProto &node, int i) {
  if (!hasInput(node, i)) {
    (void)fail(node, "missing input " + Twine(i));
    return nullptr;
  }
  auto it = values.find(node.input(i));
  if (it == values.end()) {
    (void)fail(node, "input '" + node.input(i) + "' is not defined before use");
    return nullptr;
  }
  return &it->second;
}

const ConstTensor *Importer::constInput(const onnx::NodeProto &node, int i,
                                        StringRef what) {
  const Tensor *t = input(node, i);
  if (!t)
    return nullptr;
  if (!t->isConstant()) {
    (void)fail(node,
               what + " ('" + node.input(i) +
                   "') must be a constant (an initializer or computed from "
                   "constants)");
    return nullptr;
  }
  return t->constant.get();
}

const Tensor *Importer::activationInput(const onnx::NodeProto &node, int i,
                                        int rank) {
  const Tensor *t = input(node, i);
  if (!t)
    return nullptr;
  if (rank && t->rank() != rank) {
    (void)fail(node, "expects a " + Twine(rank) + "-D input, '" +
                         node.input(i) + "' is " + Twine(t->rank()) +
                         "-D (only 2-D spatial operators are supported)");
    return nullptr;
  }
  return t;
}

LogicalResult Importer::define(const onnx::NodeProto &node, Tensor t, int i) {
  if (i >= node.output_size())
    return success();
  values[node.output(i)] = std::move(t);
  return success();
}

Value Importer::materialize(const Tensor &t, Location loc) {
  if (!t.isConstant())
    return t.value;
  std::vector<int64_t> shape = t.constant->shape;
  if (shape.empty())
    shape = {1};
  return gb.constant(loc, shape, t.constant->floats());
}

Value Importer::onnxOrder(const Tensor &t, Location loc) {
  Value v = materialize(t, loc);
  return t.nhwc && v ? toNCHW(loc, v) : v;
}

LogicalResult Importer::defineOnnxOrder(const onnx::NodeProto &node, Value v,
                                        int i) {
  if (!v)
    return fail(node, "cannot be expressed as vai ops (see the error above)");
  if (cast<RankedTensorType>(v.getType()).getRank() == 4)
    return define(node, Tensor{toNHWC(nodeLoc(node), v), true, nullptr}, i);
  return define(node, Tensor{v, false, nullptr}, i);
}

/// `t` as a rank-4 NHWC operand (constants are reordered, lower-rank values
/// get leading 1s).
Value Importer::toNhwcOperand(const Tensor &t, Location loc) {
  if (t.nhwc)
    return t.value;
  if (t.isConstant()) {
    ConstTensor c = transposeConst(padRank(*t.constant, 4), kToNHWC);
    return gb.constant(loc, c.shape, c.floats());
  }
  std::vector<int64_t> shape = t.shape();
  shape.insert(shape.begin(), 4 - shape.size(), 1);
  return toNHWC(loc, reshape(loc, t.value, shape));
}

std::optional<int64_t> Importer::axisAttr(const onnx::NodeProto &node,
                                          int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank) {
    (void)fail(node, "axis out of range for a " + Twine(rank) + "-D input");
    return std::nullopt;
  }
  return axis;
}

/// The `axes` of Squeeze/Unsqueeze/ReduceMean: an attribute before they
/// became input `inputIndex`; normalised to non-negative values.
std::optional<std::vector<int64_t>>
Importer::axesOf(const onnx::NodeProto &node, int inputIndex, int64_t rank) {
  std::vector<int64_t> axes = Attrs(node).getInts("axes");
  if (hasInput(node, inputIndex)) {
    const ConstTensor *c = constInput(node, inputIndex, "axes");
    if (!c)
      return std::nullopt;
    axes = c->ints();
  }
  for (int64_t &a : axes) {
    std::optional<int64_t> axis = axisAttr(node, a, rank);
    if (!axis)
      return std::nullopt;
    a = *axis;
  }
  llvm::sort(axes);
  return axes;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

const llvm::StringMap<Importer::Handler> &Importer::handlers() {
  static const llvm::StringMap<Handler> table = {
      {"Add", &Importer::onAdd},
      {"AveragePool", &Importer::onPool},
      {"BatchNormalization", &Importer::onBatchNorm},
      {"Cast", &Importer::onCast},
      {"Clip", &Importer::onClip},
      {"Concat", &Importer::onConcat},
      {"Constant", &Importer::onConstant},
      {"ConstantOfShape", &Importer::onConstantOfShape},
      {"Conv", &Importer::onConv},
      {"ConvTranspose", &Importer::onConvTranspose},
      {"Div", &Importer::onDiv},
      {"Dropout", &Importer::onIdentity},
      {"Flatten", &Importer::onFlatten},
      {"Gather", &Importer::onGather},
      {"Gemm", &Importer::onGemm},
      {"GlobalAveragePool", &Importer::onGlobalPool},
      {"GlobalMaxPool", &Importer::onGlobalPool},
      {"HardSigmoid", &Importer::onHardSigmoid},
      {"Identity", &Importer::onIdentity},
      {"LeakyRelu", &Importer::onLeakyRelu},
      {"MatMul", &Importer::onMatMul},
      {"MaxPool", &Importer::onPool},
      {"Mul", &Importer::onMul},
      {"PRelu", &Importer::onPRelu},
      {"Pad", &Importer::onPad},
      {"ReduceMean", &Importer::onReduceMean},
      {"Relu", &Importer::onRelu},
      {"Reshape", &Importer::onReshape},
      {"Resize", &Importer::onResize},
      {"Shape", &Importer::onShape},
      {"Sigmoid", &Importer::onSigmoid},
      {"Slice", &Importer::onSlice},
      {"Softmax", &Importer::onSoftmax},
      {"Split", &Importer::onSplit},
      {"Squeeze", &Importer::onSqueeze},
      {"Sub", &Importer::onSub},
      {"Tanh", &Importer::onTanh},
      {"Transpose", &Importer::onTranspose},
      {"Unsqueeze", &Importer::onUnsqueeze},
      {"Upsample", &Importer::onResize},
  };
  return table;
}

std::string Importer::supportedList() {
  std::vector<std::string> names;
  for (const auto &entry : handlers())
    names.push_back(entry.getKey().str());
  llvm::sort(names);
  return llvm::join(names, ", ");
}

LogicalResult Importer::convert(const onnx::NodeProto &node) {
  if (node.output_size() == 0)
    return success();
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return fail(node, "operator domain '" + node.domain() +
                          "' is not supported; supported operators (default "
                          "domain): " +
                          supportedList());
  auto it = handlers().find(node.op_type());
  if (it == handlers().end())
    return fail(node, "unsupported ONNX operator '" + node.op_type() +
                          "'; supported operators: " + supportedList());
  return (this->*(it->second))(node);
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  Location fileLoc = gb.loc(display);
  for (const onnx::OperatorSetIdProto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  const onnx::GraphProto &graph = model.graph();

  for (const onnx::TensorProto &init : graph.initializer()) {
    auto c = std::make_shared<ConstTensor>();
    std::string err;
    if (!parseTensor(init, *c, err)) {
      emitError(gb.loc(init.name()))
          << display << ": initializer '" << init.name() << "': " << err;
      return nullptr;
    }
    values[init.name()] = Tensor{{}, false, c};
  }

  for (const onnx::ValueInfoProto &in : graph.input()) {
    if (values.count(in.name()))
      continue; // an initializer: a constant
    const onnx::TypeProto &type = in.type();
    if (!type.has_tensor_type()) {
      emitError(gb.loc(in.name()))
          << display << ": input '" << in.name() << "' is not a tensor";
      return nullptr;
    }
    std::vector<int64_t> shape;
    for (const onnx::TensorShapeProto::Dimension &d :
         type.tensor_type().shape().dim())
      shape.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value()
                                                             : -1);
    bool overridden = false;
    for (const auto &[name, dims] : gb.options().inputShapes)
      if (name == in.name()) {
        shape = dims;
        overridden = true;
      }
    // A dynamic batch dimension defaults to 1; any other must be given.
    if (!overridden && !shape.empty() && shape[0] == -1)
      shape[0] = 1;
    if (llvm::is_contained(shape, -1)) {
      emitError(gb.loc(in.name()))
          << display << ": input '" << in.name()
          << "' has a dynamic dimension; give its shape with --input-shape "
          << in.name() << ":D0,D1,...";
      return nullptr;
    }
    Value v = gb.addInput(in.name(), shape, /*nchw=*/true);
    if (!v)
      return nullptr;
    values[in.name()] = Tensor{v, shape.size() == 4, nullptr};
  }
  for (const auto &[name, dims] : gb.options().inputShapes) {
    bool found = llvm::any_of(graph.input(), [&, &name = name](const auto &in) {
      return in.name() == name;
    });
    if (!found) {
      std::vector<std::string> names;
      for (const onnx::ValueInfoProto &in : graph.input())
        if (!values.lookup(in.name()).isConstant())
          names.push_back(in.name());
      emitError(fileLoc) << display << ": --input-shape names '" << name
                         << "', but the model's inputs are: "
                         << llvm::join(names, ", ");
      return nullptr;
    }
  }

  for (const onnx::NodeProto &node : graph.node())
    if (failed(convert(node)))
      return nullptr;

  for (const onnx::ValueInfoProto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end()) {
      emitError(gb.loc(out.name()))
          << display << ": output '" << out.name() << "' is never computed";
      return nullptr;
    }
    Location loc = gb.loc(out.name());
    Value v = materialize(it->second, loc);
    if (!v)
      return nullptr;
    gb.addOutput(out.name(), v, it->second.nhwc);
  }
  return gb.finish();
}

} // namespace onnx_import

OwningOpRef<ModuleOp> importONNXFile(MLIRContext &context, StringRef path,
                                     StringRef displayName,
                                     const ImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, displayName, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(fileLoc) << displayName
                       << ": cannot read: " << buffer.getError().message();
    return nullptr;
  }
  StringRef bytes = (*buffer)->getBuffer();
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !model.has_graph()) {
    emitError(fileLoc) << displayName
                       << ": not a valid ONNX model (truncated or corrupt "
                          "protobuf, or not an ONNX file)";
    return nullptr;
  }
  try {
    onnx_import::Importer importer(context, displayName, options);
    return importer.run(model);
  } catch (const std::exception &e) {
    emitError(fileLoc) << displayName << ": import failed: " << e.what();
    return nullptr;
  }
}

OwningOpRef<ModuleOp> importONNX(MLIRContext &context, StringRef path,
                                 const ImportOptions &options) {
  return importONNXFile(context, path, path, options);
}

} // namespace vai::import
