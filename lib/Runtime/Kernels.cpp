//===- Kernels.cpp - OpenMP reference kernels of the interpreter ----------===//
//
// Everything declared in Kernels.h except the oneDNN section (DnnlKernels.cpp).
//
// Most kernels are built on one primitive: a LoopNest, a row-major loop nest in
// which each operand has its own element stride per dimension (0 broadcasts).
// canonicalize() drops unit dimensions and merges dimensions that are
// contiguous for every operand, so that the common cases collapse to one or
// two dimensions (identical shapes and scalar operands become one flat loop, a
// per-channel operand becomes rows of channels, a transpose that keeps the
// last dimension becomes rows of memcpy). forEachRow() then hands out the
// innermost rows (split into chunks so that a single long row still spreads
// over the threads) to an OpenMP team when the tensor is large enough; the
// inner loops run over contiguous memory and are vectorised by the compiler
// (`omp simd`). Transpositions copy 2-D tiles (8x8 register transposes for
// 32-bit elements); exp, sigmoid and tanh are branch-free polynomial forms on
// GCC vector types, accurate to a few ulp.
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/Kernels.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace vai::rt {
namespace {

//===----------------------------------------------------------------------===//
// Parallel iteration helpers
//===----------------------------------------------------------------------===//

/// Below this many elements a kernel runs on the calling thread: forking a
/// team costs more than it saves.
constexpr int64_t kParallelThreshold = 32 * 1024;
/// Innermost rows longer than this are split into chunks of at most this many
/// elements, so that a single long row is shared by the threads.
constexpr int64_t kRowChunk = 8 * 1024;
/// Highest rank the strided walkers support.
constexpr int kMaxRank = 8;

// The project builds with -O2, where GCC vectorises only loops that need no
// runtime checks; `omp simd` asserts that the inner loops are independent (an
// output that aliases its input at the same index is fine).
#define VAI_SIMD _Pragma("omp simd")

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Runs body(begin, end) over [0, items), split statically over the OpenMP
/// team when `parallel` is set, on the calling thread otherwise.
template <typename Body>
void parallelRanges(int64_t items, bool parallel, Body &&body) {
  if (!parallel || items < 2) {
    body(int64_t(0), items);
    return;
  }
#pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t begin = items * t / threads, end = items * (t + 1) / threads;
    if (begin < end)
      body(begin, end);
  }
}

/// A row-major loop nest over `rank` dims in which each of N operands has its
/// own element stride per dim (stride 0 broadcasts the operand along it).
template <int N> struct LoopNest {
  using Offsets = std::array<int64_t, N>;

  int rank = 0;
  std::array<int64_t, kMaxRank> size{};
  std::array<std::array<int64_t, kMaxRank>, N> stride{};

  /// Appends an inner dim.
  void push(int64_t dimSize, const Offsets &strides) {
    assert(rank < kMaxRank && "loop nest rank too high");
    size[rank] = dimSize;
    for (int k = 0; k < N; ++k)
      stride[k][rank] = strides[k];
    ++rank;
  }

  int64_t count() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d)
      n *= size[d];
    return n;
  }

  /// Stride of operand k along the innermost dim (1 for rank 0).
  int64_t inner(int k) const { return rank ? stride[k][rank - 1] : 1; }

  /// The nest without its innermost dim.
  LoopNest outer() const {
    LoopNest o = *this;
    --o.rank;
    return o;
  }

  /// Drops dims of size 1 and merges each dim into its outer neighbour when
  /// every operand is contiguous across the two. Iteration order and offsets
  /// are unchanged.
  void canonicalize() {
    int r = 0;
    for (int d = 0; d < rank; ++d) {
      if (size[d] == 1)
        continue;
      bool merge = r > 0;
      for (int k = 0; k < N && merge; ++k)
        merge = stride[k][r - 1] == stride[k][d] * size[d];
      if (merge) {
        size[r - 1] *= size[d];
        for (int k = 0; k < N; ++k)
          stride[k][r - 1] = stride[k][d];
        continue;
      }
      size[r] = size[d];
      for (int k = 0; k < N; ++k)
        stride[k][r] = stride[k][d];
      ++r;
    }
    rank = r;
  }
};

/// Calls fn(i, offsets) for the linear indices i in [begin, end) of `nest`, in
/// row-major order; offsets holds each operand's element offset.
template <int N, typename Fn>
void walkRange(const LoopNest<N> &nest, int64_t begin, int64_t end, Fn &&fn) {
  if (begin >= end)
    return;
  std::array<int64_t, kMaxRank> idx{};
  typename LoopNest<N>::Offsets off{};
  int64_t rem = begin;
  for (int d = nest.rank - 1; d >= 0; --d) {
    idx[d] = rem % nest.size[d];
    rem /= nest.size[d];
    for (int k = 0; k < N; ++k)
      off[k] += idx[d] * nest.stride[k][d];
  }
  for (int64_t i = begin;;) {
    fn(i, off);
    if (++i == end)
      return;
    for (int d = nest.rank - 1; d >= 0; --d) {
      for (int k = 0; k < N; ++k)
        off[k] += nest.stride[k][d];
      if (++idx[d] < nest.size[d])
        break;
      for (int k = 0; k < N; ++k)
        off[k] -= nest.stride[k][d] * nest.size[d];
      idx[d] = 0;
    }
  }
}

/// walkRange over the whole nest, split over the threads when `parallel`.
template <int N, typename Fn>
void walk(const LoopNest<N> &nest, bool parallel, Fn &&fn) {
  parallelRanges(nest.count(), parallel, [&](int64_t begin, int64_t end) {
    walkRange(nest, begin, end, fn);
  });
}

/// Calls fn(offsets, len) for every innermost row of a canonical `nest`: the
/// row's len elements start at offsets and advance by nest.inner(k). Long rows
/// come in several chunks. Runs in parallel above kParallelThreshold elements.
template <int N, typename Fn>
void forEachRow(const LoopNest<N> &nest, Fn &&fn) {
  int64_t total = nest.count();
  if (total == 0)
    return;
  if (nest.rank == 0) {
    fn(typename LoopNest<N>::Offsets{}, int64_t(1));
    return;
  }
  int64_t n = nest.size[nest.rank - 1];
  int64_t chunks = ceilDiv(n, kRowChunk);
  int64_t len = ceilDiv(n, chunks);
  LoopNest<N> rows = nest.outer();
  typename LoopNest<N>::Offsets chunkStride;
  for (int k = 0; k < N; ++k)
    chunkStride[k] = nest.inner(k) * len;
  rows.push(chunks, chunkStride);
  walk(rows, total > kParallelThreshold, [&](int64_t i, const auto &off) {
    int64_t l = std::min(len, n - (i % chunks) * len);
    if (l > 0)
      fn(off, l);
  });
}

/// forEachRow over a flat array of n elements: fn(begin, len).
template <typename Fn> void forEachChunk(int64_t n, Fn &&fn) {
  LoopNest<1> nest;
  nest.push(n, {1});
  nest.canonicalize();
  forEachRow(nest, [&](const auto &off, int64_t len) { fn(off[0], len); });
}

/// Row-major element strides of a dense shape.
Shape denseStrides(const Shape &shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

//===----------------------------------------------------------------------===//
// Scalar math
//===----------------------------------------------------------------------===//

/// max/min that propagate NaN from either side (as PyTorch does).
inline float maxNaN(float a, float b) { return (b > a || b != b) ? b : a; }
inline float minNaN(float a, float b) { return (b < a || b != b) ? b : a; }

/// x >= 0 ? x : alpha * x, as max(x, 0) + alpha * min(x, 0) (NaN propagates)
/// because GCC does not vectorise a select whose arm may trap.
inline float leaky(float x, float alpha) {
  return (x < 0.0f ? 0.0f : x) + alpha * (x < 0.0f ? x : 0.0f);
}

//===----------------------------------------------------------------------===//
// Exp, sigmoid and tanh on 8-float vectors
//
// GCC does not vectorise loops around scalar code with clamps and selects
// (under -ftrapping-math it will not if-convert them), so these functions are
// written with GCC/Clang vector extensions: no branches, AVX2 with the
// project's -march=x86-64-v3, SSE pairs elsewhere.
//===----------------------------------------------------------------------===//

using F8 = float __attribute__((vector_size(32)));
using I8 = int32_t __attribute__((vector_size(32)));

inline F8 splat(float v) { return F8{} + v; }
inline F8 absV(F8 x) { return (F8)((I8)x & 0x7fffffff); }

/// exp(x) to about 1 ulp over the whole float range (subnormal results and
/// overflow to +inf included): Cephes' expf, i.e. x = n ln2 + r with
/// |r| <= ln2/2 (Cody-Waite), exp(r) by a degree-6 polynomial, then scaled by
/// 2^n in two halves so that neither factor leaves the normal range.
inline F8 expV(F8 x) {
  auto isNaN = x != x;
  F8 xc = x > splat(-104.0f) ? x : splat(-104.0f); // NaN -> -104
  xc = xc < splat(88.8f) ? xc : splat(88.8f);
  F8 t = xc * 1.44269504088896341f + 0.5f;
  F8 n = __builtin_convertvector(__builtin_convertvector(t, I8), F8);
  n = n > t ? n - 1.0f : n; // floor(t), n in [-150, 128]
  F8 r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F8 p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  I8 ni = __builtin_convertvector(n, I8);
  I8 n1 = ni >> 1, n2 = ni - n1; // each in [-75, 64]
  F8 y = p * (F8)((n1 + 127) << 23) * (F8)((n2 + 127) << 23);
  return isNaN ? x : y;
}

/// 1 / (1 + exp(-x)), evaluated as e / (1 + e) with e = exp(x) for negative x
/// so that the relative error stays at a few ulp on both tails.
inline F8 sigmoidV(F8 x) {
  F8 e = expV(-absV(x));
  F8 s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : e * s;
}

/// tanh(x) to a few ulp: Cephes' odd polynomial below |x| = 0.625 (where
/// 1 - 2 / (exp(2|x|) + 1) would cancel), that formula above.
inline F8 tanhV(F8 x) {
  F8 z = x * x;
  F8 p = splat(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  F8 small = p * z * x + x;
  F8 ax = absV(x);
  F8 large = 1.0f - 2.0f / (expV(2.0f * ax) + 1.0f);
  large = (F8)((I8)large | ((I8)x & int32_t(0x80000000u))); // copysign
  return ax < 0.625f ? small : large;
}

/// out[i] = fn(in[i]) for n floats, 8 at a time; out may alias in.
template <typename Fn>
inline void mapF8(const float *in, float *out, int64_t n, Fn fn) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    F8 v;
    std::memcpy(&v, in + i, sizeof(v));
    v = fn(v);
    std::memcpy(out + i, &v, sizeof(v));
  }
  if (i < n) {
    F8 v{};
    std::memcpy(&v, in + i, (n - i) * sizeof(float));
    v = fn(v);
    std::memcpy(out + i, &v, (n - i) * sizeof(float));
  }
}

/// Sum of n floats accumulated in double (in SIMD lanes).
inline double sumF64(const float *x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i)
    s += x[i];
  return s;
}

/// Maximum of n floats (-inf for none; NaNs may be skipped), 8 lanes at a
/// time.
inline float maxF32(const float *x, int64_t n) {
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  F8 lanes = splat(kLowest);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    F8 v;
    std::memcpy(&v, x + i, sizeof(v));
    lanes = v > lanes ? v : lanes;
  }
  float m = kLowest;
  for (int j = 0; j < 8; ++j)
    m = lanes[j] > m ? lanes[j] : m;
  for (; i < n; ++i)
    m = x[i] > m ? x[i] : m;
  return m;
}

/// Applies `act` to n contiguous values in place.
inline void activateRow(const ActivationSpec &act, float *x, int64_t n) {
  switch (act.kind) {
  case Activation::None:
    return;
  case Activation::Relu:
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      x[i] = x[i] < 0.0f ? 0.0f : x[i];
    return;
  case Activation::Relu6:
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      x[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
    return;
  case Activation::LeakyRelu: {
    float alpha = act.alpha;
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      x[i] = leaky(x[i], alpha);
    return;
  }
  }
}

//===----------------------------------------------------------------------===//
// Data movement helpers
//===----------------------------------------------------------------------===//

/// Calls fn(T{}) with the unsigned integer type of `elemSize` bytes.
template <typename Fn> void withElemType(size_t elemSize, Fn &&fn) {
  switch (elemSize) {
  case 1:
    fn(uint8_t{});
    return;
  case 2:
    fn(uint16_t{});
    return;
  case 4:
    fn(uint32_t{});
    return;
  case 8:
    fn(uint64_t{});
    return;
  default:
    assert(false && "element size must be 1, 2, 4 or 8 bytes");
  }
}

/// dst[t * dstStride + j] = src[j * srcStride + t] for t, j < 8 (32-bit
/// elements), in registers.
inline void transpose8x8(const uint32_t *src, int64_t srcStride, uint32_t *dst,
                         int64_t dstStride) {
  using U8 = uint32_t __attribute__((vector_size(32)));
  U8 r[8], t[8], u[8];
  for (int j = 0; j < 8; ++j)
    std::memcpy(&r[j], src + j * srcStride, sizeof(U8));
  for (int i = 0; i < 8; i += 2) { // unpacklo / unpackhi
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] =
        __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) { // u[i + c] holds columns c and c + 4
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] =
        __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] =
        __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] =
        __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int c = 0; c < 4; ++c) {
    U8 lo = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    U8 hi = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    std::memcpy(dst + c * dstStride, &lo, sizeof(U8));
    std::memcpy(dst + (c + 4) * dstStride, &hi, sizeof(U8));
  }
}

/// Copies the 2-D blocks spanned by dim k (`tile` indices at a time) and the
/// innermost dim of `nest` (operand 0 the destination, 1 the source); the
/// other dims are walked, in parallel for large copies. Serves
/// transpositions, with k the source-contiguous dim so that both sides are
/// read/written in whole cache lines, and short rows, with k the next-inner
/// dim so that the walker's per-item cost is spread over a block.
template <typename T>
void blockCopy(const LoopNest<2> &nest, int k, int64_t tile, T *dst,
               const T *src) {
  constexpr int64_t kBlock = 64;
  int r = nest.rank;
  int64_t n = nest.size[r - 1];
  int64_t ds = nest.stride[0][r - 1], ss = nest.stride[1][r - 1];
  int64_t nk = nest.size[k], dsk = nest.stride[0][k], ssk = nest.stride[1][k];
  int64_t blocks = ceilDiv(nk, tile);
  LoopNest<2> outer;
  for (int d = 0; d < r - 1; ++d)
    if (d != k)
      outer.push(nest.size[d], {nest.stride[0][d], nest.stride[1][d]});
  outer.push(blocks, {dsk * tile, ssk * tile});
  walk(outer, nest.count() > kParallelThreshold,
       [&](int64_t i, const auto &off) {
         int64_t rows = std::min(tile, nk - (i % blocks) * tile);
         T *o = dst + off[0];
         const T *x = src + off[1];
         int64_t j8 = 0;
         if constexpr (sizeof(T) == 4) {
           if (ds == 1 && ssk == 1) { // A pure transposition: 8x8 blocks.
             int64_t t8 = rows / 8 * 8;
             j8 = n / 8 * 8;
             for (int64_t j = 0; j < j8; j += 8)
               for (int64_t t = 0; t < t8; t += 8)
                 transpose8x8(x + j * ss + t, ss, o + t * dsk + j, dsk);
             for (int64_t t = t8; t < rows; ++t)
               for (int64_t j = 0; j < j8; ++j)
                 o[t * dsk + j] = x[j * ss + t];
           }
         }
         for (int64_t j0 = j8; j0 < n; j0 += kBlock) {
           int64_t j1 = std::min(n, j0 + kBlock);
           for (int64_t t = 0; t < rows; ++t) {
             T *orow = o + t * dsk;
             const T *xrow = x + t * ssk;
             if (ds == 1 && ss == 1)
               std::memcpy(orow + j0, xrow + j0, (j1 - j0) * sizeof(T));
             else if (ds == 1)
               for (int64_t j = j0; j < j1; ++j)
                 orow[j] = xrow[j * ss];
             else
               for (int64_t j = j0; j < j1; ++j)
                 orow[j * ds] = xrow[j * ss];
           }
         }
       });
}

/// Copies elements between strided layouts: operand 0 of `nest` is the
/// destination, operand 1 the source (strides in elements).
void stridedCopy(LoopNest<2> nest, void *dst, const void *src,
                 size_t elemSize) {
  nest.canonicalize();
  withElemType(elemSize, [&](auto tag) {
    using T = decltype(tag);
    T *d = static_cast<T *>(dst);
    const T *s = static_cast<const T *>(src);
    int r = nest.rank;
    int64_t n = r ? nest.size[r - 1] : 1;
    int64_t ds = nest.inner(0), ss = nest.inner(1);
    if (r >= 2 && ds == 1 && ss != 1) {
      // The innermost dims of the two layouts differ (e.g. NCHW <-> NHWC):
      // tile the source-contiguous dim against the destination-contiguous.
      for (int k = r - 2; k >= 0; --k)
        if (nest.stride[1][k] == 1) {
          int64_t tile = std::max<int64_t>(64 / sizeof(T), 2048 / n);
          return blockCopy<T>(nest, k, tile, d, s);
        }
    }
    if (r >= 2 && n < 256)
      return blockCopy<T>(nest, r - 2, std::max<int64_t>(1, 2048 / n), d, s);
    // Long rows: memcpy (e.g. a transpose that keeps the last dim, concat,
    // slice with unit inner stride) or a strided gather.
    forEachRow(nest, [&](const auto &off, int64_t len) {
      T *o = d + off[0];
      const T *x = s + off[1];
      if (ds == 1 && ss == 1) {
        std::memcpy(o, x, len * sizeof(T));
        return;
      }
      for (int64_t i = 0; i < len; ++i)
        o[i * ds] = x[i * ss];
    });
  });
}

/// Writes n copies of the elemSize-byte `value`.
void fillValue(void *dst, int64_t n, const void *value, size_t elemSize) {
  withElemType(elemSize, [&](auto tag) {
    using T = decltype(tag);
    T v;
    std::memcpy(&v, value, sizeof(T));
    T *d = static_cast<T *>(dst);
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      d[i] = v;
  });
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Accumulates in double, finishes as the mean.
struct MeanAcc {
  using T = double;
  static T init() { return 0.0; }
  static void add(T &acc, float x) { acc += x; }
  static void merge(T &acc, T other) { acc += other; }
  static float finish(T acc, double invCount) {
    return static_cast<float>(acc * invCount);
  }
};
/// Maximum (NaN propagates).
struct MaxAcc {
  using T = float;
  static T init() { return -std::numeric_limits<float>::infinity(); }
  static void add(T &acc, float x) { acc = maxNaN(acc, x); }
  static void merge(T &acc, T other) { acc = maxNaN(acc, other); }
  static float finish(T acc, double) { return acc; }
};

/// Reduction whose innermost dim (k contiguous values) is kept: out[o + c] =
/// reduce over the offsets r of `red` of in[i + r + c], for each (i, o) of
/// `rows` (operand 0 input offsets, 1 output offsets). Threads split the rows
/// and channel chunks, or, when there are fewer of those than threads (batch
/// 1, few channels), the reduction itself.
template <typename Acc>
void reduceKeptInner(const float *in, float *out, LoopNest<2> rows,
                     const LoopNest<1> &red, int64_t k, double invCount) {
  using T = typename Acc::T;
  constexpr int64_t kMaxChunk = 512;
  int64_t numRows = rows.count(), redCount = red.count();
  if (numRows * k == 0)
    return;
  // Adds reduction indices [r0, r1) of the len channels at `base` to acc.
  auto accumulate = [&](const float *base, int64_t r0, int64_t r1, int64_t len,
                        T *acc) {
    walkRange(red, r0, r1, [&](int64_t, const auto &roff) {
      const float *x = base + roff[0];
      VAI_SIMD
      for (int64_t c = 0; c < len; ++c)
        Acc::add(acc[c], x[c]);
    });
  };
  bool parallel = numRows * k * redCount > kParallelThreshold;
  int64_t threads = parallel ? omp_get_max_threads() : 1;
  int64_t chunks = ceilDiv(k, kMaxChunk);
  if (parallel && numRows * chunks < threads && redCount >= 64 * threads) {
    // Each thread reduces a slice of the reduction (into a private buffer:
    // shared cache lines would ping-pong); partials are merged.
    std::vector<T> partial(threads * numRows * k);
    parallelRanges(threads, true, [&](int64_t begin, int64_t end) {
      T acc[kMaxChunk];
      for (int64_t t = begin; t < end; ++t)
        walkRange(rows, 0, numRows, [&](int64_t row, const auto &off) {
          for (int64_t c0 = 0; c0 < k; c0 += kMaxChunk) {
            int64_t len = std::min(kMaxChunk, k - c0);
            std::fill(acc, acc + len, Acc::init());
            accumulate(in + off[0] + c0, redCount * t / threads,
                       redCount * (t + 1) / threads, len, acc);
            std::copy(acc, acc + len,
                      partial.data() + (t * numRows + row) * k + c0);
          }
        });
    });
    walkRange(rows, 0, numRows, [&](int64_t row, const auto &off) {
      for (int64_t c = 0; c < k; ++c) {
        T acc = partial[row * k + c];
        for (int64_t t = 1; t < threads; ++t)
          Acc::merge(acc, partial[(t * numRows + row) * k + c]);
        out[off[1] + c] = Acc::finish(acc, invCount);
      }
    });
    return;
  }
  int64_t chunk = ceilDiv(k, chunks);
  rows.push(chunks, {chunk, chunk});
  walk(rows, parallel, [&](int64_t i, const auto &off) {
    int64_t len = std::min(chunk, k - (i % chunks) * chunk);
    T acc[kMaxChunk];
    std::fill(acc, acc + len, Acc::init());
    accumulate(in + off[0], 0, redCount, len, acc);
    float *o = out + off[1];
    VAI_SIMD
    for (int64_t c = 0; c < len; ++c)
      o[c] = Acc::finish(acc[c], invCount);
  });
}

//===----------------------------------------------------------------------===//
// Pooling and resize helpers
//===----------------------------------------------------------------------===//

/// One pooling window: first row/column (may lie in the padding) and the
/// in-bounds half-open ranges.
struct PoolWindow {
  int64_t y0, x0, ys, ye, xs, xe;
};

/// Calls fn(in, out, window) for every output position; `in` points at the
/// batch element's [ih, iw, c] image, `out` at the output's c values.
template <typename Fn>
void forEachPoolWindow(const PoolGeometry &g, const float *in, float *out,
                       Fn &&fn) {
  int64_t rows = g.n * g.oh;
  bool parallel = rows * g.ow * g.c * g.kh * g.kw > kParallelThreshold;
  parallelRanges(rows, parallel, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t ni = row / g.oh, oy = row % g.oh;
      PoolWindow w;
      w.y0 = oy * g.strideH - g.padTop;
      w.ys = std::max<int64_t>(w.y0, 0);
      w.ye = std::min(w.y0 + g.kh, g.ih);
      const float *image = in + ni * g.ih * g.iw * g.c;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        w.x0 = ox * g.strideW - g.padLeft;
        w.xs = std::max<int64_t>(w.x0, 0);
        w.xe = std::min(w.x0 + g.kw, g.iw);
        fn(image, out + (row * g.ow + ox) * g.c, w);
      }
    }
  });
}

/// An output coordinate mapped to the input as the exact fraction num / den
/// (den > 0), so that the rounding of Nearest is exact at ties.
struct Fraction {
  int64_t num, den;
};

Fraction sourceCoord(CoordMode mode, int64_t x, int64_t in, int64_t out) {
  switch (mode) {
  case CoordMode::Asymmetric:
    return {x * in, out};
  case CoordMode::AlignCorners:
    if (out == 1)
      return {0, 1};
    return {x * (in - 1), out - 1};
  case CoordMode::PytorchHalfPixel:
    if (out == 1)
      return {0, 1};
    [[fallthrough]];
  case CoordMode::HalfPixel:
    // (x + 0.5) * in / out - 0.5
    return {(2 * x + 1) * in - out, 2 * out};
  }
  return {0, 1};
}

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t roundFraction(NearestRound mode, Fraction f) {
  switch (mode) {
  case NearestRound::Floor:
    return floorDiv(f.num, f.den);
  case NearestRound::Ceil:
    return -floorDiv(-f.num, f.den);
  case NearestRound::RoundPreferFloor: // ceil(q - 1/2)
    return -floorDiv(f.den - 2 * f.num, 2 * f.den);
  case NearestRound::RoundPreferCeil: // floor(q + 1/2)
    return floorDiv(2 * f.num + f.den, 2 * f.den);
  }
  return 0;
}

/// Per output coordinate of one axis: the two input neighbours and the weight
/// of the second (Nearest uses i0 only).
struct ResizeTap {
  int64_t i0, i1;
  float w1;
};

std::vector<ResizeTap> resizeTaps(const ResizeParams &p, int64_t in,
                                  int64_t out) {
  std::vector<ResizeTap> taps(out);
  for (int64_t x = 0; x < out; ++x) {
    Fraction f = sourceCoord(p.coord, x, in, out);
    ResizeTap &t = taps[x];
    if (p.mode == ResizeMode::Nearest) {
      t.i0 = std::clamp<int64_t>(roundFraction(p.nearest, f), 0, in - 1);
      t.i1 = t.i0;
      t.w1 = 0.0f;
      continue;
    }
    double c =
        std::clamp(static_cast<double>(f.num) / static_cast<double>(f.den), 0.0,
                   static_cast<double>(in - 1));
    t.i0 = static_cast<int64_t>(c);
    t.i1 = std::min(t.i0 + 1, in - 1);
    t.w1 = static_cast<float>(c - static_cast<double>(t.i0));
  }
  return taps;
}

} // namespace

//===----------------------------------------------------------------------===//
// Activations and element-wise ops
//===----------------------------------------------------------------------===//

void applyActivation(const ActivationSpec &act, float *data, int64_t n) {
  if (act.kind == Activation::None)
    return;
  forEachChunk(n, [&](int64_t begin, int64_t len) {
    activateRow(act, data + begin, len);
  });
}

namespace {
template <typename Op>
void unaryWith(const float *in, float *out, int64_t n, Op op) {
  forEachChunk(n, [&](int64_t begin, int64_t len) {
    const float *x = in + begin;
    float *o = out + begin;
    VAI_SIMD
    for (int64_t i = 0; i < len; ++i)
      o[i] = op(x[i]);
  });
}

/// mapF8 over n floats, in parallel chunks.
template <typename Fn>
void mapChunks(const float *in, float *out, int64_t n, Fn fn) {
  forEachChunk(n, [&](int64_t begin, int64_t len) {
    mapF8(in + begin, out + begin, len, fn);
  });
}
} // namespace

void unary(UnaryKind kind, const float *in, float *out, int64_t n, float alpha,
           float beta) {
  switch (kind) {
  case UnaryKind::Relu:
    return unaryWith(in, out, n, [](float x) { return x < 0.0f ? 0.0f : x; });
  case UnaryKind::Relu6:
    return unaryWith(in, out, n, [](float x) {
      return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    });
  case UnaryKind::LeakyRelu:
    return unaryWith(in, out, n, [alpha](float x) { return leaky(x, alpha); });
  case UnaryKind::Sigmoid:
    return mapChunks(in, out, n, [](F8 v) { return sigmoidV(v); });
  case UnaryKind::Tanh:
    return mapChunks(in, out, n, [](F8 v) { return tanhV(v); });
  case UnaryKind::HardSigmoid:
    return unaryWith(in, out, n, [alpha, beta](float x) {
      float y = alpha * x + beta;
      return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    });
  case UnaryKind::Clip:
    return unaryWith(in, out, n, [alpha, beta](float x) {
      float y = x < alpha ? alpha : x;
      return y > beta ? beta : y;
    });
  }
}

namespace {
/// [outer, channels] with operand 0 the data and operand 1 a per-channel
/// vector; canonical, so channels == 1 leaves a broadcast (stride 0) vector.
LoopNest<2> channelNest(int64_t outer, int64_t channels) {
  LoopNest<2> nest;
  nest.push(outer, {channels, 0});
  nest.push(channels, {1, 1});
  nest.canonicalize();
  return nest;
}

/// Rows of fewer channels than this are widened (see WideChannels).
constexpr int64_t kNarrowChannels = 64;

/// A per-channel vector of c < kNarrowChannels values repeated `times` times,
/// so that [rows, c] data can run as [rows / times, c * times]: rows of at
/// least 256 elements keep the inner loops long and vectorised (e.g. the
/// 3-channel normalisation of an input image).
struct WideChannels {
  float data[256 + kNarrowChannels];
  int64_t times;
  /// Null `v` stays null (see channelAffine).
  const float *get(const float *v) const { return v ? data : nullptr; }
  WideChannels(const float *v, int64_t c) : times(ceilDiv(256, c)) {
    assert(c < kNarrowChannels);
    for (int64_t i = 0; v && i < times * c; ++i)
      data[i] = v[i % c];
  }
};
} // namespace

void fixQuantize(const float *in, float *out, int64_t n, int fixPoint,
                 int64_t lo, int64_t hi, RoundMode mode) {
  // Scaling by a power of two is exact in double, and so is adding 0.5: the
  // rounding decisions are those of the real numbers.
  const double scale = std::ldexp(1.0, fixPoint);
  const double inverse = std::ldexp(1.0, -fixPoint);
  const double dlo = static_cast<double>(lo), dhi = static_cast<double>(hi);
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    double v = static_cast<double>(in[i]) * scale;
    double q = 0.0;
    switch (mode) {
    case RoundMode::Dpu:
      q = std::floor(v + 0.5);
      break;
    case RoundMode::Std:
      q = std::round(v);
      break;
    case RoundMode::Py3:
      q = std::nearbyint(v); // the default rounding mode: half to even
      break;
    }
    if (std::isnan(q))
      q = 0.0;
    q = std::min(std::max(q, dlo), dhi);
    out[i] = static_cast<float>(q * inverse);
  }
}

void prelu(const float *in, const float *slope, float *out, int64_t outer,
           int64_t channels) {
  if (channels > 1 && channels < kNarrowChannels &&
      outer >= ceilDiv(256, channels)) {
    WideChannels wide(slope, channels);
    int64_t rows = outer / wide.times, done = rows * wide.times * channels;
    prelu(in, wide.data, out, rows, wide.times * channels);
    prelu(in + done, slope, out + done, outer % wide.times, channels);
    return;
  }
  LoopNest<2> nest = channelNest(outer, channels);
  bool vec = nest.inner(1) != 0;
  forEachRow(nest, [&](const auto &off, int64_t len) {
    const float *x = in + off[0];
    const float *s = slope + off[1];
    float *o = out + off[0];
    if (vec) {
      VAI_SIMD
      for (int64_t i = 0; i < len; ++i)
        o[i] = leaky(x[i], s[i]);
    } else {
      float sv = *s;
      VAI_SIMD
      for (int64_t i = 0; i < len; ++i)
        o[i] = leaky(x[i], sv);
    }
  });
}

void channelAffine(const float *in, const float *scale, const float *shift,
                   float *out, int64_t outer, int64_t channels) {
  if (channels > 1 && channels < kNarrowChannels &&
      outer >= ceilDiv(256, channels)) {
    WideChannels wideScale(scale, channels), wideShift(shift, channels);
    int64_t times = wideScale.times;
    int64_t rows = outer / times, done = rows * times * channels;
    channelAffine(in, wideScale.get(scale), wideShift.get(shift), out, rows,
                  times * channels);
    channelAffine(in + done, scale, shift, out + done, outer % times, channels);
    return;
  }
  LoopNest<2> nest = channelNest(outer, channels);
  bool vec = nest.inner(1) != 0;
  forEachRow(nest, [&](const auto &off, int64_t len) {
    const float *x = in + off[0];
    float *o = out + off[0];
    const float *a = scale ? scale + off[1] : nullptr;
    const float *b = shift ? shift + off[1] : nullptr;
    if (!vec) { // A single channel.
      float av = a ? *a : 1.0f;
      if (b) {
        float bv = *b;
        VAI_SIMD
        for (int64_t i = 0; i < len; ++i)
          o[i] = x[i] * av + bv;
      } else {
        VAI_SIMD
        for (int64_t i = 0; i < len; ++i)
          o[i] = x[i] * av;
      }
    } else if (a && b) {
      VAI_SIMD
      for (int64_t i = 0; i < len; ++i)
        o[i] = x[i] * a[i] + b[i];
    } else if (a) {
      VAI_SIMD
      for (int64_t i = 0; i < len; ++i)
        o[i] = x[i] * a[i];
    } else if (b) {
      VAI_SIMD
      for (int64_t i = 0; i < len; ++i)
        o[i] = x[i] + b[i];
    } else if (o != x) {
      std::memcpy(o, x, len * sizeof(float));
    }
  });
}

namespace {
/// One output row of a binary op; aVec/bVec false means that operand is a
/// single value broadcast along the row.
template <typename Op>
inline void binaryRow(const float *a, bool aVec, const float *b, bool bVec,
                      float *o, int64_t n, Op op) {
  if (aVec && bVec) {
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      o[i] = op(a[i], b[i]);
  } else if (aVec) {
    float bv = *b;
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      o[i] = op(a[i], bv);
  } else if (bVec) {
    float av = *a;
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      o[i] = op(av, b[i]);
  } else {
    float v = op(*a, *b);
    VAI_SIMD
    for (int64_t i = 0; i < n; ++i)
      o[i] = v;
  }
}

template <typename Op>
void binaryWith(const LoopNest<3> &nest, const float *a, const float *b,
                float *out, const ActivationSpec &act, Op op) {
  // A per-channel operand with few channels: widen the rows.
  int64_t c = nest.rank == 2 ? nest.size[1] : 0;
  if (c > 1 && c < kNarrowChannels && nest.size[0] >= ceilDiv(256, c) &&
      nest.stride[0][0] == c && nest.stride[0][1] == 1) {
    for (int v = 1; v <= 2; ++v) {
      int f = 3 - v; // The full operand.
      if (nest.stride[v][0] != 0 || nest.stride[v][1] != 1 ||
          nest.stride[f][0] != c || nest.stride[f][1] != 1)
        continue;
      WideChannels wide(v == 1 ? a : b, c);
      int64_t rows = nest.size[0] / wide.times, width = wide.times * c;
      int64_t done = rows * width;
      LoopNest<3> main, rest;
      main.push(rows, {width, width, width});
      main.push(width, {1, 1, 1});
      main.stride[v][0] = 0;
      rest.push(nest.size[0] % wide.times, {c, c, c});
      rest.push(c, {1, 1, 1});
      rest.stride[v][0] = 0;
      if (v == 1) {
        binaryWith(main, wide.data, b, out, act, op);
        binaryWith(rest, a, b + done, out + done, act, op);
      } else {
        binaryWith(main, a, wide.data, out, act, op);
        binaryWith(rest, a + done, b, out + done, act, op);
      }
      return;
    }
  }
  bool aVec = nest.inner(1) != 0, bVec = nest.inner(2) != 0;
  forEachRow(nest, [&](const auto &off, int64_t len) {
    float *o = out + off[0];
    binaryRow(a + off[1], aVec, b + off[2], bVec, o, len, op);
    activateRow(act, o, len);
  });
}
} // namespace

void binary(BinaryKind kind, const float *a, const Shape &aShape,
            const float *b, const Shape &bShape, float *out,
            const Shape &outShape, ActivationSpec act) {
  size_t rank = outShape.size();
  assert(aShape.size() == rank && bShape.size() == rank && "rank mismatch");
  Shape as = denseStrides(aShape), bs = denseStrides(bShape),
        os = denseStrides(outShape);
  // Identical shapes and scalar operands canonicalise to one flat dim, a
  // per-channel operand to [rows, channels] with stride 0 on the rows.
  LoopNest<3> nest;
  for (size_t d = 0; d < rank; ++d) {
    assert((aShape[d] == outShape[d] || aShape[d] == 1) &&
           (bShape[d] == outShape[d] || bShape[d] == 1) &&
           "operands do not broadcast to the output");
    nest.push(outShape[d],
              {os[d], aShape[d] == 1 ? 0 : as[d], bShape[d] == 1 ? 0 : bs[d]});
  }
  nest.canonicalize();
  switch (kind) {
  case BinaryKind::Add:
    return binaryWith(nest, a, b, out, act,
                      [](float x, float y) { return x + y; });
  case BinaryKind::Sub:
    return binaryWith(nest, a, b, out, act,
                      [](float x, float y) { return x - y; });
  case BinaryKind::Mul:
    return binaryWith(nest, a, b, out, act,
                      [](float x, float y) { return x * y; });
  case BinaryKind::Div:
    return binaryWith(nest, a, b, out, act,
                      [](float x, float y) { return x / y; });
  case BinaryKind::Max:
    return binaryWith(nest, a, b, out, act,
                      [](float x, float y) { return maxNaN(x, y); });
  case BinaryKind::Min:
    return binaryWith(nest, a, b, out, act,
                      [](float x, float y) { return minNaN(x, y); });
  }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void maxPool2D(const PoolGeometry &g, const float *in, float *out) {
  int64_t c = g.c;
  forEachPoolWindow(
      g, in, out, [&](const float *image, float *o, const PoolWindow &w) {
        if (w.ys >= w.ye || w.xs >= w.xe) {
          // Only when the padding reaches the kernel size, which the op
          // forbids; ONNX Runtime's value.
          std::fill(o, o + c, std::numeric_limits<float>::lowest());
          return;
        }
        std::memcpy(o, image + (w.ys * g.iw + w.xs) * c, c * sizeof(float));
        for (int64_t y = w.ys; y < w.ye; ++y)
          for (int64_t x = w.xs; x < w.xe; ++x) {
            const float *v = image + (y * g.iw + x) * c;
            VAI_SIMD
            for (int64_t k = 0; k < c; ++k)
              o[k] = maxNaN(o[k], v[k]);
          }
      });
}

void avgPool2D(const PoolGeometry &g, bool countIncludePad, const float *in,
               float *out) {
  int64_t c = g.c;
  forEachPoolWindow(
      g, in, out, [&](const float *image, float *o, const PoolWindow &w) {
        std::fill(o, o + c, 0.0f);
        for (int64_t y = w.ys; y < w.ye; ++y)
          for (int64_t x = w.xs; x < w.xe; ++x) {
            const float *v = image + (y * g.iw + x) * c;
            VAI_SIMD
            for (int64_t k = 0; k < c; ++k)
              o[k] += v[k];
          }
        int64_t divisor;
        if (countIncludePad)
          divisor = (std::min(w.y0 + g.kh, g.ih + g.padBottom) - w.y0) *
                    (std::min(w.x0 + g.kw, g.iw + g.padRight) - w.x0);
        else
          divisor = std::max<int64_t>(w.ye - w.ys, 0) *
                    std::max<int64_t>(w.xe - w.xs, 0);
        // An empty window (impossible for valid ops) yields 0.
        float scale = divisor > 0 ? 1.0f / static_cast<float>(divisor) : 0.0f;
        VAI_SIMD
        for (int64_t k = 0; k < c; ++k)
          o[k] *= scale;
      });
}

void globalAvgPool2D(const float *in, float *out, int64_t n, int64_t hw,
                     int64_t c) {
  reduceMean(in, {n, hw, c}, {1}, out);
}

void globalMaxPool2D(const float *in, float *out, int64_t n, int64_t hw,
                     int64_t c) {
  assert(hw > 0 && "global max pool of an empty image");
  LoopNest<2> rows;
  rows.push(n, {hw * c, c});
  LoopNest<1> red;
  red.push(hw, {c});
  reduceKeptInner<MaxAcc>(in, out, rows, red, c, 1.0);
}

//===----------------------------------------------------------------------===//
// Softmax and reductions
//===----------------------------------------------------------------------===//

void softmax(const float *in, float *out, int64_t outer, int64_t axis,
             int64_t inner) {
  if (outer * axis * inner == 0)
    return;
  bool parallel = outer * axis * inner > kParallelThreshold / 4;
  if (inner == 1) {
    // Rows are contiguous.
    parallelRanges(outer, parallel, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float *x = in + r * axis;
        float *o = out + r * axis;
        float m = maxF32(x, axis);
        VAI_SIMD
        for (int64_t i = 0; i < axis; ++i)
          o[i] = x[i] - m;
        mapF8(o, o, axis, [](F8 v) { return expV(v); });
        float inv = static_cast<float>(1.0 / sumF64(o, axis));
        VAI_SIMD
        for (int64_t i = 0; i < axis; ++i)
          o[i] *= inv;
      }
    });
    return;
  }
  // Columns: vectorise over chunks of the inner dim.
  constexpr int64_t kChunk = 256;
  int64_t chunks = ceilDiv(inner, kChunk);
  parallelRanges(outer * chunks, parallel, [&](int64_t begin, int64_t end) {
    float mx[kChunk];
    double sum[kChunk];
    for (int64_t item = begin; item < end; ++item) {
      int64_t r = item / chunks, c0 = (item % chunks) * kChunk;
      int64_t len = std::min(kChunk, inner - c0);
      const float *x = in + r * axis * inner + c0;
      float *o = out + r * axis * inner + c0;
      std::memcpy(mx, x, len * sizeof(float));
      for (int64_t a = 1; a < axis; ++a) {
        VAI_SIMD
        for (int64_t c = 0; c < len; ++c)
          mx[c] = maxNaN(mx[c], x[a * inner + c]);
      }
      std::fill(sum, sum + len, 0.0);
      for (int64_t a = 0; a < axis; ++a) {
        const float *xa = x + a * inner;
        float *oa = o + a * inner;
        VAI_SIMD
        for (int64_t c = 0; c < len; ++c)
          oa[c] = xa[c] - mx[c];
        mapF8(oa, oa, len, [](F8 v) { return expV(v); });
        VAI_SIMD
        for (int64_t c = 0; c < len; ++c)
          sum[c] += oa[c];
      }
      VAI_SIMD
      for (int64_t c = 0; c < len; ++c)
        mx[c] = static_cast<float>(1.0 / sum[c]);
      for (int64_t a = 0; a < axis; ++a) {
        VAI_SIMD
        for (int64_t c = 0; c < len; ++c)
          o[a * inner + c] *= mx[c];
      }
    }
  });
}

void reduceMean(const float *in, const Shape &inShape,
                const std::vector<int64_t> &axes, float *out) {
  size_t rank = inShape.size();
  Shape outShape = inShape;
  int64_t redCount = 1;
  for (int64_t a : axes) {
    assert(a >= 0 && static_cast<size_t>(a) < rank && "axis out of range");
    redCount *= inShape[a];
    outShape[a] = 1;
  }
  Shape is = denseStrides(inShape), os = denseStrides(outShape);
  // Operand 0: input; 1: output (stride 0 on reduced dims).
  LoopNest<2> nest;
  for (size_t d = 0; d < rank; ++d) {
    bool reduced =
        std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    nest.push(inShape[d], {is[d], reduced ? 0 : os[d]});
  }
  nest.canonicalize();
  int64_t outCount = numElements(outShape);
  if (outCount == 0)
    return;
  if (redCount == 0) {
    std::fill(out, out + outCount, std::numeric_limits<float>::quiet_NaN());
    return;
  }
  // Split into the kept dims (output positions) and the reduced dims.
  LoopNest<2> kept;
  LoopNest<1> red;
  for (int d = 0; d < nest.rank; ++d) {
    if (nest.stride[1][d] == 0)
      red.push(nest.size[d], {nest.stride[0][d]});
    else
      kept.push(nest.size[d], {nest.stride[0][d], nest.stride[1][d]});
  }
  if (red.rank == 0) { // Only unit dims are reduced.
    if (out != in)
      std::memcpy(out, in, outCount * sizeof(float));
    return;
  }
  double inv = 1.0 / static_cast<double>(redCount);
  if (nest.stride[1][nest.rank - 1] != 0) {
    // The innermost dim is kept (e.g. NHWC over H, W): accumulate rows.
    reduceKeptInner<MeanAcc>(in, out, kept.outer(), red,
                             kept.size[kept.rank - 1], inv);
    return;
  }
  // The innermost dim is reduced: contiguous sums per output element.
  int64_t len = red.size[red.rank - 1];
  LoopNest<1> redOuter = red.outer();
  int64_t redRows = redOuter.count();
  walk(kept, outCount * redCount > kParallelThreshold,
       [&](int64_t, const auto &off) {
         double s = 0.0;
         walkRange(redOuter, 0, redRows, [&](int64_t, const auto &roff) {
           s += sumF64(in + off[0] + roff[0], len);
         });
         out[off[1]] = static_cast<float>(s * inv);
       });
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

void resize(const ResizeParams &p, const float *in, float *out) {
  std::vector<ResizeTap> ty = resizeTaps(p, p.ih, p.oh);
  std::vector<ResizeTap> tx = resizeTaps(p, p.iw, p.ow);
  int64_t c = p.c, rows = p.n * p.oh;
  bool bilinear = p.mode == ResizeMode::Bilinear;
  bool parallel = rows * p.ow * c > kParallelThreshold;
  parallelRanges(rows, parallel, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t ni = row / p.oh;
      const ResizeTap &y = ty[row % p.oh];
      const float *image = in + ni * p.ih * p.iw * c;
      const float *r0 = image + y.i0 * p.iw * c;
      const float *r1 = image + y.i1 * p.iw * c;
      float *o = out + row * p.ow * c;
      for (int64_t ox = 0; ox < p.ow; ++ox, o += c) {
        const ResizeTap &x = tx[ox];
        if (!bilinear) {
          std::memcpy(o, r0 + x.i0 * c, c * sizeof(float));
          continue;
        }
        const float *a = r0 + x.i0 * c, *b = r0 + x.i1 * c;
        const float *d = r1 + x.i0 * c, *e = r1 + x.i1 * c;
        float wx1 = x.w1, wx0 = 1.0f - wx1, wy1 = y.w1, wy0 = 1.0f - wy1;
        VAI_SIMD
        for (int64_t k = 0; k < c; ++k)
          o[k] =
              wy0 * (wx0 * a[k] + wx1 * b[k]) + wy1 * (wx0 * d[k] + wx1 * e[k]);
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

void concat(const std::vector<const void *> &ins,
            const std::vector<Shape> &inShapes, int64_t axis, size_t elemSize,
            void *out) {
  assert(!ins.empty() && ins.size() == inShapes.size() && "bad inputs");
  const Shape &s0 = inShapes[0];
  int64_t outer = 1, inner = 1, total = 0;
  for (int64_t d = 0; d < axis; ++d)
    outer *= s0[d];
  for (size_t d = axis + 1; d < s0.size(); ++d)
    inner *= s0[d];
  for (const Shape &s : inShapes)
    total += s[axis];
  // Each input is a [outer, dim * inner] block of rows placed at column
  // `start` of the [outer, total * inner] output.
  int64_t start = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    int64_t len = inShapes[i][axis] * inner;
    LoopNest<2> nest;
    nest.push(outer, {total * inner, len});
    nest.push(len, {1, 1});
    stridedCopy(nest, static_cast<char *>(out) + start * elemSize, ins[i],
                elemSize);
    start += len;
  }
}

void transpose(const void *in, const Shape &inShape,
               const std::vector<int64_t> &perm, size_t elemSize, void *out) {
  assert(perm.size() == inShape.size() && "perm does not match the rank");
  Shape is = denseStrides(inShape);
  Shape outShape(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    outShape[i] = inShape[perm[i]];
  Shape os = denseStrides(outShape);
  LoopNest<2> nest;
  for (size_t i = 0; i < perm.size(); ++i)
    nest.push(outShape[i], {os[i], is[perm[i]]});
  stridedCopy(nest, out, in, elemSize);
}

void slice(const void *in, const Shape &inShape,
           const std::vector<int64_t> &offsets,
           const std::vector<int64_t> &strides, size_t elemSize, void *out,
           const Shape &outShape) {
  size_t rank = inShape.size();
  assert(offsets.size() == rank && strides.size() == rank &&
         outShape.size() == rank && "slice rank mismatch");
  Shape is = denseStrides(inShape), os = denseStrides(outShape);
  int64_t base = 0;
  LoopNest<2> nest;
  for (size_t d = 0; d < rank; ++d) {
    assert(strides[d] > 0 && "slice strides must be positive");
    assert(outShape[d] == 0 ||
           (offsets[d] >= 0 &&
            offsets[d] + (outShape[d] - 1) * strides[d] < inShape[d]));
    base += offsets[d] * is[d];
    nest.push(outShape[d], {os[d], is[d] * strides[d]});
  }
  stridedCopy(nest, out, static_cast<const char *>(in) + base * elemSize,
              elemSize);
}

namespace {
/// Maps padded index i (in [-low, n + high)) to the input, or -1 for the
/// constant padding.
inline int64_t padSource(PadMode mode, int64_t i, int64_t n) {
  if (i >= 0 && i < n)
    return i;
  switch (mode) {
  case PadMode::Constant:
    return -1;
  case PadMode::Reflect:
    return i < 0 ? -i : 2 * (n - 1) - i;
  case PadMode::Edge:
    return i < 0 ? 0 : n - 1;
  }
  return -1;
}
} // namespace

void pad(const void *in, const Shape &inShape, const std::vector<int64_t> &low,
         const std::vector<int64_t> &high, PadMode mode, const void *value,
         size_t elemSize, void *out) {
  int rank = static_cast<int>(inShape.size());
  assert(low.size() == inShape.size() && high.size() == inShape.size());
  Shape outShape(rank);
  for (int d = 0; d < rank; ++d) {
    assert(low[d] >= 0 && high[d] >= 0 && "negative padding");
    assert((mode != PadMode::Reflect ||
            (low[d] < inShape[d] && high[d] < inShape[d]) ||
            (low[d] == 0 && high[d] == 0)) &&
           "reflect padding must be smaller than the dim");
    assert((mode != PadMode::Edge || inShape[d] > 0 ||
            (low[d] == 0 && high[d] == 0)) &&
           "edge padding of an empty dim");
    outShape[d] = inShape[d] + low[d] + high[d];
  }
  // Trailing unpadded dims form one unit of `unitElems` elements (e.g. the
  // channels of an NHWC spatial pad); rows run along the innermost padded dim.
  int m = rank;
  int64_t unitElems = 1;
  while (m > 0 && low[m - 1] == 0 && high[m - 1] == 0)
    unitElems *= inShape[--m];
  size_t unitBytes = unitElems * elemSize;
  if (m == 0) {
    std::memcpy(out, in, unitBytes);
    return;
  }
  int64_t inW = inShape[m - 1], lo = low[m - 1], outW = outShape[m - 1];
  int64_t rows = 1;
  for (int d = 0; d < m - 1; ++d)
    rows *= outShape[d];
  // Input strides in units.
  std::vector<int64_t> inStride(m);
  for (int64_t d = m - 1, s = 1; d >= 0; --d) {
    inStride[d] = s;
    s *= inShape[d];
  }
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);
  bool parallel = rows * outW * unitElems > kParallelThreshold;
  parallelRanges(rows, parallel, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      char *o = dst + row * outW * unitBytes;
      // Source row, or none when some outer index is in constant padding.
      int64_t srcRow = 0;
      for (int64_t d = m - 2, rem = row; d >= 0 && srcRow >= 0; --d) {
        int64_t i = padSource(mode, rem % outShape[d] - low[d], inShape[d]);
        rem /= outShape[d];
        srcRow = i < 0 ? -1 : srcRow + i * inStride[d];
      }
      if (srcRow < 0) {
        fillValue(o, outW * unitElems, value, elemSize);
        continue;
      }
      const char *x = src + srcRow * unitBytes;
      std::memcpy(o + lo * unitBytes, x, inW * unitBytes);
      if (mode == PadMode::Constant) {
        fillValue(o, lo * unitElems, value, elemSize);
        fillValue(o + (lo + inW) * unitBytes, (outW - lo - inW) * unitElems,
                  value, elemSize);
        continue;
      }
      auto copyUnit = [&](int64_t j) {
        std::memcpy(o + j * unitBytes,
                    x + padSource(mode, j - lo, inW) * unitBytes, unitBytes);
      };
      for (int64_t j = 0; j < lo; ++j)
        copyUnit(j);
      for (int64_t j = lo + inW; j < outW; ++j)
        copyUnit(j);
    }
  });
}

} // namespace vai::rt
