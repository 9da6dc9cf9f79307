//===- Layers.h - Geometry shared by partitioning and lowering --*- C++ -*-===//
//
// Internal to lib/Backend: how a layer maps onto the target's bank groups,
// so that the partitioner's "fits no bank even when tiled" and the
// lowering's tiling are the same computation.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_LIB_BACKEND_LAYERS_H
#define VAI_LIB_BACKEND_LAYERS_H

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Target/Target.h"

#include <optional>
#include <string>

namespace vai::backend {

/// One image's feature map, as the DPU sees it: rank-4 [1, H, W, C] or
/// rank-2 [1, K] (a 1 x 1 map of K channels).
struct FmShape {
  int64_t h = 1, w = 1, c = 1;
  int64_t bytes() const { return h * w * c; }
};
std::optional<FmShape> fmShape(mlir::Type type);

/// The bank groups the lowering uses: input tiles, output tiles, the second
/// eltwise input (each split in two halves for double buffering), and the
/// parameter group (two halves: this layer's weights and the next's).
struct BankPlan {
  int64_t in = -1, out = -1, aux = -1, param = -1; ///< indices in bankGroups
  int64_t fmHalfWords = 0, paramHalfWords = 0;
  int64_t wb = 16; ///< bytes per bank word
  int64_t words(int64_t pixels, int64_t channels) const {
    return pixels * ((channels + wb - 1) / wb);
  }
};
std::optional<BankPlan> bankPlan(const vai::target::Target &t);

/// Kernel, stride, dilation, padding [top, bottom, left, right] of a windowed
/// layer (conv, depthwise, pooling; inner product as a 1x1 conv; global
/// pooling as a window over the whole map).
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pad[4] = {0, 0, 0, 0};
};
std::optional<Window> windowOf(mlir::Operation *op);

/// The input rows [first, last) an output row range [r0, r1) reads, clipped
/// to the map.
std::pair<int64_t, int64_t> inputRows(const Window &w, int64_t inH, int64_t r0,
                                      int64_t r1);

/// "layer" name of a location: the NameLoc's name (also inside fused or
/// call-site locations), else the printed location.
std::string layerName(mlir::Location loc);

} // namespace vai::backend

#endif // VAI_LIB_BACKEND_LAYERS_H
