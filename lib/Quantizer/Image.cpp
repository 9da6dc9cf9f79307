//===- Image.cpp - Calibration images: decoding and preprocessing ---------===//
//
// JPEG through libjpeg(-turbo) and PNG through libpng, both from memory.
// Both libraries report errors by longjmp from a callback (libjpeg's default
// handler would call exit()): the decoding functions keep only trivially
// destructible state between setjmp and the calls that may jump back.
//
//===----------------------------------------------------------------------===//

#include "vai/Quantizer/Image.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace vai::quant {

static Error imageError(StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + what);
}

//===----------------------------------------------------------------------===//
// JPEG
//===----------------------------------------------------------------------===//

namespace {

struct JpegErrorManager {
  jpeg_error_mgr pub; // must be first: libjpeg casts to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void jpegErrorExit(j_common_ptr info) {
  auto *err = reinterpret_cast<JpegErrorManager *>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

extern "C" void jpegSilence(j_common_ptr, int) {}

/// Decodes into `out` (already empty); returns false with `message` set.
bool decodeJpeg(const unsigned char *data, size_t size, Image &out,
                char (&message)[JMSG_LENGTH_MAX]) {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpegErrorExit;
  err.pub.emit_message = jpegSilence; // warnings (e.g. extraneous bytes)
  if (setjmp(err.jump)) {
    std::memcpy(message, err.message, sizeof(message));
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  bool gray = cinfo.num_components == 1;
  cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out.height = cinfo.output_height;
  out.width = cinfo.output_width;
  out.channels = cinfo.output_components;
  // Sized before any further call that may jump: no allocation after this.
  out.pixels.resize(out.height * out.width * out.channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row =
        out.pixels.data() + cinfo.output_scanline * out.width * out.channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

//===----------------------------------------------------------------------===//
// PNG
//===----------------------------------------------------------------------===//

struct PngSource {
  const unsigned char *data;
  size_t size, offset;
};

extern "C" void pngRead(png_structp png, png_bytep out, png_size_t n) {
  auto *src = static_cast<PngSource *>(png_get_io_ptr(png));
  if (src->offset + n > src->size)
    png_error(png, "truncated file");
  std::memcpy(out, src->data + src->offset, n);
  src->offset += n;
}

extern "C" void pngErrorFn(png_structp png, png_const_charp msg) {
  auto *message = static_cast<char *>(png_get_error_ptr(png));
  std::snprintf(message, 200, "%s", msg);
  png_longjmp(png, 1);
}

extern "C" void pngWarningFn(png_structp, png_const_charp) {}

bool decodePng(const unsigned char *data, size_t size, Image &out,
               char (&message)[200]) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, message,
                                           pngErrorFn, pngWarningFn);
  if (!png) {
    std::snprintf(message, 200, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  PngSource src{data, size, 0};
  std::vector<png_bytep> rows;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_set_read_fn(png, &src, pngRead);
  png_read_info(png, info);
  png_set_strip_16(png);
  png_set_packing(png);
  png_set_palette_to_rgb(png);
  png_set_expand_gray_1_2_4_to_8(png);
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  out.width = png_get_image_width(png, info);
  out.height = png_get_image_height(png, info);
  out.channels = png_get_channels(png, info);
  if (out.channels != 1 && out.channels != 3)
    png_error(png, "unsupported channel layout");
  out.pixels.resize(out.height * out.width * out.channels);
  rows.resize(out.height);
  for (int64_t y = 0; y < out.height; ++y)
    rows[y] = out.pixels.data() + y * out.width * out.channels;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

} // namespace

Expected<Image> readImage(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return imageError(path, "cannot read: " + buffer.getError().message());
  const auto *data =
      reinterpret_cast<const unsigned char *>((*buffer)->getBufferStart());
  size_t size = (*buffer)->getBufferSize();
  Image image;
  static const unsigned char pngMagic[8] = {0x89, 'P',  'N',  'G',
                                            '\r', '\n', 0x1a, '\n'};
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    char message[JMSG_LENGTH_MAX] = {};
    if (!decodeJpeg(data, size, image, message))
      return imageError(path, llvm::Twine("corrupt JPEG: ") + message);
  } else if (size >= 8 && std::memcmp(data, pngMagic, 8) == 0) {
    char message[200] = {};
    if (!decodePng(data, size, image, message))
      return imageError(path, llvm::Twine("corrupt PNG: ") + message);
  } else {
    return imageError(path, "not a JPEG or PNG image");
  }
  if (image.height < 1 || image.width < 1)
    return imageError(path, "the image is empty");
  return image;
}

//===----------------------------------------------------------------------===//
// Preprocessing
//===----------------------------------------------------------------------===//

std::vector<float> resizeBilinear(const std::vector<float> &in, int64_t h,
                                  int64_t w, int64_t c, int64_t outH,
                                  int64_t outW) {
  std::vector<float> out(outH * outW * c);
  // Source coordinate of output index i along an axis of `in` -> `out`.
  auto source = [](int64_t i, int64_t inSize, int64_t outSize, int64_t &i0,
                   int64_t &i1, float &frac) {
    double x = (i + 0.5) * static_cast<double>(inSize) / outSize - 0.5;
    x = std::clamp(x, 0.0, static_cast<double>(inSize - 1));
    i0 = static_cast<int64_t>(std::floor(x));
    i1 = std::min(i0 + 1, inSize - 1);
    frac = static_cast<float>(x - i0);
  };
  for (int64_t y = 0; y < outH; ++y) {
    int64_t y0, y1;
    float fy;
    source(y, h, outH, y0, y1, fy);
    for (int64_t x = 0; x < outW; ++x) {
      int64_t x0, x1;
      float fx;
      source(x, w, outW, x0, x1, fx);
      for (int64_t ch = 0; ch < c; ++ch) {
        auto at = [&](int64_t yy, int64_t xx) {
          return in[(yy * w + xx) * c + ch];
        };
        float top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
        float bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
        out[(y * outW + x) * c + ch] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

Expected<rt::Tensor> preprocess(const Image &image, const Preprocess &p) {
  int64_t c = p.channels;
  if (c != 1 && c != 3)
    return imageError("preprocessing", "the model input must have 1 or 3 "
                                       "channels, not " +
                                           llvm::Twine(c));
  auto perChannel = [&](const std::vector<float> &v, float fallback,
                        const char *what) -> Expected<std::vector<float>> {
    if (v.empty())
      return std::vector<float>(c, fallback);
    if (v.size() == 1)
      return std::vector<float>(c, v[0]);
    if (static_cast<int64_t>(v.size()) != c)
      return imageError("preprocessing",
                        llvm::formatv("{0} has {1} values for {2} channels",
                                      what, v.size(), c));
    return v;
  };
  auto mean = perChannel(p.mean, 0.0f, "mean");
  if (!mean)
    return mean.takeError();
  auto scale = perChannel(p.scale, 1.0f, "scale");
  if (!scale)
    return scale.takeError();

  // Pixels as float in the model's channel count and order.
  int64_t h = image.height, w = image.width;
  std::vector<float> px(h * w * c);
  for (int64_t i = 0; i < h * w; ++i) {
    const uint8_t *s = &image.pixels[i * image.channels];
    float r = s[0], g = image.channels == 3 ? s[1] : s[0],
          b = image.channels == 3 ? s[2] : s[0];
    if (c == 1) {
      px[i] = image.channels == 1 ? r : 0.299f * r + 0.587f * g + 0.114f * b;
    } else {
      px[i * 3 + 0] = p.bgr ? b : r;
      px[i * 3 + 1] = g;
      px[i * 3 + 2] = p.bgr ? r : b;
    }
  }

  int64_t rh = h, rw = w;
  if (p.resizeHeight > 0 && p.resizeWidth > 0) {
    rh = p.resizeHeight;
    rw = p.resizeWidth;
  } else if (p.shorterSide > 0) {
    double f = static_cast<double>(p.shorterSide) / std::min(h, w);
    rh = h <= w ? p.shorterSide : std::lround(h * f);
    rw = w < h ? p.shorterSide : std::lround(w * f);
  }
  if (rh != h || rw != w)
    px = resizeBilinear(px, h, w, c, rh, rw);

  int64_t ch = p.cropHeight > 0 ? p.cropHeight : rh;
  int64_t cw = p.cropWidth > 0 ? p.cropWidth : rw;
  if (ch > rh || cw > rw)
    return imageError("preprocessing",
                      llvm::formatv("the {0}x{1} crop is larger than the "
                                    "{2}x{3} image",
                                    ch, cw, rh, rw));
  int64_t top = (rh - ch) / 2, left = (rw - cw) / 2;

  rt::Tensor t(rt::DType::F32,
               p.nchw ? rt::Shape{1, c, ch, cw} : rt::Shape{1, ch, cw, c});
  float *out = t.data<float>();
  for (int64_t y = 0; y < ch; ++y)
    for (int64_t x = 0; x < cw; ++x)
      for (int64_t k = 0; k < c; ++k) {
        float v = px[((y + top) * rw + (x + left)) * c + k];
        v = (v - (*mean)[k]) * (*scale)[k];
        out[p.nchw ? (k * ch + y) * cw + x : (y * cw + x) * c + k] = v;
      }
  return t;
}

} // namespace vai::quant
