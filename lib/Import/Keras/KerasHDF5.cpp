//===- KerasHDF5.cpp - Reading Keras HDF5 files with libhdf5 --------------===//
//
// Keras (2.0 to 2.13, tf.keras included) saves with h5py:
//   whole model:  root attributes model_config (JSON), keras_version;
//                 group model_weights with attribute layer_names and one
//                 group per layer with attribute weight_names, whose entries
//                 ("conv1/kernel:0") are dataset paths inside that group;
//   weights only: the same layer groups and attributes at the root.
// Attributes larger than HDF5's 64 KiB limit are split by Keras into
// NAME0, NAME1, ...; string lists are fixed- or variable-length strings,
// an empty list an empty float array. Nothing here aborts: every failure is
// an explanation the caller reports naming the file.
//
//===----------------------------------------------------------------------===//

#include "KerasImporterImpl.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"

#include <hdf5.h>

using llvm::StringRef;

namespace vai::import::keras {

namespace {
/// An HDF5 identifier of any kind, released at scope exit (H5Idec_ref
/// closes attributes, types, spaces, datasets and groups alike).
struct Id {
  hid_t id;
  Id(const Id &) = delete;
  Id &operator=(const Id &) = delete;
  ~Id() {
    if (id >= 0)
      H5Idec_ref(id);
  }
  bool valid() const { return id >= 0; }
  operator hid_t() const { return id; }
};
} // namespace

/// Reads attribute `name` of `obj` as a list of strings; false with an
/// explanation when it is not one.
static bool readStrings(hid_t obj, const std::string &name,
                        std::vector<std::string> &out, std::string &error) {
  Id attr{H5Aopen(obj, name.c_str(), H5P_DEFAULT)};
  if (!attr.valid()) {
    error = "attribute '" + name + "' cannot be opened";
    return false;
  }
  Id type{H5Aget_type(attr)};
  Id space{H5Aget_space(attr)};
  hssize_t n = space.valid() ? H5Sget_simple_extent_npoints(space) : -1;
  if (!type.valid() || n < 0) {
    error = "attribute '" + name + "' is unreadable";
    return false;
  }
  if (H5Tget_class(type) != H5T_STRING) {
    if (n == 0) // h5py writes an empty list as an empty float array
      return true;
    error = "attribute '" + name + "' does not hold strings";
    return false;
  }
  if (H5Tis_variable_str(type) > 0) {
    std::vector<char *> ptrs(n, nullptr);
    Id mem{H5Tcopy(H5T_C_S1)};
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    if (H5Aread(attr, mem, ptrs.data()) < 0) {
      error = "attribute '" + name + "' cannot be read";
      return false;
    }
    for (char *p : ptrs)
      out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
    return true;
  }
  // Fixed length (numpy's "S" arrays, NUL padded): read the bytes as they
  // are stored; a NUL-terminated memory type could drop a last character.
  size_t size = H5Tget_size(type);
  std::vector<char> buffer(size * n);
  if (size == 0 || H5Aread(attr, type, buffer.data()) < 0) {
    error = "attribute '" + name + "' cannot be read";
    return false;
  }
  for (hssize_t i = 0; i < n; ++i) {
    StringRef s(buffer.data() + i * size, size);
    out.push_back(s.substr(0, s.find('\0')).rtrim(' ').str());
  }
  return true;
}

/// Attribute `name`, or Keras's chunks NAME0, NAME1, ... of a large one.
/// nullopt when absent.
static std::optional<std::vector<std::string>>
stringsAttribute(hid_t obj, const std::string &name, std::string &error) {
  std::vector<std::string> out;
  if (H5Aexists(obj, name.c_str()) > 0) {
    if (!readStrings(obj, name, out, error))
      return std::nullopt;
    return out;
  }
  int chunk = 0;
  for (; H5Aexists(obj, (name + std::to_string(chunk)).c_str()) > 0; ++chunk)
    if (!readStrings(obj, name + std::to_string(chunk), out, error))
      return std::nullopt;
  if (!chunk)
    return std::nullopt;
  return out;
}

H5File::~H5File() {
  if (weightsRoot >= 0 && weightsRoot != file)
    H5Gclose(weightsRoot);
  if (file >= 0)
    H5Fclose(file);
}

std::unique_ptr<H5File> H5File::open(StringRef path, std::string &error) {
  // Our own messages replace HDF5's error stack printing.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  std::string name = path.str();
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status)) {
    error = "cannot read: " + ec.message();
    return nullptr;
  }
  if (H5Fis_hdf5(name.c_str()) <= 0) {
    error = "not an HDF5 file (truncated, corrupt or another format)";
    return nullptr;
  }
  std::unique_ptr<H5File> f(new H5File());
  f->file = H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f->file < 0) {
    error = "not a readable HDF5 file (truncated or corrupt)";
    return nullptr;
  }
  if (H5Lexists(f->file, "model_weights", H5P_DEFAULT) > 0) {
    f->weightsRoot = H5Gopen2(f->file, "model_weights", H5P_DEFAULT);
    f->prefix = "model_weights/";
    if (f->weightsRoot < 0) {
      error = "group 'model_weights' cannot be opened (corrupt?)";
      return nullptr;
    }
  } else {
    f->weightsRoot = f->file;
  }
  return f;
}

std::optional<std::string> H5File::rootAttribute(StringRef name) {
  std::string error;
  auto strings = stringsAttribute(file, name.str(), error);
  if (!strings || strings->size() != 1)
    return std::nullopt;
  return strings->front();
}

/// Reads dataset `path` of `group` as float; an explanation on failure.
static std::optional<std::string>
readDataset(hid_t group, const std::string &path, Weight &w) {
  // H5Lexists fails on a missing intermediate group: the same answer.
  if (H5Lexists(group, path.c_str(), H5P_DEFAULT) <= 0)
    return "has no dataset '" + path + "' (listed in its weight_names)";
  Id set{H5Dopen2(group, path.c_str(), H5P_DEFAULT)};
  if (!set.valid())
    return "has '" + path + "', which is not a dataset";
  Id space{H5Dget_space(set)};
  int rank = space.valid() ? H5Sget_simple_extent_ndims(space) : -1;
  if (rank < 0 || rank > 32)
    return "has dataset '" + path + "' with an unreadable shape";
  Id type{H5Dget_type(set)};
  H5T_class_t cls = type.valid() ? H5Tget_class(type) : H5T_NO_CLASS;
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    return "has dataset '" + path + "', which is not numeric";
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  w.shape.assign(dims.begin(), dims.end());
  int64_t count = 1;
  for (int64_t d : w.shape)
    count *= d;
  w.data.resize(count);
  if (count && H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       w.data.data()) < 0)
    return "has dataset '" + path + "', which cannot be read (truncated?)";
  return std::nullopt;
}

std::optional<std::vector<Weight>> H5File::layerWeights(StringRef layer,
                                                        std::string &error) {
  std::string name = layer.str();
  if (H5Lexists(weightsRoot, name.c_str(), H5P_DEFAULT) <= 0)
    return std::nullopt;
  std::vector<Weight> out;
  Id group{H5Gopen2(weightsRoot, name.c_str(), H5P_DEFAULT)};
  if (!group.valid()) {
    error = "'" + prefix + name + "' is not a group";
    return out;
  }
  auto names = stringsAttribute(group, "weight_names", error);
  if (!names) {
    if (error.empty())
      error = "group '" + prefix + name + "' has no weight_names attribute";
    return out;
  }
  for (const std::string &path : *names) {
    Weight w;
    w.name = path;
    StringRef key = StringRef(path).rsplit('/').second;
    if (key.empty())
      key = path;
    w.key = key.split(':').first.str();
    if (auto problem = readDataset(group, path, w)) {
      error = "group '" + prefix + name + "' " + *problem;
      return out;
    }
    out.push_back(std::move(w));
  }
  return out;
}

} // namespace vai::import::keras
