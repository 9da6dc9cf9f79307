//===- TensorTest.cpp - Tests for runtime tensors -------------------------===//

#include "vai/Runtime/Tensor.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstring>

using namespace vai::rt;

namespace {

TEST(TensorTest, DTypeSizeAndName) {
  EXPECT_EQ(dtypeSize(DType::F32), 4u);
  EXPECT_EQ(dtypeSize(DType::I8), 1u);
  EXPECT_EQ(dtypeSize(DType::U8), 1u);
  EXPECT_EQ(dtypeSize(DType::I32), 4u);
  EXPECT_EQ(dtypeSize(DType::I64), 8u);
  EXPECT_STREQ(dtypeName(DType::F32), "f32");
  EXPECT_STREQ(dtypeName(DType::I8), "i8");
  EXPECT_STREQ(dtypeName(DType::U8), "u8");
  EXPECT_STREQ(dtypeName(DType::I32), "i32");
  EXPECT_STREQ(dtypeName(DType::I64), "i64");
  EXPECT_EQ(DTypeOf<float>::value, DType::F32);
  EXPECT_EQ(DTypeOf<int64_t>::value, DType::I64);
}

TEST(TensorTest, NumElements) {
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({5}), 5);
  EXPECT_EQ(numElements({2, 3, 4}), 24);
  EXPECT_EQ(numElements({2, 0, 4}), 0);
  Tensor t(DType::I32, {1, 28, 28, 3});
  EXPECT_EQ(t.numElements(), 28 * 28 * 3);
  EXPECT_EQ(t.byteSize(), 28u * 28u * 3u * 4u);
  EXPECT_EQ(t.rank(), 4);
  EXPECT_EQ(t.dim(1), 28);
  EXPECT_EQ(Tensor(DType::F32, {}).numElements(), 1);
}

TEST(TensorTest, DefaultIsNull) {
  Tensor t;
  EXPECT_TRUE(t.isNull());
  EXPECT_FALSE(Tensor(DType::U8, {3}).isNull());
  // Empty tensors still get storage.
  EXPECT_FALSE(Tensor(DType::U8, {0}).isNull());
}

TEST(TensorTest, ZeroInitialised) {
  for (DType dt : {DType::F32, DType::I8, DType::U8, DType::I32, DType::I64}) {
    Tensor t(dt, {3, 5, 7});
    const auto *p = static_cast<const unsigned char *>(t.raw());
    for (size_t i = 0; i < t.byteSize(); ++i)
      ASSERT_EQ(p[i], 0) << dtypeName(dt) << " byte " << i;
  }
  Tensor f(DType::F32, {4});
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(f.data<float>()[i], 0.0f);
}

TEST(TensorTest, StorageIs64ByteAligned) {
  for (int64_t n : {0, 1, 3, 63, 64, 65, 1000}) {
    Tensor t(DType::I8, {n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u) << n;
    Tensor s(DType::F32, {});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s.raw()) % 64, 0u);
  }
}

TEST(TensorTest, CopiesShareStorage) {
  Tensor a(DType::I32, {4});
  Tensor b = a;
  b.data<int32_t>()[2] = 42;
  EXPECT_EQ(a.data<int32_t>()[2], 42);
  EXPECT_EQ(a.raw(), b.raw());
}

TEST(TensorTest, CloneIsDeep) {
  Tensor a(DType::F32, {2, 3});
  for (int i = 0; i < 6; ++i)
    a.data<float>()[i] = static_cast<float>(i) + 0.5f;
  Tensor b = a.clone();
  EXPECT_NE(a.raw(), b.raw());
  EXPECT_EQ(b.dtype(), DType::F32);
  EXPECT_EQ(b.shape(), (Shape{2, 3}));
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.byteSize()), 0);
  b.data<float>()[0] = -1.0f;
  EXPECT_EQ(a.data<float>()[0], 0.5f);
  a.data<float>()[5] = 9.0f;
  EXPECT_EQ(b.data<float>()[5], 5.5f);
}

TEST(TensorTest, ReshapedSharesStorage) {
  Tensor a(DType::I64, {2, 6});
  Tensor b = a.reshaped({3, 2, 2});
  EXPECT_EQ(a.raw(), b.raw());
  EXPECT_EQ(b.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(a.shape(), (Shape{2, 6}));
  EXPECT_EQ(b.numElements(), 12);
  b.data<int64_t>()[7] = 123456789012345;
  EXPECT_EQ(a.data<int64_t>()[7], 123456789012345);
  Tensor s = Tensor(DType::F32, {1, 1}).reshaped({});
  EXPECT_EQ(s.rank(), 0);
}

TEST(TensorTest, ShapeToString) {
  EXPECT_EQ(shapeToString({1, 28, 28, 3}), "1x28x28x3");
  EXPECT_EQ(shapeToString({5}), "5");
  EXPECT_EQ(shapeToString({0, 2}), "0x2");
  EXPECT_EQ(shapeToString({}), "scalar");
}

} // namespace
