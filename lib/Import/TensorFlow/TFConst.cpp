//===- TFConst.cpp - Constant tensors of the TensorFlow importer ----------===//

#include "TFConst.h"

#include "graph.pb.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace vai::import::tf_import {

std::vector<int64_t> ConstTensor::ints() const {
  std::vector<int64_t> out;
  out.reserve(data.size());
  for (double d : data)
    out.push_back(d >= 9.2e18    ? std::numeric_limits<int64_t>::max()
                  : d <= -9.2e18 ? std::numeric_limits<int64_t>::min()
                                 : static_cast<int64_t>(d));
  return out;
}

int64_t elementCount(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::optional<std::vector<int64_t>>
shapeFromProto(const vai_tf::TensorShapeProto &proto) {
  if (proto.unknown_rank())
    return std::nullopt;
  std::vector<int64_t> dims;
  for (const auto &d : proto.dim())
    dims.push_back(d.size() < 0 ? -1 : d.size());
  return dims;
}

//===----------------------------------------------------------------------===//
// TensorProto
//===----------------------------------------------------------------------===//

static double halfToDouble(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(frac, -24);
  else if (exp == 31)
    v = frac ? std::numeric_limits<double>::quiet_NaN()
             : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(frac + 1024, exp - 25);
  return sign ? -v : v;
}

static double bfloat16ToDouble(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

namespace {
/// How one TensorFlow element type is stored and read.
struct ElementKind {
  size_t bytes = 0;
  bool isInteger = false;
  /// Reads one element of tensor_content (little endian).
  double (*readRaw)(const char *) = nullptr;
};
} // namespace

template <typename T> static double readAs(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<double>(v);
}

static std::optional<ElementKind> elementKind(vai_tf::DataType type) {
  using namespace vai_tf;
  switch (type) {
  case DT_FLOAT:
    return ElementKind{4, false, readAs<float>};
  case DT_DOUBLE:
    return ElementKind{8, false, readAs<double>};
  case DT_HALF:
    return ElementKind{2, false, [](const char *p) {
                         return halfToDouble(
                             static_cast<uint16_t>(readAs<uint16_t>(p)));
                       }};
  case DT_BFLOAT16:
    return ElementKind{2, false, [](const char *p) {
                         return bfloat16ToDouble(
                             static_cast<uint16_t>(readAs<uint16_t>(p)));
                       }};
  case DT_INT8:
    return ElementKind{1, true, readAs<int8_t>};
  case DT_UINT8:
    return ElementKind{1, true, readAs<uint8_t>};
  case DT_INT16:
    return ElementKind{2, true, readAs<int16_t>};
  case DT_UINT16:
    return ElementKind{2, true, readAs<uint16_t>};
  case DT_INT32:
    return ElementKind{4, true, readAs<int32_t>};
  case DT_UINT32:
    return ElementKind{4, true, readAs<uint32_t>};
  case DT_INT64:
    return ElementKind{8, true, readAs<int64_t>};
  case DT_UINT64:
    return ElementKind{8, true, readAs<uint64_t>};
  case DT_BOOL:
    return ElementKind{1, true, [](const char *p) { return p[0] ? 1.0 : 0.0; }};
  default:
    return std::nullopt;
  }
}

/// The typed value list of `proto` that matches its dtype, widened.
static std::vector<double> typedValues(const vai_tf::TensorProto &proto) {
  using namespace vai_tf;
  std::vector<double> v;
  auto take = [&](const auto &field, auto convert) {
    for (auto x : field)
      v.push_back(convert(x));
  };
  auto plain = [](auto x) { return static_cast<double>(x); };
  switch (proto.dtype()) {
  case DT_FLOAT:
    take(proto.float_val(), plain);
    break;
  case DT_DOUBLE:
    take(proto.double_val(), plain);
    break;
  case DT_HALF:
    take(proto.half_val(),
         [](int32_t x) { return halfToDouble(static_cast<uint16_t>(x)); });
    break;
  case DT_BFLOAT16:
    take(proto.half_val(),
         [](int32_t x) { return bfloat16ToDouble(static_cast<uint16_t>(x)); });
    break;
  case DT_INT64:
    take(proto.int64_val(), plain);
    break;
  case DT_UINT32:
    take(proto.uint32_val(), plain);
    break;
  case DT_UINT64:
    take(proto.uint64_val(), plain);
    break;
  case DT_BOOL:
    take(proto.bool_val(), [](bool x) { return x ? 1.0 : 0.0; });
    break;
  default: // int32, int16, int8, uint8, uint16 live in int_val
    take(proto.int_val(), plain);
    break;
  }
  return v;
}

std::optional<std::string> parseTensor(const vai_tf::TensorProto &proto,
                                       ConstTensor &out) {
  std::optional<ElementKind> kind = elementKind(proto.dtype());
  if (!kind)
    return "element type " + vai_tf::DataType_Name(proto.dtype()) +
           " is not supported (float, integer and bool tensors are)";
  std::optional<std::vector<int64_t>> shape =
      shapeFromProto(proto.tensor_shape());
  if (!shape)
    return std::string("has an unknown rank");
  int64_t count = 1;
  for (int64_t d : *shape) {
    if (d < 0)
      return "has an unknown dimension in its shape " + formatShape(*shape);
    if (d && count > (int64_t(1) << 31) / d)
      return "is too large (shape " + formatShape(*shape) + ")";
    count *= d;
  }
  out.shape = *shape;
  out.isInteger = kind->isInteger;
  out.data.clear();
  const std::string &raw = proto.tensor_content();
  if (!raw.empty()) {
    if (raw.size() != static_cast<size_t>(count) * kind->bytes)
      return "tensor_content holds " + std::to_string(raw.size()) +
             " bytes, the shape " + formatShape(*shape) + " needs " +
             std::to_string(count * kind->bytes);
    out.data.reserve(count);
    for (int64_t i = 0; i < count; ++i)
      out.data.push_back(kind->readRaw(raw.data() + i * kind->bytes));
    return std::nullopt;
  }
  std::vector<double> values = typedValues(proto);
  if (static_cast<int64_t>(values.size()) > count)
    return "holds " + std::to_string(values.size()) +
           " values, more than its shape " + formatShape(*shape) + " has";
  // TensorFlow repeats the last value (zero when there is none).
  double last = values.empty() ? 0.0 : values.back();
  values.resize(count, last);
  out.data = std::move(values);
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Folding
//===----------------------------------------------------------------------===//

/// Row-major strides of `shape`.
static std::vector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

std::optional<ConstTensor>
broadcastConst(const ConstTensor &a, const ConstTensor &b,
               const std::function<double(double, double)> &fn) {
  int64_t rank = std::max(a.rank(), b.rank());
  ConstTensor out;
  out.isInteger = a.isInteger && b.isInteger;
  out.shape.assign(rank, 1);
  // Dimensions aligned at the end; a dimension of 1 repeats.
  std::vector<int64_t> aDims(rank, 1), bDims(rank, 1);
  std::copy(a.shape.begin(), a.shape.end(), aDims.begin() + rank - a.rank());
  std::copy(b.shape.begin(), b.shape.end(), bDims.begin() + rank - b.rank());
  for (int64_t i = 0; i < rank; ++i) {
    if (aDims[i] != bDims[i] && aDims[i] != 1 && bDims[i] != 1)
      return std::nullopt;
    out.shape[i] = aDims[i] == 1 ? bDims[i] : aDims[i];
  }
  std::vector<int64_t> aStr = stridesOf(aDims), bStr = stridesOf(bDims);
  int64_t n = elementCount(out.shape);
  out.data.resize(n);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t ai = 0, bi = 0;
    for (int64_t i = 0; i < rank; ++i) {
      if (aDims[i] != 1)
        ai += idx[i] * aStr[i];
      if (bDims[i] != 1)
        bi += idx[i] * bStr[i];
    }
    out.data[k] = fn(a.data[ai], b.data[bi]);
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < out.shape[i])
        break;
      idx[i] = 0;
    }
  }
  return out;
}

ConstTensor permuteConst(const ConstTensor &in, llvm::ArrayRef<int64_t> perm) {
  ConstTensor out;
  out.isInteger = in.isInteger;
  int64_t rank = in.rank();
  for (int64_t p : perm)
    out.shape.push_back(in.shape[p]);
  std::vector<int64_t> inStr = stridesOf(in.shape);
  int64_t n = elementCount(out.shape);
  out.data.resize(n);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int64_t i = 0; i < rank; ++i)
      src += idx[i] * inStr[perm[i]];
    out.data[k] = in.data[src];
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < out.shape[i])
        break;
      idx[i] = 0;
    }
  }
  return out;
}

std::optional<ConstTensor> concatConst(llvm::ArrayRef<const ConstTensor *> in,
                                       int64_t axis) {
  ConstTensor out;
  out.shape = in.front()->shape;
  out.shape[axis] = 0;
  out.isInteger = true;
  for (const ConstTensor *t : in) {
    if (t->rank() != in.front()->rank())
      return std::nullopt;
    for (int64_t i = 0; i < t->rank(); ++i)
      if (i != axis && t->shape[i] != out.shape[i])
        return std::nullopt;
    out.shape[axis] += t->shape[axis];
    out.isInteger = out.isInteger && t->isInteger;
  }
  // Outer = dimensions before the axis; each input contributes a contiguous
  // block of shape[axis] * inner elements per outer index.
  int64_t outer = elementCount(llvm::ArrayRef(out.shape).take_front(axis));
  int64_t inner = elementCount(llvm::ArrayRef(out.shape).drop_front(axis + 1));
  for (int64_t o = 0; o < outer; ++o)
    for (const ConstTensor *t : in) {
      int64_t block = t->shape[axis] * inner;
      out.data.insert(out.data.end(), t->data.begin() + o * block,
                      t->data.begin() + (o + 1) * block);
    }
  return out;
}

//===----------------------------------------------------------------------===//
// StridedSlice
//===----------------------------------------------------------------------===//

std::optional<std::string>
resolveStridedSlice(llvm::ArrayRef<int64_t> shape,
                    llvm::ArrayRef<int64_t> begin, llvm::ArrayRef<int64_t> end,
                    llvm::ArrayRef<int64_t> strides, int64_t beginMask,
                    int64_t endMask, int64_t ellipsisMask, int64_t newAxisMask,
                    int64_t shrinkAxisMask, StridedSliceSpec &spec) {
  int64_t sparseDims = static_cast<int64_t>(begin.size());
  if (end.size() != begin.size() || strides.size() != begin.size())
    return std::string("begin, end and strides must have the same length");
  if (sparseDims > 62)
    return std::string("has too many slice dimensions");
  auto bit = [](int64_t mask, int64_t i) { return (mask >> i) & 1; };
  // New axes that come after the ellipsis take dimensions from it.
  int64_t newAxesAfterEllipsis = 0;
  bool ellipsisSeen = false;
  for (int64_t i = 0; i < sparseDims; ++i) {
    if (ellipsisSeen && bit(newAxisMask, i))
      ++newAxesAfterEllipsis;
    if (bit(ellipsisMask, i)) {
      if (ellipsisSeen)
        return std::string("has more than one ellipsis");
      ellipsisSeen = true;
    }
  }
  // Without an ellipsis there is an implicit one at the end.
  if (!ellipsisSeen) {
    ellipsisMask |= int64_t(1) << sparseDims;
    ++sparseDims;
  }

  int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> dBegin(rank, 0), dEnd(rank, 0), dStride(rank, 1);
  std::vector<bool> dBeginMask(rank, false), dEndMask(rank, false),
      dShrink(rank, false);
  constexpr int64_t kNewAxis = -1, kShrink = -2;
  std::vector<int64_t> gather; // per result dimension: a dense index or kind
  int64_t full = 0;
  for (int64_t i = 0; i < sparseDims; ++i) {
    if (bit(ellipsisMask, i)) {
      int64_t next =
          std::min(rank - (sparseDims - i) + 1 + newAxesAfterEllipsis, rank);
      for (; full < next; ++full) {
        dBeginMask[full] = dEndMask[full] = true;
        gather.push_back(full);
      }
    } else if (bit(newAxisMask, i)) {
      gather.push_back(kNewAxis);
    } else {
      if (full >= rank)
        return "indexes " + std::to_string(sparseDims) +
               " dimensions of a tensor of rank " + std::to_string(rank);
      dBegin[full] = begin[i];
      dEnd[full] = end[i];
      dStride[full] = strides[i];
      dBeginMask[full] = bit(beginMask, i);
      dEndMask[full] = bit(endMask, i);
      dShrink[full] = bit(shrinkAxisMask, i);
      gather.push_back(dShrink[full] ? kShrink : full);
      ++full;
    }
  }

  spec.begin.assign(rank, 0);
  spec.size.assign(rank, 0);
  spec.step.assign(rank, 1);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t dim = shape[i], stride = dStride[i];
    if (stride == 0)
      return "has a zero stride in dimension " + std::to_string(i);
    if (dShrink[i]) {
      int64_t b = dBegin[i] < 0 ? dBegin[i] + dim : dBegin[i];
      if (b < 0 || b >= dim)
        return "index " + std::to_string(dBegin[i]) + " of dimension " +
               std::to_string(i) + " is out of range for size " +
               std::to_string(dim);
      spec.begin[i] = b;
      spec.size[i] = 1;
      continue;
    }
    int64_t lo = stride > 0 ? 0 : -1, hi = stride > 0 ? dim : dim - 1;
    auto canonical = [&](int64_t x, bool masked, bool isEnd) {
      if (masked)
        return (stride > 0) == isEnd ? hi : lo;
      int64_t fwd = x < 0 ? x + dim : x;
      return std::clamp(fwd, lo, hi);
    };
    int64_t b = canonical(dBegin[i], dBeginMask[i], false);
    int64_t e = canonical(dEnd[i], dEndMask[i], true);
    int64_t interval = e - b;
    int64_t size = 0;
    if (stride > 0 && interval > 0)
      size = (interval + stride - 1) / stride;
    else if (stride < 0 && interval < 0)
      size = (-interval - stride - 1) / -stride;
    spec.begin[i] = b;
    spec.size[i] = size;
    spec.step[i] = stride;
  }
  spec.resultShape.clear();
  for (int64_t g : gather) {
    if (g == kNewAxis)
      spec.resultShape.push_back(1);
    else if (g != kShrink)
      spec.resultShape.push_back(spec.size[g]);
  }
  return std::nullopt;
}

ConstTensor sliceConst(const ConstTensor &in, const StridedSliceSpec &spec) {
  ConstTensor out;
  out.isInteger = in.isInteger;
  out.shape = spec.resultShape;
  int64_t rank = in.rank();
  int64_t n = elementCount(spec.size);
  std::vector<int64_t> inStr = stridesOf(in.shape);
  std::vector<int64_t> idx(rank, 0);
  out.data.reserve(n);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int64_t i = 0; i < rank; ++i)
      src += (spec.begin[i] + idx[i] * spec.step[i]) * inStr[i];
    out.data.push_back(in.data[src]);
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++idx[i] < spec.size[i])
        break;
      idx[i] = 0;
    }
  }
  return out;
}

} // namespace vai::import::tf_import
