//===- Tensor.h - Dense host tensors for the vai runtime --------*- C++ -*-===//
//
// The runtime library (kernels, .npy I/O, tensors) deliberately depends on
// nothing but the C++ standard library, oneDNN and OpenMP, so that the VART
// runner plugins and the simulator can link it without LLVM or MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_RUNTIME_TENSOR_H
#define VAI_RUNTIME_TENSOR_H

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vai::rt {

/// Element types a runtime tensor can hold.
enum class DType : uint8_t { F32, I8, U8, I32, I64 };

/// Size of one element in bytes.
size_t dtypeSize(DType t);
/// Short name ("f32", "i8", ...).
const char *dtypeName(DType t);

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <> struct DTypeOf<int8_t> {
  static constexpr DType value = DType::I8;
};
template <> struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::U8;
};
template <> struct DTypeOf<int32_t> {
  static constexpr DType value = DType::I32;
};
template <> struct DTypeOf<int64_t> {
  static constexpr DType value = DType::I64;
};

using Shape = std::vector<int64_t>;

/// Number of elements of a shape (1 for rank 0).
int64_t numElements(const Shape &shape);
/// "1x28x28x3" style rendering for messages.
std::string shapeToString(const Shape &shape);

/// A dense, row-major (C order) tensor with shared, 64-byte aligned storage.
/// Copies share storage; use clone() for a deep copy.
class Tensor {
public:
  Tensor() = default;
  /// Allocates zero-initialised storage.
  Tensor(DType dtype, Shape shape);

  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[i]; }
  int64_t numElements() const { return vai::rt::numElements(shape_); }
  size_t byteSize() const { return numElements() * dtypeSize(dtype_); }
  bool isNull() const { return storage_ == nullptr; }

  void *raw() { return storage_.get(); }
  const void *raw() const { return storage_.get(); }
  template <typename T> T *data() {
    assert(DTypeOf<T>::value == dtype_ && "tensor element type mismatch");
    return static_cast<T *>(raw());
  }
  template <typename T> const T *data() const {
    assert(DTypeOf<T>::value == dtype_ && "tensor element type mismatch");
    return static_cast<const T *>(raw());
  }

  /// Deep copy.
  Tensor clone() const;
  /// Same storage, new shape with the same number of elements.
  Tensor reshaped(Shape shape) const;

private:
  DType dtype_ = DType::F32;
  Shape shape_;
  std::shared_ptr<uint8_t> storage_;
};

} // namespace vai::rt

#endif // VAI_RUNTIME_TENSOR_H
