//===- Dataset.cpp - Calibration and test inputs --------------------------===//

#include "vai/Quantizer/Dataset.h"

#include "vai/Runtime/Npy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>

using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace vai::quant {
namespace {

Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

bool isImageName(StringRef name) {
  std::string ext = llvm::sys::path::extension(name).lower();
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}
bool isNpyName(StringRef name) {
  return llvm::sys::path::extension(name).lower() == ".npy";
}

/// "224x224" or "224" (square).
Error parseSize(StringRef key, StringRef v, int64_t &h, int64_t &w) {
  auto [a, b] = v.split('x');
  if (b.empty())
    b = a;
  if (a.getAsInteger(10, h) || b.getAsInteger(10, w) || h < 1 || w < 1)
    return makeError("preprocessing '" + key + "': expected HxW or S, got '" +
                     v + "'");
  return Error::success();
}

Error parseFloats(StringRef key, StringRef v, std::vector<float> &out) {
  out.clear();
  llvm::SmallVector<StringRef> parts;
  v.split(parts, ':');
  for (StringRef part : parts) {
    double d;
    if (part.trim().getAsDouble(d))
      return makeError("preprocessing '" + key +
                       "': expected numbers separated by ':', got '" + v + "'");
    out.push_back(static_cast<float>(d));
  }
  return Error::success();
}

} // namespace

Error parsePreprocess(StringRef spec, Preprocess &p) {
  llvm::SmallVector<StringRef> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    auto [key, value] = item.split('=');
    key = key.trim();
    value = value.trim();
    if (key == "resize") {
      if (Error e = parseSize(key, value, p.resizeHeight, p.resizeWidth))
        return e;
    } else if (key == "shorter-side") {
      if (value.getAsInteger(10, p.shorterSide) || p.shorterSide < 1)
        return makeError("preprocessing 'shorter-side': expected a positive "
                         "integer, got '" +
                         value + "'");
    } else if (key == "crop") {
      if (Error e = parseSize(key, value, p.cropHeight, p.cropWidth))
        return e;
    } else if (key == "mean") {
      if (Error e = parseFloats(key, value, p.mean))
        return e;
    } else if (key == "scale" || key == "std") {
      if (Error e = parseFloats(key, value, p.scale))
        return e;
      if (key == "std")
        for (float &s : p.scale) {
          if (s == 0.0f)
            return makeError("preprocessing 'std': 0 is not a valid std");
          s = 1.0f / s;
        }
    } else if (key == "bgr") {
      p.bgr = true;
    } else if (key == "rgb") {
      p.bgr = false;
    } else if (key == "gray" || key == "convert-channels") {
      p.convertChannels = true;
    } else {
      return makeError("unknown preprocessing option '" + key +
                       "' (known: resize, shorter-side, crop, mean, scale, "
                       "std, bgr, rgb, gray)");
    }
  }
  return Error::success();
}

Expected<std::vector<std::pair<std::string, std::string>>>
readConfig(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("cannot read config file '" + path +
                     "': " + buffer.getError().message());
  std::vector<std::pair<std::string, std::string>> out;
  StringRef rest = (*buffer)->getBuffer();
  for (unsigned line = 1; !rest.empty(); ++line) {
    auto [text, tail] = rest.split('\n');
    rest = tail;
    text = text.split('#').first.trim();
    if (text.empty())
      continue;
    auto [key, value] = text.split('=');
    if (!text.contains('=') || key.trim().empty())
      return makeError(path + ":" + llvm::Twine(line) +
                       ": expected 'key = value', got '" + text + "'");
    out.emplace_back(key.trim().str(), value.trim().str());
  }
  return out;
}

Expected<Dataset> Dataset::open(StringRef path) {
  Dataset d;
  d.root = path.str();
  if (llvm::sys::fs::is_directory(path)) {
    std::error_code ec;
    for (llvm::sys::fs::recursive_directory_iterator it(path, ec), end;
         it != end && !ec; it.increment(ec))
      if (it->type() != llvm::sys::fs::file_type::directory_file &&
          (isImageName(it->path()) || isNpyName(it->path())))
        d.files.push_back(it->path());
    if (ec)
      return makeError(path + ": cannot list the folder: " + ec.message());
    llvm::sort(d.files);
    if (d.files.empty())
      return makeError(path + ": no JPEG, PNG or .npy files in the folder");
    d.count = d.files.size();
    return d;
  }
  if (!llvm::sys::fs::exists(path))
    return makeError(path + ": no such file or folder");
  if (!isNpyName(path))
    return makeError(path + ": expected a folder of images or a .npy file "
                            "of stacked samples");
  try {
    d.stacked = rt::readNpy(d.root);
  } catch (const rt::NpyError &e) {
    return makeError(e.what());
  }
  if (d.stacked.shape().empty() || d.stacked.shape()[0] == 0)
    return makeError(path + ": holds no samples (shape " +
                     rt::shapeToString(d.stacked.shape()) + ")");
  d.count = d.stacked.shape()[0];
  return d;
}

std::string Dataset::describe(int64_t i) const {
  if (!files.empty())
    return files[i];
  return llvm::formatv("{0}[{1}]", root, i).str();
}

/// `t` (any numeric dtype) as float32 with mean and scale applied per
/// element of the last axis of `entry` (NHWC) or of axis 0 (NCHW).
static Expected<rt::Tensor> numericSample(const rt::Tensor &t,
                                          const std::string &what,
                                          const rt::Shape &entry,
                                          const Preprocess &p) {
  if (rt::numElements(t.shape()) != rt::numElements(entry) ||
      !(t.shape() == entry ||
        (t.shape().size() == entry.size() + 1 && t.shape()[0] == 1)))
    return makeError(what + ": a sample of shape " +
                     rt::shapeToString(t.shape()) + ", the model takes " +
                     rt::shapeToString(entry));
  rt::Tensor out(rt::DType::F32, entry);
  float *o = out.data<float>();
  int64_t n = out.numElements();
  auto value = [&](int64_t i) -> double {
    switch (t.dtype()) {
    case rt::DType::F32:
      return t.data<float>()[i];
    case rt::DType::I8:
      return t.data<int8_t>()[i];
    case rt::DType::U8:
      return t.data<uint8_t>()[i];
    case rt::DType::I32:
      return t.data<int32_t>()[i];
    case rt::DType::I64:
      return static_cast<double>(t.data<int64_t>()[i]);
    }
    return 0;
  };
  int64_t channels = p.nchw ? entry.front() : entry.back();
  int64_t inner = p.nchw ? n / channels : 1;
  auto pick = [&](const std::vector<float> &v, int64_t c, float dflt) {
    return v.empty() ? dflt : v.size() == 1 ? v[0] : v[c % v.size()];
  };
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = p.nchw ? i / inner : i % channels;
    o[i] = static_cast<float>((value(i) - pick(p.mean, c, 0.0f)) *
                              pick(p.scale, c, 1.0f));
  }
  return out;
}

Expected<rt::Tensor> Dataset::sample(int64_t i, const rt::Shape &entry,
                                     const Preprocess &p) const {
  std::string what = describe(i);
  if (files.empty()) {
    rt::Shape one(stacked.shape().begin() + 1, stacked.shape().end());
    rt::Tensor t(stacked.dtype(), one);
    size_t bytes = t.byteSize();
    std::memcpy(t.raw(), static_cast<const char *>(stacked.raw()) + i * bytes,
                bytes);
    return numericSample(t, what, entry, p);
  }
  if (isNpyName(what)) {
    try {
      return numericSample(rt::readNpy(what), what, entry, p);
    } catch (const rt::NpyError &e) {
      return makeError(e.what());
    }
  }
  if (entry.size() != 3)
    return makeError(what + ": an image cannot feed an input of shape " +
                     rt::shapeToString(entry) + " (one sample of rank 3 " +
                     "expected)");
  Expected<Image> image = readImage(what);
  if (!image)
    return image.takeError();
  Preprocess q = p;
  q.channels = p.nchw ? entry[0] : entry[2];
  if (image->channels != q.channels && !p.convertChannels)
    return makeError(llvm::formatv("{0}: the image has {1} channel(s), the "
                                   "model takes {2} (add 'gray' to the "
                                   "preprocessing to convert)",
                                   what, image->channels, q.channels));
  Expected<rt::Tensor> t = preprocess(*image, q);
  if (!t)
    return makeError(what + ": " + llvm::toString(t.takeError()));
  rt::Shape got(t->shape().begin() + 1, t->shape().end());
  if (got != entry)
    return makeError(what + ": the image preprocesses to " +
                     rt::shapeToString(got) + ", the model takes " +
                     rt::shapeToString(entry) +
                     " (set resize= or crop= in the preprocessing)");
  return t->reshaped(entry);
}

} // namespace vai::quant
