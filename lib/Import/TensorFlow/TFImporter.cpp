//===- TFImporter.cpp - TensorFlow GraphDefs into the vai dialect ---------===//
//
// Reads a frozen GraphDef (binary .pb or text .pbtxt) with the classes of our
// own graph.proto and drives the conversion: the outputs (named with
// --outputs, or the nodes nothing reads) decide which nodes are needed; a
// depth-first walk from them orders those nodes and stops at the inputs
// (named with --inputs, or the Placeholders), which become the function's
// arguments. Each needed node then goes to its handler (TFOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "TFImporterImpl.h"

#include "vai/Import/Import.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <limits>

using namespace mlir;

namespace vai::import {
namespace tf_import {

TensorRef parseRef(StringRef ref) {
  TensorRef r;
  if (ref.consume_front("^")) {
    r.control = true;
    r.node = ref.str();
    return r;
  }
  auto [name, index] = ref.rsplit(':');
  unsigned k;
  if (!index.empty() && !index.getAsInteger(10, k)) {
    r.node = name.str();
    r.index = static_cast<int>(k);
  } else {
    r.node = ref.str();
  }
  return r;
}

/// Ops that carry control flow: the importer handles dataflow graphs only.
static bool isControlFlow(StringRef op) {
  static const llvm::StringSet<> ops = {"Switch",
                                        "Merge",
                                        "Enter",
                                        "Exit",
                                        "NextIteration",
                                        "LoopCond",
                                        "RefSwitch",
                                        "RefMerge",
                                        "RefEnter",
                                        "RefExit",
                                        "RefNextIteration",
                                        "ControlTrigger",
                                        "While",
                                        "StatelessWhile",
                                        "If",
                                        "StatelessIf",
                                        "_SwitchN"};
  return ops.contains(op) || op.starts_with("TensorArray");
}

/// Nodes that are not results even when nothing reads them: training,
/// checkpointing and summary leftovers, and unused constants.
static bool isNeverAnOutput(StringRef op) {
  static const llvm::StringSet<> ops = {"NoOp",
                                        "Const",
                                        "Placeholder",
                                        "PlaceholderWithDefault",
                                        "VariableV2",
                                        "Variable",
                                        "VarHandleOp",
                                        "Assign",
                                        "AssignAdd",
                                        "AssignSub",
                                        "AssignVariableOp",
                                        "VarIsInitializedOp",
                                        "IsVariableInitialized",
                                        "SaveV2",
                                        "Save",
                                        "SaveSlices",
                                        "RestoreV2",
                                        "Restore",
                                        "RestoreSlice",
                                        "MergeV2Checkpoints",
                                        "ShardedFilename",
                                        "StringJoin",
                                        "ScalarSummary",
                                        "HistogramSummary",
                                        "ImageSummary",
                                        "AudioSummary",
                                        "MergeSummary",
                                        "TensorSummary",
                                        "TensorSummaryV2",
                                        "Assert",
                                        "Print",
                                        "PrintV2"};
  return ops.contains(op);
}

//===----------------------------------------------------------------------===//
// Handler table
//===----------------------------------------------------------------------===//

const llvm::StringMap<Importer::Handler> &Importer::handlers() {
  static const llvm::StringMap<Handler> table = {
      {"Add", &Importer::onAdd},
      {"AddV2", &Importer::onAdd},
      {"AvgPool", &Importer::onPool},
      {"BiasAdd", &Importer::onBiasAdd},
      {"BiasAddV1", &Importer::onBiasAdd},
      {"Cast", &Importer::onCast},
      {"Concat", &Importer::onConcat},
      {"ConcatV2", &Importer::onConcat},
      {"Const", &Importer::onConst},
      {"Conv2D", &Importer::onConv},
      {"Conv2DBackpropInput", &Importer::onConv2DBackpropInput},
      {"DepthwiseConv2dNative", &Importer::onConv},
      {"Div", &Importer::onDiv},
      {"ExpandDims", &Importer::onExpandDims},
      {"FloorDiv", &Importer::onFloorDiv},
      {"FusedBatchNorm", &Importer::onFusedBatchNorm},
      {"FusedBatchNormV2", &Importer::onFusedBatchNorm},
      {"FusedBatchNormV3", &Importer::onFusedBatchNorm},
      {"Identity", &Importer::onIdentity},
      {"IdentityN", &Importer::onIdentityN},
      {"LeakyRelu", &Importer::onLeakyRelu},
      {"MatMul", &Importer::onMatMul},
      {"MaxPool", &Importer::onPool},
      {"Maximum", &Importer::onMaximum},
      {"Mean", &Importer::onMean},
      {"Minimum", &Importer::onMinimum},
      {"MirrorPad", &Importer::onPad},
      {"Mul", &Importer::onMul},
      {"Neg", &Importer::onNeg},
      {"Pack", &Importer::onPack},
      {"Pad", &Importer::onPad},
      {"PadV2", &Importer::onPad},
      {"Placeholder", &Importer::onPlaceholder},
      {"PlaceholderWithDefault", &Importer::onIdentity},
      {"PreventGradient", &Importer::onIdentity},
      {"RealDiv", &Importer::onDiv},
      {"Reciprocal", &Importer::onConstUnary},
      {"Relu", &Importer::onRelu},
      {"Relu6", &Importer::onRelu6},
      {"Reshape", &Importer::onReshape},
      {"ResizeBilinear", &Importer::onResize},
      {"ResizeNearestNeighbor", &Importer::onResize},
      {"Rsqrt", &Importer::onConstUnary},
      {"Shape", &Importer::onShape},
      {"Sigmoid", &Importer::onSigmoid},
      {"Snapshot", &Importer::onIdentity},
      {"Softmax", &Importer::onSoftmax},
      {"Sqrt", &Importer::onConstUnary},
      {"Square", &Importer::onSquare},
      {"Squeeze", &Importer::onSqueeze},
      {"StopGradient", &Importer::onIdentity},
      {"StridedSlice", &Importer::onStridedSlice},
      {"Sub", &Importer::onSub},
      {"Tanh", &Importer::onTanh},
      {"Transpose", &Importer::onTranspose},
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

LogicalResult Importer::convert(const NodeDef &node) {
  auto it = handlers().find(node.op());
  if (it == handlers().end())
    return fail(node, "unsupported TensorFlow op '" + node.op() +
                          "'; supported ops: " + supportedList());
  return (this->*(it->second))(node);
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

int Importer::dataInputCount(const NodeDef &node) const {
  int n = 0;
  for (const std::string &in : node.input())
    if (!StringRef(in).starts_with("^"))
      ++n;
  return n;
}

const Tensor *Importer::input(const NodeDef &node, int i) {
  if (i >= dataInputCount(node)) {
    (void)fail(node, "has " + Twine(dataInputCount(node)) +
                         " input(s), expected at least " + Twine(i + 1));
    return nullptr;
  }
  TensorRef ref = parseRef(node.input(i));
  auto it = values.find(ref.node);
  if (it == values.end() || ref.index >= static_cast<int>(it->second.size()) ||
      (!it->second[ref.index].value && !it->second[ref.index].constant)) {
    (void)fail(node, "input '" + node.input(i) +
                         "' is not available (an output this importer does "
                         "not produce)");
    return nullptr;
  }
  return &it->second[ref.index];
}

const ConstTensor *Importer::constInput(const NodeDef &node, int i,
                                        StringRef what) {
  const Tensor *t = input(node, i);
  if (!t)
    return nullptr;
  if (!t->isConstant()) {
    (void)fail(node, what + " ('" + node.input(i) +
                         "') must be a constant (a Const node or computed "
                         "from constants only)");
    return nullptr;
  }
  return t->constant.get();
}

const Tensor *Importer::activationInput(const NodeDef &node, int i, int rank) {
  const Tensor *t = input(node, i);
  if (t && rank && t->rank() != rank) {
    (void)fail(node, "expects a " + Twine(rank) + "-D input, '" +
                         node.input(i) + "' is " + Twine(t->rank()) + "-D " +
                         formatShape(t->shape()));
    return nullptr;
  }
  return t;
}

std::optional<std::vector<int64_t>> Importer::intsInput(const NodeDef &node,
                                                        int i, StringRef what) {
  const ConstTensor *c = constInput(node, i, what);
  if (!c)
    return std::nullopt;
  return c->ints();
}

/// A resource name for a constant: the Const node's name with characters
/// other than letters, digits, '_' and '.' replaced.
std::string resourceName(StringRef node) {
  std::string s = node.empty() ? "weight" : node.str();
  for (char &c : s)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return s;
}

Value Importer::materialize(const Tensor &t, Location loc) {
  if (!t.isConstant())
    return t.value;
  return gb.constant(loc, t.constant->shape, t.constant->floats(),
                     resourceName(t.constName));
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

LogicalResult Importer::indexGraph(const vai_tf::GraphDef &graph) {
  for (int i = 0; i < graph.node_size(); ++i) {
    const NodeDef &node = graph.node(i);
    if (node.name().empty()) {
      fileError() << "node #" << i << " (" << node.op() << ") has no name";
      return failure();
    }
    if (!nodes.try_emplace(node.name(), &node).second) {
      fileError() << "two nodes are named '" << node.name() << "'";
      return failure();
    }
    position[node.name()] = i;
  }
  for (const NodeDef &node : graph.node())
    for (const std::string &in : node.input()) {
      TensorRef ref = parseRef(in);
      if (!ref.control)
        ++consumers[ref.node];
    }
  return success();
}

LogicalResult Importer::chooseOutputs(std::vector<TensorRef> &outputs) {
  for (const std::string &spec : gb.options().outputNodes) {
    TensorRef ref = parseRef(spec);
    if (ref.control || !nodes.count(ref.node)) {
      fileError() << "--outputs names '" << spec
                  << "', which is not a node of the graph";
      return failure();
    }
    outputs.push_back(ref);
  }
  if (!outputs.empty())
    return success();
  // Default: the nodes nothing reads (through data or control edges).
  llvm::StringSet<> read;
  for (const auto &entry : nodes)
    for (const std::string &in : entry.second->input())
      read.insert(parseRef(in).node);
  std::vector<const NodeDef *> candidates;
  for (const auto &entry : nodes)
    if (!read.contains(entry.getKey()) && !isNeverAnOutput(entry.second->op()))
      candidates.push_back(entry.second);
  llvm::sort(candidates, [&](const NodeDef *a, const NodeDef *b) {
    return position[a->name()] < position[b->name()];
  });
  for (const NodeDef *n : candidates)
    outputs.push_back(TensorRef{n->name(), 0, false});
  if (outputs.empty()) {
    fileError() << "the graph has no output (no computing node is left "
                   "unread); name the outputs with --outputs";
    return failure();
  }
  return success();
}

LogicalResult Importer::order(ArrayRef<TensorRef> outputs,
                              std::vector<const NodeDef *> &sorted) {
  enum State { Unvisited, Active, Done };
  llvm::StringMap<State> state;
  struct Frame {
    const NodeDef *node;
    int next;
  };
  for (const TensorRef &out : outputs) {
    const NodeDef *root = nodes.lookup(out.node);
    if (state.lookup(root->name()) == Done)
      continue;
    std::vector<Frame> stack = {{root, 0}};
    state[root->name()] = Active;
    while (!stack.empty()) {
      Frame &top = stack.back();
      const NodeDef &node = *top.node;
      bool leaf = inputNodes.count(node.name());
      if (!leaf && top.next == 0 && isControlFlow(node.op()))
        return fail(node, "control flow is not supported (the importer takes "
                          "dataflow graphs frozen for inference, without "
                          "loops, conditionals or TensorArrays); cut the "
                          "graph around it with --inputs/--outputs");
      if (!leaf && top.next < node.input_size()) {
        TensorRef ref = parseRef(node.input(top.next++));
        if (ref.control)
          continue;
        const NodeDef *child = nodes.lookup(ref.node);
        if (!child)
          return fail(node, "input '" + ref.node +
                                "' names no node of the graph (a truncated "
                                "or partial GraphDef?)");
        State s = state.lookup(ref.node);
        if (s == Active)
          return fail(node, "is part of a cycle through '" + ref.node +
                                "' (loops are not supported)");
        if (s == Unvisited) {
          state[ref.node] = Active;
          stack.push_back({child, 0});
        }
        continue;
      }
      state[node.name()] = Done;
      sorted.push_back(&node);
      stack.pop_back();
    }
  }
  return success();
}

std::optional<std::vector<int64_t>> Importer::inputShape(const NodeDef &node,
                                                         int index) {
  Attrs attrs(node);
  std::string name =
      index ? node.name() + ":" + std::to_string(index) : node.name();
  // The graph's own knowledge: a Placeholder's shape, or the shapes
  // TensorFlow recorded when the graph was written.
  std::optional<std::vector<int64_t>> graphShape;
  if (const vai_tf::AttrValue *a = attrs.get("shape");
      a && a->value_case() == vai_tf::AttrValue::kShape && index == 0)
    graphShape = shapeFromProto(a->shape());
  else if (const vai_tf::AttrValue *a = attrs.get("_output_shapes");
           a && a->value_case() == vai_tf::AttrValue::kList &&
           index < a->list().shape_size())
    graphShape = shapeFromProto(a->list().shape(index));

  for (const auto &[given, dims] : gb.options().inputShapes) {
    if (given != name)
      continue;
    bool compatible = !graphShape || graphShape->size() == dims.size();
    for (size_t i = 0; compatible && graphShape && i < dims.size(); ++i)
      compatible = (*graphShape)[i] == -1 || (*graphShape)[i] == dims[i];
    if (!compatible) {
      emitError(gb.loc(node.name()))
          << display << ": --input-shape " << name << ":"
          << llvm::join(llvm::map_range(
                            dims, [](int64_t d) { return std::to_string(d); }),
                        ",")
          << " does not match the graph's shape " << formatShape(*graphShape)
          << " of '" << name << "' (-1 is free)";
      return std::nullopt;
    }
    return dims;
  }
  if (!graphShape) {
    emitError(gb.loc(node.name()))
        << display << ": the shape of input '" << name << "' (" << node.op()
        << ") is unknown; give it with --input-shape " << name << ":D0,D1,...";
    return std::nullopt;
  }
  std::vector<int64_t> shape = *graphShape;
  // An unknown batch dimension defaults to 1; any other must be given.
  if (!shape.empty() && shape[0] == -1)
    shape[0] = 1;
  if (llvm::is_contained(shape, -1)) {
    emitError(gb.loc(node.name()))
        << display << ": input '" << name << "' has the shape "
        << formatShape(*graphShape)
        << " with an unknown dimension; give it with --input-shape " << name
        << ":D0,D1,...";
    return std::nullopt;
  }
  return shape;
}

LogicalResult Importer::addInputs(ArrayRef<const NodeDef *> sorted) {
  std::vector<TensorRef> args;
  for (const std::string &spec : gb.options().inputNodes)
    args.push_back(parseRef(spec));
  if (args.empty()) {
    for (const NodeDef *n : sorted)
      if (n->op() == "Placeholder")
        args.push_back(TensorRef{n->name(), 0, false});
    llvm::sort(args, [&](const TensorRef &a, const TensorRef &b) {
      return position[a.node] < position[b.node];
    });
  }
  std::vector<std::string> argNames;
  for (const TensorRef &ref : args) {
    const NodeDef &node = *nodes.lookup(ref.node);
    std::string name =
        ref.index ? ref.node + ":" + std::to_string(ref.index) : ref.node;
    Attrs attrs(node);
    vai_tf::DataType type = attrs.getType("dtype");
    if (type == vai_tf::DT_INVALID)
      type = attrs.getType("T");
    if (type != vai_tf::DT_INVALID && type != vai_tf::DT_FLOAT)
      return fail(node, "input '" + name + "' is of type " +
                            vai_tf::DataType_Name(type) +
                            "; only float32 inputs are supported");
    std::optional<std::vector<int64_t>> shape = inputShape(node, ref.index);
    if (!shape)
      return failure();
    Value v = gb.addInput(name, *shape, /*nchw=*/false);
    if (!v)
      return failure();
    (void)define(node, Tensor{v, nullptr, ""}, ref.index);
    argNames.push_back(name);
  }
  for (const auto &[name, dims] : gb.options().inputShapes)
    if (!llvm::is_contained(argNames, name)) {
      fileError() << "--input-shape names '" << name
                  << "', which is not an input of the imported graph; its "
                     "inputs are: "
                  << llvm::join(argNames, ", ");
      return failure();
    }
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const vai_tf::GraphDef &graph) {
  if (graph.node_size() == 0) {
    fileError() << "the GraphDef has no nodes";
    return nullptr;
  }
  if (failed(indexGraph(graph)))
    return nullptr;
  for (const std::string &spec : gb.options().inputNodes) {
    TensorRef ref = parseRef(spec);
    if (ref.control || !nodes.count(ref.node)) {
      fileError() << "--inputs names '" << spec
                  << "', which is not a node of the graph";
      return nullptr;
    }
    inputNodes[ref.node] = true;
  }
  if (gb.options().inputNodes.empty())
    for (const auto &entry : nodes)
      if (entry.second->op() == "Placeholder")
        inputNodes[entry.getKey()] = true;

  std::vector<TensorRef> outputs;
  std::vector<const NodeDef *> sorted;
  if (failed(chooseOutputs(outputs)) || failed(order(outputs, sorted)) ||
      failed(addInputs(sorted)))
    return nullptr;
  for (const TensorRef &out : outputs)
    outputNodeNames.insert(out.node);
  for (const NodeDef *node : sorted)
    if (!inputNodes.count(node->name()) && failed(convert(*node)))
      return nullptr;

  for (const TensorRef &out : outputs) {
    std::string name =
        out.index ? out.node + ":" + std::to_string(out.index) : out.node;
    const NodeDef &node = *nodes.lookup(out.node);
    auto it = values.find(out.node);
    if (it == values.end() ||
        out.index >= static_cast<int>(it->second.size()) ||
        (!it->second[out.index].value && !it->second[out.index].constant)) {
      (void)fail(node, "output '" + name + "' is not produced");
      return nullptr;
    }
    Value v = materialize(it->second[out.index], gb.loc(name));
    gb.addOutput(name, v, /*nchw=*/false);
  }
  return gb.finish();
}

} // namespace tf_import

//===----------------------------------------------------------------------===//
// Reading the file
//===----------------------------------------------------------------------===//

namespace {
/// Reports text-format syntax errors at file:line:col; unknown fields (parts
/// of GraphDef the importer does not model) are skipped silently.
class TextErrors : public google::protobuf::io::ErrorCollector {
public:
  TextErrors(MLIRContext &context, StringRef path)
      : context(context), path(path.str()) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string &message) override {
    emitError(FileLineColLoc::get(&context, path, line + 1, column + 1))
        << message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber,
                  const std::string &) override {}

private:
  MLIRContext &context;
  std::string path;
};
} // namespace

OwningOpRef<ModuleOp> importTensorFlow(MLIRContext &context, StringRef path,
                                       const ImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(fileLoc) << path
                       << ": cannot read: " << buffer.getError().message();
    return nullptr;
  }
  StringRef bytes = (*buffer)->getBuffer();
  vai_tf::GraphDef graph;
  if (llvm::sys::path::extension(path) == ".pbtxt") {
    TextErrors errors(context, path);
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    parser.AllowUnknownField(true);
    if (!parser.ParseFromString(bytes.str(), &graph)) {
      emitError(fileLoc) << path
                         << ": not a valid TensorFlow GraphDef in text format";
      return nullptr;
    }
  } else {
    bool parsed = false;
    if (bytes.size() < static_cast<size_t>(std::numeric_limits<int>::max())) {
      google::protobuf::io::CodedInputStream stream(
          reinterpret_cast<const uint8_t *>(bytes.data()),
          static_cast<int>(bytes.size()));
      stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
      parsed =
          graph.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
    }
    if (!parsed) {
      emitError(fileLoc) << path
                         << ": not a valid binary TensorFlow GraphDef "
                            "(truncated or corrupt protobuf, or not a .pb "
                            "GraphDef; text GraphDefs need the .pbtxt "
                            "extension)";
      return nullptr;
    }
  }
  try {
    tf_import::Importer importer(context, path, options);
    return importer.run(graph);
  } catch (const std::exception &e) {
    emitError(fileLoc) << path << ": import failed: " << e.what();
    return nullptr;
  }
}

} // namespace vai::import
