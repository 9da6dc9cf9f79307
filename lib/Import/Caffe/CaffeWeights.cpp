//===- CaffeWeights.cpp - Reading Caffe prototxt and weight files ---------===//
//
// The text prototxt (with protobuf's text parser, errors at file:line:col),
// the binary .caffemodel and the HDF5 .caffemodel.h5 snapshot, and the
// upgrade of V1 (`layers { type: CONVOLUTION }`) layers. Nothing here throws
// or aborts: every failure becomes a diagnostic naming the file.
//
//===----------------------------------------------------------------------===//

#include "CaffeImporterImpl.h"

#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <hdf5.h>

#include <climits>

using namespace mlir;
using llvm::StringRef;

namespace vai::import::caffe {

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static Location fileLoc(MLIRContext &context, StringRef path, int line = 0,
                        int col = 0) {
  return FileLineColLoc::get(&context, path, line, col);
}

//===----------------------------------------------------------------------===//
// Prototxt
//===----------------------------------------------------------------------===//

namespace {
/// Turns protobuf's text-format errors into MLIR diagnostics.
class DiagnosticCollector : public google::protobuf::io::ErrorCollector {
public:
  DiagnosticCollector(MLIRContext &context, StringRef path)
      : context(context), path(path) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string &message) override {
    // The location carries file:line:col.
    emitError(fileLoc(context, path, line + 1, column + 1)) << message;
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string &message) override {
    emitWarning(fileLoc(context, path, line + 1, column + 1))
        << message << " (ignored)";
  }

private:
  MLIRContext &context;
  StringRef path;
};
} // namespace

/// Caffe's type name for a V1 layer type.
static std::string v1TypeName(vai_caffe::V1LayerParameter::LayerType type) {
  using V1 = vai_caffe::V1LayerParameter;
  static const std::pair<V1::LayerType, const char *> names[] = {
      {V1::CONCAT, "Concat"},
      {V1::CONVOLUTION, "Convolution"},
      {V1::DECONVOLUTION, "Deconvolution"},
      {V1::DROPOUT, "Dropout"},
      {V1::ELTWISE, "Eltwise"},
      {V1::FLATTEN, "Flatten"},
      {V1::INNER_PRODUCT, "InnerProduct"},
      {V1::POOLING, "Pooling"},
      {V1::RELU, "ReLU"},
      {V1::SIGMOID, "Sigmoid"},
      {V1::SOFTMAX, "Softmax"},
      {V1::SPLIT, "Split"},
      {V1::SLICE, "Slice"},
      {V1::TANH, "TanH"},
      {V1::ACCURACY, "Accuracy"},
      {V1::DATA, "Data"},
      {V1::DUMMY_DATA, "DummyData"},
      {V1::HDF5_DATA, "HDF5Data"},
      {V1::HDF5_OUTPUT, "HDF5Output"},
      {V1::IMAGE_DATA, "ImageData"},
      {V1::MEMORY_DATA, "MemoryData"},
      {V1::WINDOW_DATA, "WindowData"},
      {V1::SILENCE, "Silence"},
      {V1::CONTRASTIVE_LOSS, "ContrastiveLoss"},
      {V1::EUCLIDEAN_LOSS, "EuclideanLoss"},
      {V1::HINGE_LOSS, "HingeLoss"},
      {V1::INFOGAIN_LOSS, "InfogainLoss"},
      {V1::MULTINOMIAL_LOGISTIC_LOSS, "MultinomialLogisticLoss"},
      {V1::SIGMOID_CROSS_ENTROPY_LOSS, "SigmoidCrossEntropyLoss"},
      {V1::SOFTMAX_LOSS, "SoftmaxWithLoss"},
  };
  for (const auto &[v1, name] : names)
    if (v1 == type)
      return name;
  return V1::LayerType_Name(type);
}

/// Copies `from` into `to()` when present.
template <typename Param, typename MutableFn>
static void copyParam(bool present, const Param &from, MutableFn to) {
  if (present)
    to()->CopyFrom(from);
}

/// Rewrites V1 `layers` as `layer` entries (Caffe's own upgrade, for the
/// fields the importer reads).
static void upgradeV1Layers(vai_caffe::NetParameter &net) {
  for (const vai_caffe::V1LayerParameter &v1 : net.layers()) {
    vai_caffe::LayerParameter *l = net.add_layer();
    l->set_name(v1.name());
    l->set_type(v1TypeName(v1.type()));
    l->mutable_bottom()->CopyFrom(v1.bottom());
    l->mutable_top()->CopyFrom(v1.top());
    l->mutable_blobs()->CopyFrom(v1.blobs());
    l->mutable_include()->CopyFrom(v1.include());
    l->mutable_exclude()->CopyFrom(v1.exclude());
    copyParam(v1.has_concat_param(), v1.concat_param(),
              [&] { return l->mutable_concat_param(); });
    copyParam(v1.has_convolution_param(), v1.convolution_param(),
              [&] { return l->mutable_convolution_param(); });
    copyParam(v1.has_dropout_param(), v1.dropout_param(),
              [&] { return l->mutable_dropout_param(); });
    copyParam(v1.has_eltwise_param(), v1.eltwise_param(),
              [&] { return l->mutable_eltwise_param(); });
    copyParam(v1.has_inner_product_param(), v1.inner_product_param(),
              [&] { return l->mutable_inner_product_param(); });
    copyParam(v1.has_pooling_param(), v1.pooling_param(),
              [&] { return l->mutable_pooling_param(); });
    copyParam(v1.has_relu_param(), v1.relu_param(),
              [&] { return l->mutable_relu_param(); });
    copyParam(v1.has_softmax_param(), v1.softmax_param(),
              [&] { return l->mutable_softmax_param(); });
    copyParam(v1.has_slice_param(), v1.slice_param(),
              [&] { return l->mutable_slice_param(); });
  }
  net.clear_layers();
}

LogicalResult parsePrototxt(MLIRContext &context, StringRef path,
                            vai_caffe::NetParameter &net) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    emitError(fileLoc(context, path))
        << path
        << ": cannot read the prototxt: " << buffer.getError().message();
    return failure();
  }
  DiagnosticCollector collector(context, path);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.AllowUnknownField(true);
  std::string text = (*buffer)->getBuffer().str();
  if (!parser.ParseFromString(text, &net)) {
    emitError(fileLoc(context, path))
        << path << ": not a valid Caffe prototxt (NetParameter text format)";
    return failure();
  }
  if (net.layers_size() && net.layer_size()) {
    emitError(fileLoc(context, path))
        << path << ": mixes V1 'layers' and 'layer' entries";
    return failure();
  }
  upgradeV1Layers(net);
  return success();
}

//===----------------------------------------------------------------------===//
// Blobs
//===----------------------------------------------------------------------===//

std::optional<std::string> blobFromProto(const vai_caffe::BlobProto &proto,
                                         Blob &blob) {
  blob.shape.clear();
  if (proto.has_shape()) {
    blob.shape.assign(proto.shape().dim().begin(), proto.shape().dim().end());
  } else if (proto.has_num() || proto.has_channels() || proto.has_height() ||
             proto.has_width()) {
    blob.shape = {proto.num(), proto.channels(), proto.height(), proto.width()};
  }
  int64_t count = 1;
  for (int64_t d : blob.shape) {
    if (d < 0 || (d > 0 && count > INT64_MAX / d))
      return "has an invalid shape " + formatShape(blob.shape);
    count *= d;
  }
  if (proto.data_size()) {
    blob.data.assign(proto.data().begin(), proto.data().end());
  } else {
    blob.data.resize(proto.double_data_size());
    for (int i = 0; i < proto.double_data_size(); ++i)
      blob.data[i] = static_cast<float>(proto.double_data(i));
  }
  if (blob.shape.empty())
    blob.shape = {static_cast<int64_t>(blob.data.size())};
  else if (count != static_cast<int64_t>(blob.data.size()))
    return "holds " + std::to_string(blob.data.size()) +
           " values but its shape " + formatShape(blob.shape) + " needs " +
           std::to_string(count);
  return std::nullopt;
}

/// Adds the blobs of one layer to the map; false after a diagnostic.
template <typename LayerMessage>
static LogicalResult addLayerBlobs(MLIRContext &context, StringRef path,
                                   const LayerMessage &layer, WeightMap &out) {
  if (!layer.blobs_size())
    return success();
  std::vector<Blob> blobs(layer.blobs_size());
  for (int i = 0; i < layer.blobs_size(); ++i)
    if (auto problem = blobFromProto(layer.blobs(i), blobs[i])) {
      emitError(fileLoc(context, path))
          << path << ": blob " << i << " of layer '" << layer.name() << "' "
          << *problem;
      return failure();
    }
  out[layer.name()] = std::move(blobs);
  return success();
}

//===----------------------------------------------------------------------===//
// Binary .caffemodel
//===----------------------------------------------------------------------===//

static LogicalResult loadBinary(MLIRContext &context, StringRef path,
                                StringRef bytes, WeightMap &out) {
  vai_caffe::NetParameter net;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
  stream.SetTotalBytesLimit(INT_MAX);
  if (bytes.size() > INT_MAX || !net.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    emitError(fileLoc(context, path))
        << path
        << ": not a valid binary caffemodel (truncated or corrupt "
           "NetParameter)";
    return failure();
  }
  for (const auto &layer : net.layers())
    if (failed(addLayerBlobs(context, path, layer, out)))
      return failure();
  for (const auto &layer : net.layer())
    if (failed(addLayerBlobs(context, path, layer, out)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// HDF5 .caffemodel.h5: /data/<layer>/<i> datasets
//===----------------------------------------------------------------------===//

namespace {
/// Closes an HDF5 handle when it goes out of scope.
class H5Handle {
public:
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : id(id), close(close) {}
  ~H5Handle() {
    if (id >= 0)
      close(id);
  }
  H5Handle(const H5Handle &) = delete;
  H5Handle &operator=(const H5Handle &) = delete;
  bool valid() const { return id >= 0; }
  operator hid_t() const { return id; }

private:
  hid_t id;
  herr_t (*close)(hid_t);
};
} // namespace

static herr_t collectLinkName(hid_t, const char *name, const H5L_info_t *,
                              void *names) {
  static_cast<std::vector<std::string> *>(names)->push_back(name);
  return 0;
}

/// Reads dataset `name` of `group` as float; an explanation on failure.
static std::optional<std::string>
readDataset(hid_t group, const std::string &name, Blob &blob) {
  H5Handle set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set.valid())
    return "has no dataset '" + name + "'";
  H5Handle space(H5Dget_space(set), H5Sclose);
  int rank = space.valid() ? H5Sget_simple_extent_ndims(space) : -1;
  if (rank < 0 || rank > 32)
    return "dataset '" + name + "' has an unreadable shape";
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  blob.shape.assign(dims.begin(), dims.end());
  int64_t count = 1;
  for (int64_t d : blob.shape)
    count *= d;
  if (rank == 0)
    blob.shape = {1};
  blob.data.resize(count);
  if (count && H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       blob.data.data()) < 0)
    return "dataset '" + name + "' cannot be read as float (corrupt?)";
  return std::nullopt;
}

static LogicalResult loadHDF5(MLIRContext &context, StringRef path,
                              WeightMap &out) {
  // Our own messages replace HDF5's error stack printing.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  auto fail = [&](const Twine &what) {
    emitError(fileLoc(context, path)) << path << ": " << what;
    return failure();
  };
  std::string file = path.str();
  H5Handle h5(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!h5.valid())
    return fail("not a readable HDF5 file (truncated or corrupt)");
  H5Handle data(H5Gopen2(h5, "data", H5P_DEFAULT), H5Gclose);
  if (!data.valid())
    return fail("HDF5 file without a 'data' group: not a Caffe "
                ".caffemodel.h5 snapshot");
  // Visit recursively: a layer name with '/' (GoogLeNet's "conv1/7x7_s2")
  // is a nested path. Layers are the groups that hold a dataset "0".
  std::vector<std::string> paths;
  if (H5Lvisit(data, H5_INDEX_NAME, H5_ITER_INC, collectLinkName, &paths) < 0)
    return fail("cannot list the layers of the 'data' group (corrupt?)");
  for (const std::string &layer : paths) {
    if (H5Lexists(data, (layer + "/0").c_str(), H5P_DEFAULT) <= 0)
      continue;
    H5Handle group(H5Gopen2(data, layer.c_str(), H5P_DEFAULT), H5Gclose);
    H5G_info_t info;
    if (!group.valid() || H5Gget_info(group, &info) < 0)
      return fail("'data/" + layer + "' is not a group of blobs");
    std::vector<Blob> blobs(info.nlinks);
    for (hsize_t i = 0; i < info.nlinks; ++i)
      if (auto problem = readDataset(group, std::to_string(i), blobs[i]))
        return fail("layer '" + layer + "' " + *problem);
    out[layer] = std::move(blobs);
  }
  return success();
}

LogicalResult loadWeights(MLIRContext &context, StringRef path,
                          WeightsFile &out) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    out.openError = buffer.getError().message();
    return success();
  }
  StringRef bytes = (*buffer)->getBuffer();
  static constexpr char hdf5Signature[] = "\x89HDF\r\n\x1a\n";
  if (bytes.starts_with(StringRef(hdf5Signature, 8)) || path.ends_with(".h5") ||
      path.ends_with(".hdf5"))
    return loadHDF5(context, path, out.weights);
  return loadBinary(context, path, bytes, out.weights);
}

} // namespace vai::import::caffe
