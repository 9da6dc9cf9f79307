//===- Image.h - Calibration images: decoding and preprocessing -*- C++ -*-===//
//
// Calibration reads a folder of JPEG/PNG files and turns each into the
// model's input tensor with the preprocessing the user gives (resize, crop,
// mean, scale, channel order, layout), as vai_q's input functions do.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_QUANTIZER_IMAGE_H
#define VAI_QUANTIZER_IMAGE_H

#include "vai/Runtime/Tensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace vai::quant {

/// Decoded 8-bit pixels, row-major HWC; channels is 1 (gray) or 3 (RGB).
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

/// Decodes a JPEG or PNG file, recognised by its content (not its name).
/// PNG alpha is dropped, 16-bit PNG is reduced to 8 bits, palettes and gray
/// with alpha are expanded. Errors name the file and what is wrong (not an
/// image, truncated, corrupt); the decoders' own messages never abort.
llvm::Expected<Image> readImage(llvm::StringRef path);

struct Preprocess {
  /// Resize first: to exactly (resizeHeight, resizeWidth) when both are set;
  /// or, with only `shorterSide`, so that the shorter side has that length
  /// (aspect kept, the longer side rounded). 0 means no resize.
  int64_t resizeHeight = 0, resizeWidth = 0, shorterSide = 0;
  /// Then a centred crop (offsets floor((size - crop) / 2)); 0 means none.
  int64_t cropHeight = 0, cropWidth = 0;
  /// Channels of the model input: 1 (gray: 0.299 R + 0.587 G + 0.114 B) or 3.
  int64_t channels = 3;
  /// Whether a gray image may feed a 3-channel model (replicated) or a colour
  /// image a 1-channel one (luma); otherwise Dataset refuses the mismatch.
  bool convertChannels = false;
  /// Order of the 3 channels in the model input.
  bool bgr = false;
  /// value = (pixel - mean[c]) * scale[c]; one entry applies to all channels,
  /// empty means mean 0, scale 1. Indices follow the model's channel order.
  std::vector<float> mean, scale;
  /// Output layout: [1, C, H, W] when true, [1, H, W, C] otherwise.
  bool nchw = true;
};

/// Bilinear resize with half-pixel centres (OpenCV's INTER_LINEAR, no
/// antialiasing), in float, clamping at the border.
std::vector<float> resizeBilinear(const std::vector<float> &hwc, int64_t h,
                                  int64_t w, int64_t c, int64_t outH,
                                  int64_t outW);

/// The float32 input tensor for `image`. Errors when a crop is larger than
/// the (resized) image or the mean/scale lists do not match the channels.
llvm::Expected<rt::Tensor> preprocess(const Image &image, const Preprocess &p);

} // namespace vai::quant

#endif // VAI_QUANTIZER_IMAGE_H
