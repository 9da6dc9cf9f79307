//===- KerasImporterImpl.h - Internals of the Keras importer ----*- C++ -*-===//
//
// Shared between the files of the Keras importer: the HDF5 file
// (KerasHDF5.cpp), the model JSON normalised across Keras versions and the
// graph walk (KerasImporter.cpp), and one converter per layer class
// (KerasLayers.cpp).
//
// Values hold exactly the tensors Keras computes (NHWC for channels_last
// layers); channels_first layers are wrapped in transposes.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_KERAS_KERASIMPORTERIMPL_H
#define VAI_LIB_IMPORT_KERAS_KERASIMPORTERIMPL_H

#include "vai/Import/GraphBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vai::import::keras {

/// "[a, b, c]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// One stored weight of a layer.
struct Weight {
  /// The name in the layer's `weight_names` attribute ("conv1/kernel:0").
  std::string name;
  /// Its last path component without the ":N" suffix ("kernel").
  std::string key;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// An open Keras HDF5 file: a whole model (`model_config` attribute and the
/// `model_weights` group) or a weights-only file (layer groups at the root).
/// Failures are explanations for the caller's diagnostics; HDF5's own error
/// printing is off.
class H5File {
public:
  ~H5File();
  /// Opens `path`; an explanation when it is not a readable HDF5 file.
  static std::unique_ptr<H5File> open(llvm::StringRef path, std::string &error);
  /// A string attribute of the root ("model_config", "keras_version").
  std::optional<std::string> rootAttribute(llvm::StringRef name);
  /// The weights of layer `layer` in `weight_names` order; nullopt when the
  /// file has no group for the layer, an explanation on a broken one.
  std::optional<std::vector<Weight>> layerWeights(llvm::StringRef layer,
                                                  std::string &error);
  /// Where layer groups live: "model_weights/" or "" (weights-only file).
  llvm::StringRef weightsPrefix() const { return prefix; }

private:
  H5File() = default;
  int64_t file = -1;
  int64_t weightsRoot = -1;
  std::string prefix;
};

/// One inbound tensor of a layer call: output `tensor` of call `node` of
/// `layer`.
struct TensorRef {
  std::string layer;
  int64_t node = 0;
  int64_t tensor = 0;
};

/// A layer of the model, normalised across Keras versions.
struct Layer {
  std::string className;
  std::string name;
  const llvm::json::Object *config = nullptr;
  /// The inbound tensors of each call of the layer (shared layers have
  /// several); empty for input layers.
  std::vector<std::vector<TensorRef>> calls;
};

/// A model input.
struct Input {
  std::string name;
  /// Keras's batch shape; -1 for None.
  std::vector<int64_t> shape;
  /// The layer that declared it (for diagnostics).
  std::string layer;
};

/// A model, Sequential or functional, as a graph of layer calls.
struct Model {
  std::vector<Input> inputs;
  std::vector<Layer> layers;
  std::vector<TensorRef> outputs;
  /// Keras's major version (2 unless the file says otherwise).
  int kerasMajor = 2;
};

/// Reads the model JSON (`{"class_name": "Sequential" | "Model" |
/// "Functional", "config": ...}`) into `model`; `root` must outlive it.
/// Emits diagnostics at `loc` naming `file`.
mlir::LogicalResult parseModel(mlir::Location loc, llvm::StringRef file,
                               const llvm::json::Value &root, Model &model);

/// Turns layers into vai ops.
class LayerConverter {
public:
  LayerConverter(GraphBuilder &builder, const Model &model, H5File *weights,
                 llvm::StringRef weightsPath)
      : gb(builder), model(model), weights(weights),
        weightsPath(weightsPath.str()) {}

  /// Converts the whole model: inputs, layer calls, outputs.
  mlir::LogicalResult convertModel();

  /// Classes a converter handles, for the "supported layers" message.
  static std::string supportedLayerList();

  // Used by the converters (KerasLayers.cpp).
  using Values = llvm::ArrayRef<mlir::Value>;
  using ConvertFn =
      mlir::FailureOr<mlir::Value> (LayerConverter::*)(const Layer &, Values);
  struct LayerKind {
    ConvertFn convert;
    /// Config fields this converter reads (others must be harmless).
    std::vector<llvm::StringRef> fields;
    /// Number of inbound tensors: exact, or at least `minInputs` when
    /// `variadic`.
    unsigned minInputs = 1;
    bool variadic = false;
  };

private:
  static const llvm::StringMap<LayerKind> &kinds();

  // Diagnostics and config access.
  mlir::InFlightDiagnostic error(const Layer &layer);
  mlir::LogicalResult checkFields(const Layer &layer, const LayerKind &kind);
  const llvm::json::Value *field(const Layer &layer, llvm::StringRef key);
  template <typename T>
  mlir::FailureOr<T>
  getScalar(const Layer &layer, llvm::StringRef key, std::optional<T> fallback,
            std::optional<T> (*read)(const llvm::json::Value &),
            llvm::StringRef kind);
  mlir::FailureOr<int64_t> getInt(const Layer &layer, llvm::StringRef key,
                                  std::optional<int64_t> fallback);
  mlir::FailureOr<double> getFloat(const Layer &layer, llvm::StringRef key,
                                   std::optional<double> fallback);
  mlir::FailureOr<bool> getBool(const Layer &layer, llvm::StringRef key,
                                bool fallback);
  mlir::FailureOr<std::string> getString(const Layer &layer,
                                         llvm::StringRef key,
                                         std::optional<std::string> fallback);
  /// `n` integers from an int or a list (Keras's "int or tuple" fields).
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  getInts(const Layer &layer, llvm::StringRef key, size_t n,
          std::optional<int64_t> fallback);
  /// The `axis` field (default -1) as an axis of `v`.
  mlir::FailureOr<int64_t> getAxis(const Layer &layer, mlir::Value v);
  mlir::FailureOr<bool> channelsFirst(const Layer &layer);
  /// The `activation` field (default "linear").
  mlir::FailureOr<std::string> activation(const Layer &layer);

  // Weights.
  mlir::FailureOr<const std::vector<Weight> *> layerWeights(const Layer &layer);
  /// The weight named `key` (else the one at `index`), checked against
  /// `expected`.
  mlir::FailureOr<const Weight *> weight(const Layer &layer,
                                         llvm::StringRef key, unsigned index,
                                         llvm::ArrayRef<int64_t> expected);
  mlir::LogicalResult expectWeightCount(const Layer &layer, size_t count);
  mlir::Value constant(const Layer &layer, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<float> data, llvm::StringRef suffix);

  // Op helpers.
  mlir::Value applyActivation(const Layer &layer, mlir::Value v,
                              llvm::StringRef act);
  mlir::FailureOr<mlir::Value> checked(const Layer &layer, mlir::Value v);
  mlir::Value reshape(const Layer &layer, mlir::Value v,
                      llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(const Layer &layer, mlir::Value v,
                        llvm::ArrayRef<int64_t> perm);
  mlir::FailureOr<mlir::Value> expectRank(const Layer &layer, mlir::Value v,
                                          int64_t rank);
  /// Keras's padding of one spatial axis: [before, after].
  mlir::FailureOr<std::pair<int64_t, int64_t>>
  padding(const Layer &layer, llvm::StringRef mode, int64_t size,
          int64_t kernel, int64_t stride, int64_t dilation);

  // Shared by the converters: the input made channels-last (transposed
  // when the layer is channels_first) and whether it was; the activation
  // and the transpose back; the bias operand when `use_bias` (weight
  // `index`) and the check that the layer has no other weights.
  mlir::FailureOr<std::pair<mlir::Value, bool>>
  channelsLastInput(const Layer &layer, mlir::Value v, int64_t rank);
  mlir::FailureOr<mlir::Value> finishLayer(const Layer &layer, mlir::Value y,
                                           llvm::StringRef act, bool cf);
  mlir::LogicalResult appendBias(const Layer &layer,
                                 llvm::SmallVectorImpl<mlir::Value> &operands,
                                 unsigned index, int64_t size);

  /// Convolution geometry from the layer's config for an NHWC input
  /// (1-D convolutions as 2-D ones of height 1).
  struct ConvGeometry {
    llvm::SmallVector<int64_t> kernel, strides, dilations, pad;
  };
  mlir::FailureOr<ConvGeometry>
  convGeometry(const Layer &layer, mlir::Value nhwc, size_t spatialDims);
  llvm::SmallVector<mlir::NamedAttribute> geometryAttrs(const ConvGeometry &g);
  /// Input and reordered `depthwise_kernel` of a depthwise convolution.
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  depthwiseOperands(const Layer &layer, mlir::Value x, int64_t multiplier,
                    const ConvGeometry &g);

  // Converters.
  /// Conv2D and Conv1D; DepthwiseConv2D and SeparableConv2D.
  mlir::FailureOr<mlir::Value> convertConv(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertDepthwise(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertConv2DTranspose(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertDense(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertBatchNorm(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertActivation(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertReLU(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertLeakyReLU(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertPReLU(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertSoftmax(const Layer &, Values);
  template <bool Max>
  mlir::FailureOr<mlir::Value> convertPool(const Layer &, Values);
  template <bool Max>
  mlir::FailureOr<mlir::Value> convertGlobalPool(const Layer &, Values);
  /// Add, Subtract, Multiply, Maximum, Minimum: OpTy folded over the inputs.
  template <typename OpTy>
  mlir::FailureOr<mlir::Value> convertMerge(const Layer &layer, Values inputs);
  mlir::FailureOr<mlir::Value> convertAverage(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertConcatenate(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertFlatten(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertReshape(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertZeroPadding2D(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertUpSampling2D(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertDropout(const Layer &, Values);
  mlir::FailureOr<mlir::Value> convertIdentity(const Layer &, Values);

  GraphBuilder &gb;
  const Model &model;
  H5File *weights;
  std::string weightsPath;
  llvm::StringMap<std::vector<Weight>> weightCache;
  /// Output `tensor` of call `node` of a layer, by "layer\0node\0tensor".
  llvm::StringMap<mlir::Value> values;
  /// --input-shape entries, and whether each was used.
  std::vector<bool> overrideUsed;
};

} // namespace vai::import::keras

#endif // VAI_LIB_IMPORT_KERAS_KERASIMPORTERIMPL_H
