//===- KerasImporter.cpp - Keras .h5 / model.json into vai ----------------===//
//
// The entry point importKeras, the model JSON normalised across Keras
// versions, and the graph walk. Per-layer conversion is in KerasLayers.cpp;
// reading HDF5 in KerasHDF5.cpp.
//
// JSON forms read:
//  - Sequential: "config" a list of layers (Keras 2.0-2.1) or
//    {"name", "layers": [...]} (later); the input from a leading InputLayer
//    or the first layer's batch_input_shape (then named "<layer>_input", as
//    Keras does);
//  - Model / Functional: {"layers", "input_layers", "output_layers"}; each
//    layer's inbound_nodes in Keras 2's form ([[[name, node, tensor,
//    kwargs], ...], ...]) or Keras 3's ([{"args": [keras tensors],
//    "kwargs": {}}]);
//  - input shapes from batch_input_shape (Keras 2) or batch_shape (Keras 3).
//
//===----------------------------------------------------------------------===//

#include "KerasImporterImpl.h"

#include "vai/Import/Import.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using llvm::StringRef;
namespace json = llvm::json;

namespace vai::import::keras {

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? "None" : std::to_string(shape[i]));
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Model JSON
//===----------------------------------------------------------------------===//

namespace {
/// Parses the model JSON; every error names the file (and the layer).
class ModelParser {
public:
  ModelParser(Location loc, StringRef file, Model &model)
      : loc(loc), file(file), model(model) {}

  LogicalResult parse(const json::Value &root);

private:
  InFlightDiagnostic error() { return emitError(loc) << file << ": "; }
  InFlightDiagnostic error(const Layer &layer) {
    Location at =
        NameLoc::get(StringAttr::get(loc.getContext(), layer.name), loc);
    return emitError(at) << file << ": layer '" << layer.name << "' ("
                         << layer.className << "): ";
  }
  LogicalResult parseLayer(const json::Value &entry, Layer &layer);
  LogicalResult parseSequential(const json::Value &config);
  LogicalResult parseFunctional(const json::Value &config);
  LogicalResult parseCalls(const json::Value &inbound, Layer &layer);
  LogicalResult parseKeras3Call(const json::Object &call, Layer &layer);
  LogicalResult checkCallKwargs(const json::Object *kwargs, const Layer &layer);
  std::optional<TensorRef> tensorRef(const json::Value &v);
  LogicalResult parseEndpoints(const json::Value *list, StringRef what,
                               std::vector<TensorRef> &out);
  /// The batch shape of an input layer's config; false when it has none.
  LogicalResult batchShape(const Layer &layer, std::vector<int64_t> &shape,
                           bool &found);

  Location loc;
  StringRef file;
  Model &model;
};
} // namespace

LogicalResult ModelParser::parseLayer(const json::Value &entry, Layer &layer) {
  const json::Object *obj = entry.getAsObject();
  std::optional<StringRef> cls =
      obj ? obj->getString("class_name") : std::nullopt;
  layer.config = obj ? obj->getObject("config") : nullptr;
  if (!cls || !layer.config)
    return error() << "a layer entry without \"class_name\" and \"config\"";
  layer.className = cls->str();
  std::optional<StringRef> name = obj->getString("name");
  if (!name)
    name = layer.config->getString("name");
  if (!name)
    return error() << "a layer of class '" << layer.className
                   << "' without a name";
  layer.name = name->str();
  return success();
}

LogicalResult ModelParser::batchShape(const Layer &layer,
                                      std::vector<int64_t> &shape,
                                      bool &found) {
  const json::Value *v = layer.config->get("batch_input_shape");
  if (!v || v->kind() == json::Value::Null)
    v = layer.config->get("batch_shape");
  found = v && v->kind() != json::Value::Null;
  if (!found)
    return success();
  const json::Array *dims = v->getAsArray();
  if (!dims || dims->empty())
    return error(layer) << "has a malformed batch shape";
  for (const json::Value &d : *dims) {
    if (d.kind() == json::Value::Null) {
      shape.push_back(-1);
      continue;
    }
    std::optional<int64_t> i = d.getAsInteger();
    if (!i || *i < 1)
      return error(layer) << "has a malformed batch shape";
    shape.push_back(*i);
  }
  return success();
}

LogicalResult ModelParser::parseSequential(const json::Value &config) {
  const json::Array *list = config.getAsArray();
  if (!list)
    if (const json::Object *obj = config.getAsObject())
      list = obj->getArray("layers");
  if (!list || list->empty())
    return error() << "a Sequential model without layers";
  for (const json::Value &entry : *list) {
    Layer layer;
    if (failed(parseLayer(entry, layer)))
      return failure();
    std::vector<int64_t> shape;
    bool found = false;
    if (layer.className == "InputLayer") {
      if (!model.inputs.empty() || !model.layers.empty())
        return error(layer) << "is an InputLayer after the first layer";
      if (failed(batchShape(layer, shape, found)))
        return failure();
      model.inputs.push_back({layer.name, shape, layer.name});
      continue;
    }
    if (model.inputs.empty()) {
      if (failed(batchShape(layer, shape, found)))
        return failure();
      std::string input = layer.name + "_input";
      model.inputs.push_back({input, shape, layer.name});
    }
    TensorRef prev = model.layers.empty()
                         ? TensorRef{model.inputs.front().name, 0, 0}
                         : TensorRef{model.layers.back().name, 0, 0};
    layer.calls.push_back({prev});
    model.layers.push_back(std::move(layer));
  }
  if (model.layers.empty())
    return error() << "a Sequential model without layers after its input";
  model.outputs.push_back({model.layers.back().name, 0, 0});
  return success();
}

std::optional<TensorRef> ModelParser::tensorRef(const json::Value &v) {
  const json::Array *a = v.getAsArray();
  if (!a || a->size() < 3)
    return std::nullopt;
  std::optional<StringRef> name = (*a)[0].getAsString();
  std::optional<int64_t> node = (*a)[1].getAsInteger();
  std::optional<int64_t> tensor = (*a)[2].getAsInteger();
  if (!name || !node || !tensor)
    return std::nullopt;
  return TensorRef{name->str(), *node, *tensor};
}

LogicalResult ModelParser::checkCallKwargs(const json::Object *kwargs,
                                           const Layer &layer) {
  if (!kwargs)
    return success();
  for (const auto &[key, value] : *kwargs) {
    // training=False/True changes nothing at inference; a null mask is none.
    if (key == "training" ||
        (key == "mask" && value.kind() == json::Value::Null))
      continue;
    return error(layer) << "is called with the argument '" << key.str()
                        << "', which is not supported";
  }
  return success();
}

/// Collects the keras tensors of a Keras 3 call's args, in order.
static void collectKerasTensors(const json::Value &v,
                                std::vector<const json::Object *> &out) {
  if (const json::Array *a = v.getAsArray()) {
    for (const json::Value &e : *a)
      collectKerasTensors(e, out);
    return;
  }
  if (const json::Object *o = v.getAsObject())
    if (o->getString("class_name") == StringRef("__keras_tensor__"))
      out.push_back(o);
}

LogicalResult ModelParser::parseKeras3Call(const json::Object &call,
                                           Layer &layer) {
  std::vector<const json::Object *> tensors;
  if (const json::Value *args = call.get("args"))
    collectKerasTensors(*args, tensors);
  std::vector<TensorRef> refs;
  for (const json::Object *t : tensors) {
    const json::Object *cfg = t->getObject("config");
    const json::Value *history = cfg ? cfg->get("keras_history") : nullptr;
    std::optional<TensorRef> ref = history ? tensorRef(*history) : std::nullopt;
    if (!ref)
      return error(layer) << "has an inbound tensor without keras_history";
    refs.push_back(*ref);
  }
  if (failed(checkCallKwargs(call.getObject("kwargs"), layer)))
    return failure();
  layer.calls.push_back(std::move(refs));
  return success();
}

LogicalResult ModelParser::parseCalls(const json::Value &inbound,
                                      Layer &layer) {
  const json::Array *calls = inbound.getAsArray();
  if (!calls)
    return error(layer) << "has malformed inbound_nodes";
  for (const json::Value &call : *calls) {
    if (const json::Object *obj = call.getAsObject()) {
      if (failed(parseKeras3Call(*obj, layer)))
        return failure();
      continue;
    }
    const json::Array *entries = call.getAsArray();
    if (!entries)
      return error(layer) << "has malformed inbound_nodes";
    std::vector<TensorRef> refs;
    for (const json::Value &e : *entries) {
      std::optional<TensorRef> ref = tensorRef(e);
      if (!ref)
        return error(layer) << "has malformed inbound_nodes";
      const json::Array *a = e.getAsArray();
      if (a->size() > 3 &&
          failed(checkCallKwargs((*a)[3].getAsObject(), layer)))
        return failure();
      refs.push_back(*ref);
    }
    layer.calls.push_back(std::move(refs));
  }
  return success();
}

LogicalResult ModelParser::parseEndpoints(const json::Value *list,
                                          StringRef what,
                                          std::vector<TensorRef> &out) {
  const json::Array *a = list ? list->getAsArray() : nullptr;
  if (!a)
    return error() << "the model config has no " << what;
  // One endpoint may be written as a bare [name, node, tensor].
  if (std::optional<TensorRef> single = tensorRef(*list)) {
    out.push_back(*single);
    return success();
  }
  for (const json::Value &e : *a) {
    std::optional<TensorRef> ref = tensorRef(e);
    if (!ref)
      return error() << "the model config has malformed " << what;
    out.push_back(*ref);
  }
  return success();
}

LogicalResult ModelParser::parseFunctional(const json::Value &config) {
  const json::Object *obj = config.getAsObject();
  const json::Array *list = obj ? obj->getArray("layers") : nullptr;
  if (!list)
    return error() << "a functional model without \"layers\"";
  llvm::StringMap<Input> inputLayers;
  for (const json::Value &entry : *list) {
    Layer layer;
    if (failed(parseLayer(entry, layer)))
      return failure();
    if (layer.className == "InputLayer") {
      std::vector<int64_t> shape;
      bool found = false;
      if (failed(batchShape(layer, shape, found)))
        return failure();
      inputLayers[layer.name] = {layer.name, shape, layer.name};
      continue;
    }
    const json::Value *inbound = entry.getAsObject()->get("inbound_nodes");
    if (!inbound)
      return error(layer) << "has no inbound_nodes";
    if (failed(parseCalls(*inbound, layer)))
      return failure();
    model.layers.push_back(std::move(layer));
  }
  std::vector<TensorRef> inputs;
  if (failed(
          parseEndpoints(obj->get("input_layers"), "input_layers", inputs)) ||
      failed(parseEndpoints(obj->get("output_layers"), "output_layers",
                            model.outputs)))
    return failure();
  for (const TensorRef &ref : inputs) {
    auto it = inputLayers.find(ref.layer);
    if (it == inputLayers.end())
      return error() << "input_layers names '" << ref.layer
                     << "', which is not an InputLayer of the model";
    model.inputs.push_back(it->second);
  }
  return success();
}

LogicalResult ModelParser::parse(const json::Value &root) {
  const json::Object *obj = root.getAsObject();
  std::optional<StringRef> cls =
      obj ? obj->getString("class_name") : std::nullopt;
  const json::Value *config = obj ? obj->get("config") : nullptr;
  if (!cls || !config)
    return error() << "not a Keras model JSON (no \"class_name\" and "
                      "\"config\" at the top)";
  if (*cls == "Sequential")
    return parseSequential(*config);
  if (*cls == "Model" || *cls == "Functional")
    return parseFunctional(*config);
  return error() << "the top-level class '" << *cls
                 << "' is not a Keras model (Sequential, Model or Functional)";
}

LogicalResult parseModel(Location loc, StringRef file, const json::Value &root,
                         Model &model) {
  return ModelParser(loc, file, model).parse(root);
}

//===----------------------------------------------------------------------===//
// Graph walk
//===----------------------------------------------------------------------===//

static std::string valueKey(StringRef layer, int64_t node, int64_t tensor) {
  return (layer + "\x1f" + std::to_string(node) + "\x1f" +
          std::to_string(tensor))
      .str();
}

LogicalResult LayerConverter::convertModel() {
  const auto &overrides = gb.options().inputShapes;
  overrideUsed.assign(overrides.size(), false);
  Location fileLoc = FileLineColLoc::get(gb.getContext(), gb.file(), 0, 0);
  if (model.inputs.empty())
    return emitError(fileLoc) << gb.file() << ": the model has no inputs";

  // Inputs: Keras's batch shape; a None batch is 1, --input-shape overrides.
  for (const Input &in : model.inputs) {
    std::vector<int64_t> shape = in.shape;
    for (size_t i = 0; i < overrides.size(); ++i)
      if (overrides[i].first == in.name) {
        shape = overrides[i].second;
        overrideUsed[i] = true;
      }
    if (!shape.empty() && shape[0] < 0)
      shape[0] = 1;
    if (shape.empty() || llvm::any_of(shape, [](int64_t d) { return d < 1; }))
      return emitError(gb.loc(in.layer))
             << gb.file() << ": input '" << in.name << "' has shape "
             << (shape.empty() ? std::string("(none given)")
                               : formatShape(shape))
             << "; give a complete one with --input-shape " << in.name
             << ":N,H,W,C";
    Value v = gb.addInput(in.name, shape, /*nchw=*/false);
    values[valueKey(in.name, 0, 0)] = v;
  }
  for (size_t i = 0; i < overrides.size(); ++i)
    if (!overrideUsed[i]) {
      std::string names;
      for (const Input &in : model.inputs)
        names += (names.empty() ? "" : ", ") + in.name;
      return emitError(fileLoc)
             << gb.file() << ": --input-shape names '" << overrides[i].first
             << "', but the model's inputs are: " << names;
    }

  // Every reference must name a layer call that exists.
  llvm::StringMap<size_t> callCount;
  for (const Input &in : model.inputs)
    callCount[in.name] = 1;
  for (const Layer &layer : model.layers) {
    if (callCount.count(layer.name))
      return emitError(gb.loc(layer.name))
             << gb.file() << ": two layers are named '" << layer.name << "'";
    callCount[layer.name] = layer.calls.size();
  }
  auto checkRef = [&](const TensorRef &ref, StringRef user) -> LogicalResult {
    auto it = callCount.find(ref.layer);
    if (it == callCount.end() || ref.node < 0 ||
        static_cast<size_t>(ref.node) >= it->second)
      return emitError(gb.loc(user))
             << gb.file() << ": '" << user << "' reads call " << ref.node
             << " of '" << ref.layer
             << "', which is not a layer call of the model";
    if (ref.tensor != 0)
      return emitError(gb.loc(user))
             << gb.file() << ": '" << user << "' reads output " << ref.tensor
             << " of '" << ref.layer
             << "'; only single-output layers are supported";
    return success();
  };
  for (const Layer &layer : model.layers)
    for (const auto &call : layer.calls)
      for (const TensorRef &ref : call)
        if (failed(checkRef(ref, layer.name)))
          return failure();
  for (const TensorRef &ref : model.outputs)
    if (failed(checkRef(ref, "output_layers")))
      return failure();

  // Convert calls whose inputs are ready until all are done (the JSON lists
  // layers in creation order, which need not be topological).
  std::vector<std::pair<const Layer *, size_t>> pending;
  for (const Layer &layer : model.layers)
    for (size_t c = 0; c < layer.calls.size(); ++c)
      pending.push_back({&layer, c});
  while (!pending.empty()) {
    bool progress = false;
    for (size_t p = 0; p < pending.size();) {
      auto [layer, c] = pending[p];
      SmallVector<Value> inputs;
      for (const TensorRef &ref : layer->calls[c]) {
        auto it = values.find(valueKey(ref.layer, ref.node, ref.tensor));
        if (it == values.end())
          break;
        inputs.push_back(it->second);
      }
      if (inputs.size() != layer->calls[c].size()) {
        ++p;
        continue;
      }
      const auto &table = kinds();
      auto kind = table.find(layer->className);
      if (kind == table.end()) {
        auto diag = error(*layer);
        if (layer->className == "Sequential" || layer->className == "Model" ||
            layer->className == "Functional")
          diag << "is a nested model, which is not supported; flatten it "
                  "into one model before saving";
        else if (layer->className == "Lambda")
          diag << "holds Python code, which cannot be imported";
        else
          diag << "is not a supported layer class; supported: "
               << supportedLayerList();
        return failure();
      }
      if (failed(checkFields(*layer, kind->second)))
        return failure();
      const LayerKind &k = kind->second;
      if (inputs.size() < k.minInputs ||
          (!k.variadic && inputs.size() != k.minInputs))
        return error(*layer)
               << "has " << inputs.size() << " inbound tensor(s), expected "
               << (k.variadic ? "at least " : "") << k.minInputs;
      FailureOr<Value> v = (this->*(k.convert))(*layer, inputs);
      if (failed(v))
        return failure();
      values[valueKey(layer->name, c, 0)] = *v;
      pending.erase(pending.begin() + p);
      progress = true;
    }
    if (!progress) {
      const Layer &layer = *pending.front().first;
      return error(layer) << "can never run: its inputs depend on a cycle";
    }
  }

  for (const TensorRef &ref : model.outputs)
    gb.addOutput(ref.layer, values[valueKey(ref.layer, ref.node, ref.tensor)],
                 /*nchw=*/false);
  return success();
}

} // namespace vai::import::keras

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

namespace vai::import {

/// Reads the model JSON from a .json file or the model_config attribute of a
/// whole-model .h5 file (kept open in `h5`).
static std::optional<json::Value>
readModelJson(MLIRContext &context, StringRef path,
              std::unique_ptr<keras::H5File> &h5, std::string &kerasVersion) {
  Location loc = FileLineColLoc::get(&context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(loc) << path << ": cannot read: " << buffer.getError().message();
    return std::nullopt;
  }
  StringRef bytes = (*buffer)->getBuffer();
  std::string text;
  if (bytes.starts_with("PK\x03\x04")) {
    emitError(loc) << path
                   << ": a zip archive (the Keras 3 .keras format), which is "
                      "not supported; save the model as .h5";
    return std::nullopt;
  }
  if (bytes.ltrim().starts_with("{")) {
    text = bytes.str();
  } else {
    std::string problem;
    h5 = keras::H5File::open(path, problem);
    if (!h5) {
      emitError(loc) << path << ": " << problem;
      return std::nullopt;
    }
    std::optional<std::string> config = h5->rootAttribute("model_config");
    if (!config) {
      emitError(loc) << path
                     << ": has no model_config attribute: a weights-only "
                        "file; import its architecture JSON with "
                        "`vai-translate model.json --weights "
                     << llvm::sys::path::filename(path) << "`";
      return std::nullopt;
    }
    text = *config;
    kerasVersion = h5->rootAttribute("keras_version").value_or("");
  }
  llvm::Expected<json::Value> value = json::parse(text);
  if (!value) {
    emitError(loc) << path << ": the model JSON is not valid JSON: "
                   << llvm::toString(value.takeError());
    return std::nullopt;
  }
  if (kerasVersion.empty())
    if (const json::Object *obj = value->getAsObject())
      if (std::optional<StringRef> v = obj->getString("keras_version"))
        kerasVersion = v->str();
  return std::move(*value);
}

OwningOpRef<ModuleOp> importKeras(MLIRContext &context, StringRef modelPath,
                                  StringRef weightsPath,
                                  const ImportOptions &options) {
  using namespace ::vai::import::keras;
  Location loc = FileLineColLoc::get(&context, modelPath, 0, 0);
  try {
    std::unique_ptr<H5File> modelFile, weightsFile;
    std::string kerasVersion;
    std::optional<json::Value> root =
        readModelJson(context, modelPath, modelFile, kerasVersion);
    if (!root)
      return nullptr;
    Model model;
    if (failed(parseModel(loc, modelPath, *root, model)))
      return nullptr;
    int major = 0;
    if (!StringRef(kerasVersion).split('.').first.getAsInteger(10, major))
      model.kerasMajor = major;

    H5File *weights = modelFile.get();
    std::string weightsName = modelPath.str();
    if (!weightsPath.empty()) {
      std::string problem;
      weightsFile = H5File::open(weightsPath, problem);
      if (!weightsFile) {
        emitError(loc) << weightsPath << ": " << problem;
        return nullptr;
      }
      weights = weightsFile.get();
      weightsName = weightsPath.str();
    }
    GraphBuilder builder(context, modelPath, options);
    LayerConverter converter(builder, model, weights, weightsName);
    if (failed(converter.convertModel()))
      return nullptr;
    return builder.finish();
  } catch (const std::exception &e) {
    emitError(loc) << modelPath << ": import failed: " << e.what();
  } catch (...) {
    emitError(loc) << modelPath << ": import failed with an unknown exception";
  }
  return nullptr;
}

} // namespace vai::import
