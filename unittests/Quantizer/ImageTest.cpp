//===- ImageTest.cpp - Calibration image decoding and preprocessing -------===//

#include "vai/Quantizer/Image.h"
#include "vai/Runtime/Npy.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace vai::quant;
namespace rt = vai::rt;

namespace {

/// A temporary folder removed with its contents at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    llvm::SmallString<128> dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("vai-image-test", dir));
    path = std::string(dir);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
};

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Writes test images with PIL and PIL's own decode of each as .npy.
bool makeImagesWithPil(const std::string &dir) {
  std::string script = R"py(
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(5)
rgb = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
Image.fromarray(rgb).save(d + "/rgb.png")
Image.fromarray(rng.integers(0, 256, (9, 7), dtype=np.uint8)).save(d + "/gray.png")
rgba = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
Image.fromarray(rgba, "RGBA").save(d + "/rgba.png")
Image.fromarray(rgb).convert("P").save(d + "/palette.png")
Image.fromarray((rgb[:, :, 0].astype(np.uint16) * 257), "I;16").save(d + "/gray16.png")
Image.fromarray(rgb).save(d + "/photo.jpg", quality=90)
Image.fromarray(rgb[:, :, 1]).save(d + "/gray.jpg", quality=90)
for name in ["rgb.png", "gray.png", "rgba.png", "palette.png", "gray16.png",
             "photo.jpg", "gray.jpg"]:
    im = Image.open(d + "/" + name)
    if im.mode in ("RGBA", "P"): im = im.convert("RGB")
    if im.mode == "I;16": im = Image.fromarray((np.array(im) >> 8).astype(np.uint8))
    np.save(d + "/" + name + ".npy", np.array(im, dtype=np.uint8))
)py";
  writeBytes(dir + "/make.py", script);
  return std::system(
             ("/usr/bin/python3 " + dir + "/make.py " + dir + " 2>/dev/null")
                 .c_str()) == 0;
}

TEST(ReadImage, MatchesPilDecoding) {
  TempDir temp;
  const std::string &dir = temp.path;
  if (!makeImagesWithPil(dir))
    GTEST_SKIP() << "/usr/bin/python3 with numpy and PIL is needed";
  for (const char *name : {"rgb.png", "gray.png", "rgba.png", "palette.png",
                           "gray16.png", "photo.jpg", "gray.jpg"}) {
    SCOPED_TRACE(name);
    auto image = readImage(dir + "/" + name);
    ASSERT_TRUE(static_cast<bool>(image)) << llvm::toString(image.takeError());
    rt::Tensor want = rt::readNpy(dir + "/" + name + ".npy");
    int64_t channels = want.rank() == 3 ? want.dim(2) : 1;
    ASSERT_EQ(image->height, want.dim(0));
    ASSERT_EQ(image->width, want.dim(1));
    ASSERT_EQ(image->channels, channels);
    EXPECT_EQ(
        0, std::memcmp(image->pixels.data(), want.raw(), image->pixels.size()));
  }
}

TEST(ReadImage, BadFilesAreErrorsNamingTheFile) {
  TempDir temp;
  const std::string &dir = temp.path;
  writeBytes(dir + "/text.jpg", "this is not an image");
  writeBytes(dir + "/empty.png", "");
  // A JPEG and a PNG cut short, and one with its body scrambled.
  writeBytes(dir + "/cut.jpg", std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10));
  writeBytes(dir + "/cut.png", std::string("\x89PNG\r\n\x1a\n\x00\x00", 10));
  struct Case {
    const char *file, *message;
  } cases[] = {{"text.jpg", "not a JPEG or PNG image"},
               {"empty.png", "not a JPEG or PNG image"},
               {"cut.jpg", "corrupt JPEG"},
               {"cut.png", "corrupt PNG"},
               {"missing.png", "cannot read"}};
  for (const Case &c : cases) {
    auto image = readImage(dir + "/" + c.file);
    ASSERT_FALSE(static_cast<bool>(image)) << c.file;
    std::string msg = llvm::toString(image.takeError());
    EXPECT_NE(msg.find(c.file), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
  }
}

TEST(ReadImage, EveryTruncationOfARealJpegFailsCleanly) {
  TempDir temp;
  const std::string &dir = temp.path;
  if (!makeImagesWithPil(dir))
    GTEST_SKIP() << "/usr/bin/python3 with numpy and PIL is needed";
  for (const char *name : {"photo.jpg", "rgb.png"}) {
    std::string full = readBytes(dir + "/" + name);
    for (size_t n = 0; n + 1 < full.size(); n += 7) {
      std::string path = dir + "/t_" + name;
      writeBytes(path, full.substr(0, n));
      auto image = readImage(path); // libjpeg may pad a cut JPEG: no crash
      if (!image)
        llvm::consumeError(image.takeError());
    }
  }
}

TEST(ReadImage, RealCifarJpeg) {
  std::string path =
      std::string(VAI_SHARED_DATA) + "/images/cifar10_test/airplane/0000.jpg";
  if (!llvm::sys::fs::exists(path))
    GTEST_SKIP() << path << " is absent";
  auto image = readImage(path);
  ASSERT_TRUE(static_cast<bool>(image)) << llvm::toString(image.takeError());
  EXPECT_EQ(image->height, 32);
  EXPECT_EQ(image->width, 32);
  EXPECT_EQ(image->channels, 3);
}

Image smallImage() {
  // 2x4 RGB; pixel (y, x) = (10y + x, 100 + x, 200 - y).
  Image im{2, 4, 3, {}};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x)
      im.pixels.insert(im.pixels.end(), {uint8_t(10 * y + x), uint8_t(100 + x),
                                         uint8_t(200 - y)});
  return im;
}

TEST(Preprocess, MeanScaleOrderAndLayout) {
  Preprocess p;
  p.mean = {1.0f, 2.0f, 3.0f};
  p.scale = {0.5f};
  p.bgr = true;
  auto t = preprocess(smallImage(), p);
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  ASSERT_EQ(t->shape(), (rt::Shape{1, 3, 2, 4}));
  const float *d = t->data<float>();
  // Channel 0 is blue (BGR) minus mean[0], times 0.5; NCHW.
  EXPECT_FLOAT_EQ(d[(0 * 2 + 1) * 4 + 2], (199.0f - 1.0f) * 0.5f);
  EXPECT_FLOAT_EQ(d[(1 * 2 + 0) * 4 + 3], (103.0f - 2.0f) * 0.5f);
  EXPECT_FLOAT_EQ(d[(2 * 2 + 1) * 4 + 1], (11.0f - 3.0f) * 0.5f);

  p.nchw = false;
  p.bgr = false;
  auto u = preprocess(smallImage(), p);
  ASSERT_TRUE(static_cast<bool>(u));
  ASSERT_EQ(u->shape(), (rt::Shape{1, 2, 4, 3}));
  EXPECT_FLOAT_EQ(u->data<float>()[(1 * 4 + 2) * 3 + 0], (12.0f - 1.0f) * 0.5f);
}

TEST(Preprocess, CenterCropAndGray) {
  Preprocess p;
  p.cropHeight = 1;
  p.cropWidth = 2;
  p.channels = 1;
  auto t = preprocess(smallImage(), p);
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  ASSERT_EQ(t->shape(), (rt::Shape{1, 1, 1, 2}));
  // Offsets floor((2-1)/2) = 0 and floor((4-2)/2) = 1: pixel (0, 1).
  EXPECT_FLOAT_EQ(t->data<float>()[0],
                  0.299f * 1 + 0.587f * 101 + 0.114f * 200);
}

TEST(Preprocess, Errors) {
  Preprocess p;
  p.cropHeight = 3;
  p.cropWidth = 3;
  auto t = preprocess(smallImage(), p);
  ASSERT_FALSE(static_cast<bool>(t));
  EXPECT_NE(
      llvm::toString(t.takeError()).find("3x3 crop is larger than the 2x4"),
      std::string::npos);
  Preprocess q;
  q.mean = {1, 2};
  auto u = preprocess(smallImage(), q);
  ASSERT_FALSE(static_cast<bool>(u));
  EXPECT_NE(llvm::toString(u.takeError()).find("mean has 2 values for 3"),
            std::string::npos);
}

TEST(Resize, BilinearHalfPixel) {
  // 1x2 -> 1x4: centres at x = -0.25, 0.25, 0.75, 1.25 -> clamped.
  std::vector<float> in = {0.0f, 8.0f};
  auto out = resizeBilinear(in, 1, 2, 1, 1, 4);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
  EXPECT_FLOAT_EQ(out[2], 6.0f);
  EXPECT_FLOAT_EQ(out[3], 8.0f);
  // Same size is the identity.
  std::vector<float> img = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(resizeBilinear(img, 2, 3, 1, 2, 3), img);
}

TEST(Preprocess, ShorterSideResize) {
  Preprocess p;
  p.shorterSide = 4; // 2x4 -> 4x8
  auto t = preprocess(smallImage(), p);
  ASSERT_TRUE(static_cast<bool>(t));
  EXPECT_EQ(t->shape(), (rt::Shape{1, 3, 4, 8}));
}

} // namespace
