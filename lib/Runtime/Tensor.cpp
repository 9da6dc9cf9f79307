//===- Tensor.cpp - Dense host tensors for the vai runtime ----------------===//

#include "vai/Runtime/Tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace vai::rt {

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I8:
  case DType::U8:
    return 1;
  case DType::I64:
    return 8;
  }
  return 0;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::I8:
    return "i8";
  case DType::U8:
    return "u8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  }
  return "?";
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeToString(const Shape &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += 'x';
    s += std::to_string(shape[i]);
  }
  return s.empty() ? std::string("scalar") : s;
}

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  size_t bytes = byteSize();
  // Round up so aligned_alloc's size requirement holds; never allocate 0.
  size_t alloc = ((bytes + 63) / 64) * 64;
  if (alloc == 0)
    alloc = 64;
  void *p = std::aligned_alloc(64, alloc);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, alloc);
  storage_ = std::shared_ptr<uint8_t>(static_cast<uint8_t *>(p), std::free);
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (byteSize())
    std::memcpy(t.raw(), raw(), byteSize());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  assert(vai::rt::numElements(shape) == numElements() &&
         "reshape must keep the number of elements");
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

} // namespace vai::rt
