//===- ONNXTensor.cpp - Constant tensors of the ONNX importer -------------===//
//
// TensorProto parsing (with size checks before any raw_data read) and the
// constant folding helpers of the ONNX importer.
//
//===----------------------------------------------------------------------===//

#include "ONNXTensor.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace vai::import::onnx_import {

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t> ConstTensor::ints() const {
  std::vector<int64_t> out;
  out.reserve(data.size());
  for (double v : data) {
    if (v >= 9.2e18)
      out.push_back(std::numeric_limits<int64_t>::max());
    else if (v <= -9.2e18)
      out.push_back(std::numeric_limits<int64_t>::min());
    else
      out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

/// Row-major strides of `shape`.
static std::vector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

static float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(static_cast<float>(mant | 0x400),
                   static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

/// Decodes `count` little-endian elements of type T from raw bytes.
template <typename T, typename Convert>
static void decodeRaw(const std::string &raw, int64_t count,
                      std::vector<double> &out, Convert convert) {
  out.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = convert(v);
  }
}

bool parseTensor(const onnx::TensorProto &proto, ConstTensor &out,
                 std::string &error) {
  out.shape.assign(proto.dims().begin(), proto.dims().end());
  for (int64_t d : out.shape)
    if (d < 0) {
      error = "negative dimension";
      return false;
    }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    error = "external tensor data is not supported";
    return false;
  }
  int64_t count = numElements(out.shape);
  int type = proto.data_type();
  size_t elemSize = 0;
  switch (type) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    elemSize = 4;
    break;
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
    elemSize = 8;
    break;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    elemSize = 2;
    break;
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
    elemSize = 1;
    break;
  default:
    error = "unsupported tensor element type " + std::to_string(type);
    return false;
  }
  out.isInteger = type != onnx::TensorProto::FLOAT &&
                  type != onnx::TensorProto::DOUBLE &&
                  type != onnx::TensorProto::FLOAT16;

  auto identity = [](auto v) { return static_cast<double>(v); };
  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (raw.size() != static_cast<size_t>(count) * elemSize) {
      error = "raw_data holds " + std::to_string(raw.size()) +
              " bytes, the shape needs " +
              std::to_string(static_cast<size_t>(count) * elemSize);
      return false;
    }
    switch (type) {
    case onnx::TensorProto::FLOAT:
      decodeRaw<float>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::DOUBLE:
      decodeRaw<double>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::FLOAT16:
      decodeRaw<uint16_t>(raw, count, out.data, halfToFloat);
      break;
    case onnx::TensorProto::INT64:
      decodeRaw<int64_t>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::UINT64:
      decodeRaw<uint64_t>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::INT32:
      decodeRaw<int32_t>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::UINT32:
      decodeRaw<uint32_t>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::INT16:
      decodeRaw<int16_t>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::UINT16:
      decodeRaw<uint16_t>(raw, count, out.data, identity);
      break;
    case onnx::TensorProto::INT8:
      decodeRaw<int8_t>(raw, count, out.data, identity);
      break;
    default: // UINT8, BOOL
      decodeRaw<uint8_t>(raw, count, out.data, identity);
      break;
    }
    return true;
  }

  // Typed fields.
  auto take = [&](const auto &field, auto convert) {
    if (field.size() != count) {
      error = "holds " + std::to_string(field.size()) +
              " values, the shape needs " + std::to_string(count);
      return false;
    }
    out.data.resize(count);
    for (int64_t i = 0; i < count; ++i)
      out.data[i] = convert(field.Get(i));
    return true;
  };
  switch (type) {
  case onnx::TensorProto::FLOAT:
    return take(proto.float_data(), identity);
  case onnx::TensorProto::DOUBLE:
    return take(proto.double_data(), identity);
  case onnx::TensorProto::INT64:
    return take(proto.int64_data(), identity);
  case onnx::TensorProto::UINT64:
  case onnx::TensorProto::UINT32:
    return take(proto.uint64_data(), identity);
  case onnx::TensorProto::FLOAT16:
    return take(proto.int32_data(), [](int32_t v) {
      return static_cast<double>(halfToFloat(static_cast<uint16_t>(v)));
    });
  default:
    return take(proto.int32_data(), identity);
  }
}

bool foldBinary(const ConstTensor &a, const ConstTensor &b,
                const std::function<double(double, double)> &fn,
                ConstTensor &out) {
  int64_t rank = std::max(a.rank(), b.rank());
  ConstTensor pa = padRank(a, rank), pb = padRank(b, rank);
  out.shape.assign(rank, 1);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t da = pa.shape[i], db = pb.shape[i];
    if (da != db && da != 1 && db != 1)
      return false;
    out.shape[i] = da == 1 ? db : da;
  }
  out.isInteger = a.isInteger && b.isInteger;
  std::vector<int64_t> sa = stridesOf(pa.shape), sb = stridesOf(pb.shape),
                       so = stridesOf(out.shape);
  int64_t count = numElements(out.shape);
  out.data.resize(count);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t ia = 0, ib = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t idx = (flat / so[d]) % out.shape[d];
      ia += pa.shape[d] == 1 ? 0 : idx * sa[d];
      ib += pb.shape[d] == 1 ? 0 : idx * sb[d];
    }
    double v = fn(pa.data[ia], pb.data[ib]);
    out.data[flat] = out.isInteger ? std::trunc(v) : v;
  }
  return true;
}

ConstTensor transposeConst(const ConstTensor &in,
                           llvm::ArrayRef<int64_t> perm) {
  ConstTensor out;
  out.isInteger = in.isInteger;
  int64_t rank = in.rank();
  for (int64_t p : perm)
    out.shape.push_back(in.shape[p]);
  std::vector<int64_t> si = stridesOf(in.shape), so = stridesOf(out.shape);
  out.data.resize(in.data.size());
  for (int64_t flat = 0, n = out.data.size(); flat < n; ++flat) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += ((flat / so[d]) % out.shape[d]) * si[perm[d]];
    out.data[flat] = in.data[src];
  }
  return out;
}

ConstTensor padRank(const ConstTensor &in, int64_t rank) {
  ConstTensor out = in;
  if (in.rank() < rank)
    out.shape.insert(out.shape.begin(), rank - in.rank(), 1);
  return out;
}

bool resolveSlice(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> starts,
                  llvm::ArrayRef<int64_t> ends, llvm::ArrayRef<int64_t> axes,
                  llvm::ArrayRef<int64_t> steps, std::vector<SliceDim> &dims,
                  std::string &error) {
  int64_t rank = shape.size();
  dims.clear();
  for (int64_t d : shape)
    dims.push_back({0, d, 1});
  if (starts.size() != ends.size() ||
      (!axes.empty() && axes.size() != starts.size()) ||
      (!steps.empty() && steps.size() != starts.size())) {
    error = "starts, ends, axes and steps differ in length";
    return false;
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes.empty() ? static_cast<int64_t>(i) : axes[i];
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank) {
      error = "slice axis out of range";
      return false;
    }
    int64_t step = steps.empty() ? 1 : steps[i];
    if (step == 0) {
      error = "slice step is 0";
      return false;
    }
    int64_t dim = shape[axis], start = starts[i], end = ends[i];
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      dims[axis] = {
          start, std::max<int64_t>(0, (end - start + step - 1) / step), step};
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      dims[axis] = {
          start, std::max<int64_t>(0, (start - end - step - 1) / -step), step};
    }
  }
  return true;
}

ConstTensor sliceConst(const ConstTensor &in, llvm::ArrayRef<SliceDim> dims) {
  ConstTensor out;
  out.isInteger = in.isInteger;
  for (const SliceDim &d : dims)
    out.shape.push_back(d.size);
  std::vector<int64_t> si = stridesOf(in.shape), so = stridesOf(out.shape);
  int64_t count = numElements(out.shape);
  out.data.resize(count);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t src = 0;
    for (size_t d = 0; d < dims.size(); ++d) {
      int64_t idx = (flat / so[d]) % out.shape[d];
      src += (dims[d].start + idx * dims[d].step) * si[d];
    }
    out.data[flat] = in.data[src];
  }
  return out;
}

bool gatherConst(const ConstTensor &data, const ConstTensor &indices,
                 int64_t axis, ConstTensor &out) {
  int64_t dim = data.shape[axis];
  int64_t outer =
      numElements(llvm::ArrayRef<int64_t>(data.shape).take_front(axis));
  int64_t inner =
      numElements(llvm::ArrayRef<int64_t>(data.shape).drop_front(axis + 1));
  out = ConstTensor();
  out.isInteger = data.isInteger;
  out.shape.assign(data.shape.begin(), data.shape.begin() + axis);
  out.shape.insert(out.shape.end(), indices.shape.begin(), indices.shape.end());
  out.shape.insert(out.shape.end(), data.shape.begin() + axis + 1,
                   data.shape.end());
  for (int64_t o = 0; o < outer; ++o)
    for (double fi : indices.data) {
      int64_t i = static_cast<int64_t>(fi);
      if (i < 0)
        i += dim;
      if (i < 0 || i >= dim)
        return false;
      for (int64_t k = 0; k < inner; ++k)
        out.data.push_back(data.data[(o * dim + i) * inner + k]);
    }
  return true;
}

} // namespace vai::import::onnx_import
