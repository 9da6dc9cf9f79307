//===- CaffeImporter.cpp - Caffe prototxt + caffemodel into vai -----------===//
//
// The entry point importCaffe and the net-level walk: TEST-phase layer
// selection, inputs (Input layers and the legacy input/input_dim/input_shape
// fields), blob bookkeeping (in-place layers, Split aliases), dropping of
// training-only layers and the outputs (every top no later layer consumes).
// Per-layer conversion is in CaffeLayers.cpp; file reading in
// CaffeWeights.cpp.
//
//===----------------------------------------------------------------------===//

#include "CaffeImporterImpl.h"

#include "vai/Import/Import.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using llvm::StringRef;

namespace vai::import::caffe {

//===----------------------------------------------------------------------===//
// Layer selection
//===----------------------------------------------------------------------===//

/// Whether `rule` holds for Caffe's default TEST net state (level 0, no
/// stages).
static bool ruleHolds(const vai_caffe::NetStateRule &rule) {
  if (rule.has_phase() && rule.phase() != vai_caffe::TEST)
    return false;
  if (rule.has_min_level() && rule.min_level() > 0)
    return false;
  if (rule.has_max_level() && rule.max_level() < 0)
    return false;
  return rule.stage_size() == 0;
}

/// Caffe's StateMeetsRule logic: any exclude rule that holds drops the
/// layer; with include rules, one of them must hold.
static bool inTestNet(const vai_caffe::LayerParameter &layer) {
  if (llvm::any_of(layer.exclude(), ruleHolds))
    return false;
  return layer.include_size() == 0 || llvm::any_of(layer.include(), ruleHolds);
}

static bool isTrainingOnly(StringRef type) {
  static const char *const types[] = {
      "Data",      "HDF5Data", "ImageData", "MemoryData", "WindowData",
      "DummyData", "Accuracy", "Silence",   "HDF5Output", "AnnotatedData"};
  return llvm::is_contained(types, type) || type.ends_with("Loss");
}

//===----------------------------------------------------------------------===//
// Helpers shared by the layer converters
//===----------------------------------------------------------------------===//

InFlightDiagnostic LayerConverter::error(const Layer &layer) {
  InFlightDiagnostic diag = emitError(gb.loc(layer.name()));
  diag << gb.file() << ": layer '" << layer.name() << "' of type '"
       << layer.type() << "' ";
  return diag;
}

LogicalResult LayerConverter::expectArity(const Layer &layer, int minBottoms,
                                          int maxBottoms, int tops) {
  if (layer.bottom_size() < minBottoms || layer.bottom_size() > maxBottoms) {
    auto diag = error(layer)
                << "has " << layer.bottom_size() << " bottom(s), expected ";
    if (minBottoms == maxBottoms)
      diag << minBottoms;
    else if (maxBottoms == INT_MAX)
      diag << "at least " << minBottoms;
    else
      diag << minBottoms << " to " << maxBottoms;
    return failure();
  }
  if (tops >= 0 && layer.top_size() != tops)
    return error(layer) << "has " << layer.top_size() << " top(s), expected "
                        << tops;
  return success();
}

FailureOr<Value> LayerConverter::bottom(const Layer &layer, int index,
                                        int rank) {
  const std::string &name = layer.bottom(index);
  auto it = latest.find(name);
  if (it == latest.end()) {
    error(layer) << "reads blob '" << name
                 << "', which no earlier layer or input produces";
    return failure();
  }
  Produced &p = produced[it->second];
  p.consumed = true;
  if (rank >= 0 &&
      cast<RankedTensorType>(p.value.getType()).getRank() != rank) {
    error(layer) << "needs a " << rank << "-D bottom, got '" << name
                 << "' of shape " << formatShape(caffeShape(p.value));
    return failure();
  }
  return p.value;
}

LogicalResult LayerConverter::setTop(const Layer &layer, int index, Value v,
                                     StringRef opName) {
  if (!v)
    return error(layer) << "cannot be expressed as " << opName
                        << " (see the error above)";
  const std::string &name = layer.top(index);
  latest[name] = produced.size();
  produced.push_back({name, v, false, false});
  return success();
}

FailureOr<std::vector<float>>
LayerConverter::weight(const Layer &layer, unsigned index,
                       llvm::ArrayRef<int64_t> expected, StringRef what) {
  // Weights come from the weights file, else from blobs in the prototxt.
  const std::vector<Blob> *blobs = nullptr;
  std::vector<Blob> inlineBlobs;
  auto it = weights.weights.find(layer.name());
  if (it != weights.weights.end()) {
    blobs = &it->second;
  } else if (layer.blobs_size()) {
    inlineBlobs.resize(layer.blobs_size());
    for (int i = 0; i < layer.blobs_size(); ++i)
      if (auto problem = blobFromProto(layer.blobs(i), inlineBlobs[i])) {
        error(layer) << "has blob " << i << ", which " << *problem;
        return failure();
      }
    blobs = &inlineBlobs;
  }
  if (!blobs) {
    auto diag = error(layer) << "has no weights";
    if (weights.openError)
      diag << ": the weights file '" << weightsPath
           << "' cannot be read: " << *weights.openError;
    else
      diag << " in '" << weightsPath << "' (weights are matched by layer name)";
    return failure();
  }
  if (index >= blobs->size()) {
    error(layer) << "has " << blobs->size() << " weight blob(s), expected "
                 << what << " in blob " << index;
    return failure();
  }
  const Blob &blob = (*blobs)[index];
  // Old files store vectors and matrices as 4-D blobs with leading 1s.
  auto dropLeadingOnes = [](llvm::ArrayRef<int64_t> s) {
    while (s.size() > 1 && s.front() == 1)
      s = s.drop_front();
    return s;
  };
  if (dropLeadingOnes(blob.shape) != dropLeadingOnes(expected)) {
    error(layer) << "has " << what << " (blob " << index << ") of shape "
                 << formatShape(blob.shape) << ", expected "
                 << formatShape(expected);
    return failure();
  }
  return blob.data;
}

Value LayerConverter::constant(const Layer &layer,
                               llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<float> data, StringRef suffix) {
  std::string key = layer.name() + "_" + suffix.str();
  for (char &c : key)
    if (!llvm::isAlnum(c))
      c = '_';
  return gb.constant(gb.loc(layer.name()), shape, data, key);
}

Value LayerConverter::toCaffeOrder(const Layer &layer, Value v) {
  if (cast<RankedTensorType>(v.getType()).getRank() != 4)
    return v;
  return gb.toNCHW(gb.loc(layer.name()), v);
}

Value LayerConverter::fromCaffeOrder(const Layer &layer, Value v) {
  if (!v || cast<RankedTensorType>(v.getType()).getRank() != 4)
    return v;
  return gb.toNHWC(gb.loc(layer.name()), v);
}

FailureOr<int64_t> LayerConverter::caffeAxis(const Layer &layer, int64_t axis,
                                             int64_t rank, bool allowEnd) {
  int64_t limit = allowEnd ? rank + 1 : rank;
  int64_t a = axis < 0 ? axis + limit : axis;
  if (a < 0 || a >= limit) {
    error(layer) << "has axis " << axis << ", out of range for a " << rank
                 << "-D bottom";
    return failure();
  }
  return a;
}

//===----------------------------------------------------------------------===//
// Inputs, layers, outputs
//===----------------------------------------------------------------------===//

std::optional<std::vector<int64_t>>
LayerConverter::inputOverride(StringRef name) {
  const auto &shapes = gb.options().inputShapes;
  for (size_t i = 0; i < shapes.size(); ++i)
    if (shapes[i].first == name) {
      overrideUsed[i] = true;
      return shapes[i].second;
    }
  return std::nullopt;
}

LogicalResult
LayerConverter::addInput(const Layer *layer, StringRef name,
                         std::optional<std::vector<int64_t>> shape) {
  if (auto override = inputOverride(name))
    shape = override;
  Location loc = gb.loc(layer ? StringRef(layer->name()) : name);
  if (!shape || shape->empty())
    return emitError(loc) << gb.file() << ": input '" << name
                          << "' has no shape; give one with --input-shape "
                          << name << ":N,C,H,W";
  if (llvm::any_of(*shape, [](int64_t d) { return d < 1; }))
    return emitError(loc) << gb.file() << ": input '" << name << "' has shape "
                          << formatShape(*shape)
                          << "; every dimension must be positive";
  Value v = gb.addInput(name, *shape, /*nchw=*/true);
  latest[name] = produced.size();
  produced.push_back({name.str(), v, false, true});
  return success();
}

LogicalResult
LayerConverter::addLegacyInputs(const vai_caffe::NetParameter &net) {
  bool byDims = net.input_dim_size() > 0;
  if (byDims && net.input_dim_size() != 4 * net.input_size())
    return emitError(gb.loc(gb.file()))
           << gb.file() << ": " << net.input_size() << " input(s) need "
           << 4 * net.input_size() << " input_dim values, got "
           << net.input_dim_size();
  for (int i = 0; i < net.input_size(); ++i) {
    std::optional<std::vector<int64_t>> shape;
    if (i < net.input_shape_size())
      shape.emplace(net.input_shape(i).dim().begin(),
                    net.input_shape(i).dim().end());
    else if (byDims)
      shape.emplace(net.input_dim().begin() + 4 * i,
                    net.input_dim().begin() + 4 * i + 4);
    if (failed(addInput(nullptr, net.input(i), shape)))
      return failure();
  }
  return success();
}

LogicalResult LayerConverter::convertInputLayer(const Layer &layer) {
  const auto &shapes = layer.input_param().shape();
  for (int i = 0; i < layer.top_size(); ++i) {
    std::optional<std::vector<int64_t>> shape;
    int index = shapes.size() == 1 ? 0 : i;
    if (index < shapes.size())
      shape.emplace(shapes[index].dim().begin(), shapes[index].dim().end());
    if (failed(addInput(&layer, layer.top(i), shape)))
      return failure();
  }
  return success();
}

LogicalResult LayerConverter::convertLayer(const Layer &layer) {
  if (isTrainingOnly(layer.type())) {
    // A training net's data layer becomes an input when its shape is given.
    bool anyInput = false;
    for (const std::string &top : layer.top())
      if (layer.type() != "Accuracy" &&
          !StringRef(layer.type()).ends_with("Loss") && inputOverride(top)) {
        if (failed(addInput(&layer, top, std::nullopt)))
          return failure();
        anyInput = true;
      }
    if (!anyInput)
      emitRemark(gb.loc(layer.name()))
          << gb.file() << ": dropping training-only layer '" << layer.name()
          << "' of type '" << layer.type() << "'";
    return success();
  }
  const auto &table = converters();
  auto it = table.find(layer.type());
  if (it == table.end())
    return error(layer) << "is not supported; supported layers: "
                        << supportedLayerList();
  return (this->*(it->second))(layer);
}

LogicalResult LayerConverter::finishOutputs() {
  unsigned count = 0;
  for (const Produced &p : produced)
    if (!p.consumed && !p.isInput) {
      gb.addOutput(p.name, p.value, /*nchw=*/true);
      ++count;
    }
  if (!count)
    return emitError(gb.loc(gb.file()))
           << gb.file() << ": the net has no outputs (every top is consumed)";
  return success();
}

LogicalResult LayerConverter::convertNet(const vai_caffe::NetParameter &net) {
  overrideUsed.assign(gb.options().inputShapes.size(), false);
  if (failed(addLegacyInputs(net)))
    return failure();
  for (const Layer &layer : net.layer()) {
    if (!inTestNet(layer))
      continue;
    if (failed(convertLayer(layer)))
      return failure();
  }
  for (size_t i = 0; i < overrideUsed.size(); ++i)
    if (!overrideUsed[i])
      return emitError(gb.loc(gb.file()))
             << gb.file() << ": --input-shape names '"
             << gb.options().inputShapes[i].first
             << "', which is not an input of the net";
  return finishOutputs();
}

} // namespace vai::import::caffe

namespace vai::import {

OwningOpRef<ModuleOp> importCaffe(MLIRContext &context, StringRef prototxt,
                                  StringRef weights,
                                  const ImportOptions &options) {
  using namespace ::vai::import::caffe;
  try {
    vai_caffe::NetParameter net;
    if (failed(parsePrototxt(context, prototxt, net)))
      return nullptr;
    WeightsFile weightsFile;
    if (failed(loadWeights(context, weights, weightsFile)))
      return nullptr;
    GraphBuilder builder(context, prototxt, options);
    LayerConverter converter(builder, weightsFile, weights);
    if (failed(converter.convertNet(net)))
      return nullptr;
    return builder.finish();
  } catch (const std::exception &e) {
    emitError(FileLineColLoc::get(&context, prototxt, 0, 0))
        << prototxt << ": import failed: " << e.what();
  } catch (...) {
    emitError(FileLineColLoc::get(&context, prototxt, 0, 0))
        << prototxt << ": import failed with an unknown exception";
  }
  return nullptr;
}

} // namespace vai::import
