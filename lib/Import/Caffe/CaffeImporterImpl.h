//===- CaffeImporterImpl.h - Internals of the Caffe importer ----*- C++ -*-===//
//
// Shared between the files of the Caffe importer: reading the prototxt and
// the weights (CaffeWeights.cpp), and turning layers into vai ops
// (CaffeLayers.cpp, driven by CaffeImporter.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_IMPORT_CAFFE_CAFFEIMPORTERIMPL_H
#define VAI_LIB_IMPORT_CAFFE_CAFFEIMPORTERIMPL_H

#include "caffe.pb.h"

#include "vai/Import/GraphBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>
#include <vector>

namespace vai::import::caffe {

/// One parameter blob of a layer, in Caffe's layout.
struct Blob {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Parameter blobs by layer name.
using WeightMap = llvm::StringMap<std::vector<Blob>>;

/// "[a, b, c]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// The shape of `v` in Caffe's order (4-D values are NHWC inside).
llvm::SmallVector<int64_t> caffeShape(mlir::Value v);

/// Parses the text prototxt at `path` into `net` (V1 `layers` are upgraded
/// to `layer`). Syntax errors are reported at file:line:col.
mlir::LogicalResult parsePrototxt(mlir::MLIRContext &context,
                                  llvm::StringRef path,
                                  vai_caffe::NetParameter &net);

/// Converts a BlobProto (shape or legacy num/channels/height/width; float
/// or double data); returns an explanation when it is inconsistent.
std::optional<std::string> blobFromProto(const vai_caffe::BlobProto &proto,
                                         Blob &blob);

/// Outcome of reading a weights file.
struct WeightsFile {
  WeightMap weights;
  /// Set when the file could not be opened at all: reported only when a
  /// layer needs weights that the prototxt does not carry itself.
  std::optional<std::string> openError;
};

/// Reads a binary .caffemodel or an HDF5 .caffemodel.h5 (chosen by the
/// file's signature). A missing file is not an error here (see
/// WeightsFile::openError); a corrupt one is, reported naming the file.
mlir::LogicalResult loadWeights(mlir::MLIRContext &context,
                                llvm::StringRef path, WeightsFile &out);

/// Turns the layers of a net into vai ops.
class LayerConverter {
public:
  LayerConverter(GraphBuilder &builder, const WeightsFile &weights,
                 llvm::StringRef weightsPath)
      : gb(builder), weights(weights), weightsPath(weightsPath.str()) {}

  /// Converts the whole net: inputs, layers, outputs.
  mlir::LogicalResult convertNet(const vai_caffe::NetParameter &net);

  /// Types a converter handles, for the "supported layers" message.
  static std::string supportedLayerList();

private:
  using Layer = vai_caffe::LayerParameter;
  using ConvertFn = mlir::LogicalResult (LayerConverter::*)(const Layer &);
  static const llvm::StringMap<ConvertFn> &converters();

  // Graph bookkeeping: every value a layer produces, in order, and the
  // latest producer of each blob name (in-place layers reuse names).
  struct Produced {
    std::string name;
    mlir::Value value;
    bool consumed = false;
    bool isInput = false;
  };
  std::vector<Produced> produced;
  llvm::StringMap<size_t> latest;
  /// --input-shape entries, and whether each was used.
  std::vector<bool> overrideUsed;

  mlir::LogicalResult addLegacyInputs(const vai_caffe::NetParameter &net);
  mlir::LogicalResult addInput(const Layer *layer, llvm::StringRef name,
                               std::optional<std::vector<int64_t>> shape);
  std::optional<std::vector<int64_t>> inputOverride(llvm::StringRef name);
  mlir::LogicalResult convertLayer(const Layer &layer);
  mlir::LogicalResult finishOutputs();

  // Helpers for layer converters.
  mlir::InFlightDiagnostic error(const Layer &layer);
  mlir::LogicalResult expectArity(const Layer &layer, int minBottoms,
                                  int maxBottoms, int tops);
  mlir::FailureOr<mlir::Value> bottom(const Layer &layer, int index,
                                      int rank = -1);
  mlir::LogicalResult setTop(const Layer &layer, int index, mlir::Value v,
                             llvm::StringRef opName);
  mlir::FailureOr<std::vector<float>> weight(const Layer &layer, unsigned index,
                                             llvm::ArrayRef<int64_t> expected,
                                             llvm::StringRef what);
  mlir::Value constant(const Layer &layer, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<float> data, llvm::StringRef suffix);
  mlir::Value toCaffeOrder(const Layer &layer, mlir::Value v);
  mlir::Value fromCaffeOrder(const Layer &layer, mlir::Value v);
  mlir::Value reshape(const Layer &layer, mlir::Value v,
                      llvm::ArrayRef<int64_t> shape);
  mlir::FailureOr<int64_t> caffeAxis(const Layer &layer, int64_t axis,
                                     int64_t rank, bool allowEnd = false);

  // One converter per layer type (CaffeLayers.cpp).
  mlir::LogicalResult convertInputLayer(const Layer &layer);
  mlir::LogicalResult convertConvolution(const Layer &layer);
  mlir::LogicalResult convertDeconvolution(const Layer &layer);
  mlir::LogicalResult convertConv(const Layer &layer, bool transposed);
  mlir::LogicalResult convertInnerProduct(const Layer &layer);
  mlir::LogicalResult convertPooling(const Layer &layer);
  mlir::LogicalResult convertReLU(const Layer &layer);
  mlir::LogicalResult convertPReLU(const Layer &layer);
  mlir::LogicalResult convertSigmoid(const Layer &layer);
  mlir::LogicalResult convertTanH(const Layer &layer);
  mlir::LogicalResult convertBatchNorm(const Layer &layer);
  mlir::LogicalResult convertScale(const Layer &layer);
  mlir::LogicalResult convertEltwise(const Layer &layer);
  mlir::LogicalResult convertConcat(const Layer &layer);
  mlir::LogicalResult convertSlice(const Layer &layer);
  mlir::LogicalResult convertSplit(const Layer &layer);
  mlir::LogicalResult convertFlatten(const Layer &layer);
  mlir::LogicalResult convertReshape(const Layer &layer);
  mlir::LogicalResult convertSoftmax(const Layer &layer);
  mlir::LogicalResult convertDropout(const Layer &layer);

  template <typename OpTy>
  mlir::LogicalResult convertUnary(const Layer &layer,
                                   llvm::ArrayRef<mlir::NamedAttribute> attrs,
                                   llvm::StringRef opName);

  GraphBuilder &gb;
  const WeightsFile &weights;
  std::string weightsPath;
};

} // namespace vai::import::caffe

#endif // VAI_LIB_IMPORT_CAFFE_CAFFEIMPORTERIMPL_H
