//===- DnnlKernels.cpp - oneDNN-backed convolutions and matrix products ---===//
//
// Conv2D, TransposedConv2D, InnerProduct and matmul on top of the oneDNN C++
// API (v2.x). Primitives are created and weights are repacked into the layout
// the primitive prefers once, at construction. run() wraps the caller's NHWC
// buffers, allocates a private scratchpad (scratchpad_mode::user) and executes
// on a fresh stream, so any number of threads may call run() on one object at
// the same time.
//
// Geometry mapping:
//  - oneDNN dilation is ours minus one.
//  - padding_r is derived from the given output size so that oneDNN's size
//    check holds exactly; it may be negative (down to 1 - stride), which
//    oneDNN accepts. Where even that cannot express the geometry, the input is
//    cropped (convolution) or the output is produced in a smaller temporary
//    (transposed convolution); see the Impl constructors.
//  - Configurations that oneDNN cannot express at all (every output reads
//    padding only) or rejects fall back to direct loops with the same
//    semantics.
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/Kernels.h"

#include <dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace vai::rt {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

[[noreturn]] void fail(const char *who, const std::string &msg) {
  throw std::runtime_error(std::string("vai::rt::") + who + ": " + msg);
}

void check(bool cond, const char *who, const std::string &msg) {
  if (!cond)
    fail(who, msg);
}

/// Runs `fn`, turning oneDNN and other standard exceptions into
/// std::runtime_error, the only exception type the kernels throw.
template <typename Fn> auto guarded(const char *who, Fn &&fn) {
  try {
    return fn();
  } catch (const std::runtime_error &) {
    throw;
  } catch (const dnnl::error &e) {
    fail(who, std::string("oneDNN error: ") + e.what());
  } catch (const std::bad_alloc &) {
    fail(who, "out of memory");
  } catch (const std::exception &e) {
    fail(who, e.what());
  }
}

/// A 64-byte aligned, uninitialised heap buffer.
class Buffer {
public:
  explicit Buffer(size_t bytes) {
    if (bytes)
      ptr = ::operator new(bytes, std::align_val_t(64));
  }
  ~Buffer() {
    if (ptr)
      ::operator delete(ptr, std::align_val_t(64));
  }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  void *get() const { return ptr; }
  float *floats() const { return static_cast<float *>(ptr); }

private:
  void *ptr = nullptr;
};

inline float activate(const ActivationSpec &act, float x) {
  switch (act.kind) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return x > 0.0f ? x : 0.0f;
  case Activation::Relu6:
    return std::min(std::max(x, 0.0f), 6.0f);
  case Activation::LeakyRelu:
    return x >= 0.0f ? x : act.alpha * x;
  }
  return x;
}

void activateInPlace(const ActivationSpec &act, float *data, int64_t n) {
  if (act.kind == Activation::None)
    return;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    data[i] = activate(act, data[i]);
}

/// Attributes shared by every primitive: user-managed scratchpad (required
/// for concurrent execution of one primitive) and, optionally, the fused
/// activation as an eltwise post-op.
dnnl::primitive_attr makeAttr(const ActivationSpec *act) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (act && act->kind != Activation::None) {
    dnnl::post_ops ops;
    switch (act->kind) {
    case Activation::Relu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      break;
    case Activation::Relu6:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 6.0f);
      break;
    case Activation::LeakyRelu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, act->alpha, 0.0f);
      break;
    case Activation::None:
      break;
    }
    attr.set_post_ops(ops);
  }
  return attr;
}

/// Creates a primitive descriptor with the activation fused; if oneDNN
/// rejects the post-op, retries without it and sets `manualAct`.
template <typename PD, typename Desc>
PD createPd(const Desc &desc, const ActivationSpec &act, bool &manualAct) {
  manualAct = false;
  if (act.kind != Activation::None) {
    try {
      return PD(desc, makeAttr(&act), cpuEngine());
    } catch (const dnnl::error &) {
      manualAct = true;
    }
  }
  return PD(desc, makeAttr(nullptr), cpuEngine());
}

/// Executes `prim` with `args` plus a private scratchpad on a fresh stream.
void execute(const dnnl::primitive &prim, const dnnl::memory::desc &scratchMd,
             std::unordered_map<int, dnnl::memory> args) {
  dnnl::engine &eng = cpuEngine();
  size_t scratchBytes = scratchMd.get_size();
  Buffer scratch(scratchBytes);
  if (scratchBytes)
    args.emplace(DNNL_ARG_SCRATCHPAD,
                 dnnl::memory(scratchMd, eng, scratch.get()));
  dnnl::stream stream(eng);
  prim.execute(stream, args);
  stream.wait();
}

/// Logical oneDNN weight dims and the strides of our [oc, kh, kw, ic/groups]
/// layout over them ((oc, ic, kh, kw) or (g, oc/g, ic/g, kh, kw)).
void ohwiWeights(const ConvGeometry &g, dims &logical, dims &strides) {
  int64_t ocg = g.oc / g.groups, icg = g.ic / g.groups;
  dims inner = {ocg, icg, g.kh, g.kw};
  dims innerStrides = {g.kh * g.kw * icg, 1, g.kw * icg, icg};
  if (g.groups == 1) {
    logical = inner;
    strides = innerStrides;
    return;
  }
  logical = {g.groups};
  logical.insert(logical.end(), inner.begin(), inner.end());
  strides = {ocg * g.kh * g.kw * icg};
  strides.insert(strides.end(), innerStrides.begin(), innerStrides.end());
}

/// Reorders user data described by `userMd` at `data` into a new memory of
/// `targetMd` owned by oneDNN.
dnnl::memory reorderedCopy(const dnnl::memory::desc &userMd,
                           const dnnl::memory::desc &targetMd,
                           const void *data) {
  dnnl::engine &eng = cpuEngine();
  dnnl::memory user(userMd, eng, const_cast<void *>(data));
  dnnl::memory target(targetMd, eng);
  dnnl::stream stream(eng);
  dnnl::reorder(user, target).execute(stream, user, target);
  stream.wait();
  return target;
}

dnnl::memory biasMemory(const float *bias, int64_t oc) {
  dnnl::memory::desc md({oc}, dt::f32, tag::x);
  dnnl::memory mem(md, cpuEngine());
  std::memcpy(mem.get_data_handle(), bias, oc * sizeof(float));
  return mem;
}

std::string describe(const ConvGeometry &g) {
  auto s = [](int64_t v) { return std::to_string(v); };
  return "n=" + s(g.n) + " in=" + s(g.ih) + "x" + s(g.iw) + "x" + s(g.ic) +
         " out=" + s(g.oh) + "x" + s(g.ow) + "x" + s(g.oc) + " k=" + s(g.kh) +
         "x" + s(g.kw) + " stride=" + s(g.strideH) + "," + s(g.strideW) +
         " dil=" + s(g.dilH) + "," + s(g.dilW) + " pad=" + s(g.padTop) + "," +
         s(g.padBottom) + "," + s(g.padLeft) + "," + s(g.padRight) +
         " groups=" + s(g.groups);
}

void validate(const ConvGeometry &g, const char *who) {
  auto require = [&](bool cond, const std::string &msg) {
    if (!cond)
      fail(who, msg + " (" + describe(g) + ")");
  };
  require(g.n >= 1 && g.ih >= 1 && g.iw >= 1 && g.ic >= 1 && g.oc >= 1 &&
              g.kh >= 1 && g.kw >= 1 && g.oh >= 1 && g.ow >= 1,
          "sizes must be positive");
  require(g.strideH >= 1 && g.strideW >= 1 && g.dilH >= 1 && g.dilW >= 1,
          "strides and dilations must be positive");
  require(g.padTop >= 0 && g.padBottom >= 0 && g.padLeft >= 0 &&
              g.padRight >= 0,
          "padding must be non-negative");
  require(g.groups >= 1 && g.ic % g.groups == 0 && g.oc % g.groups == 0,
          "groups (" + std::to_string(g.groups) +
              ") must divide input channels (" + std::to_string(g.ic) +
              ") and output channels (" + std::to_string(g.oc) + ")");
}

/// Element types of a convolution: float (bias and activation applied) or
/// exact integer (int8 operands, int32 accumulators, no bias or activation:
/// the caller post-processes, docs/quantization.md).
template <typename T> struct ConvTypes;
template <> struct ConvTypes<float> {
  using Acc = float;
  static constexpr dt src = dt::f32, dst = dt::f32;
};
template <> struct ConvTypes<int8_t> {
  using Acc = int32_t;
  static constexpr dt src = dt::s8, dst = dt::s32;
};

/// out = bias (or 0) before accumulation, activation after (float only).
template <typename Acc>
inline void initAcc(Acc *o, const float *bias, int64_t oc) {
  for (int64_t c = 0; c < oc; ++c)
    o[c] = bias ? static_cast<Acc>(bias[c]) : Acc(0);
}
template <typename Acc>
inline void finishAcc(Acc *o, const ActivationSpec &act, int64_t oc) {
  if constexpr (std::is_same_v<Acc, float>)
    for (int64_t c = 0; c < oc; ++c)
      o[c] = activate(act, o[c]);
}

/// Direct convolution, used when oneDNN cannot express the geometry.
template <typename T, typename Acc = typename ConvTypes<T>::Acc>
void directConv(const ConvGeometry &g, const T *w, const float *bias,
                const ActivationSpec &act, const T *in, Acc *out) {
  const int64_t ocg = g.oc / g.groups, icg = g.ic / g.groups;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        Acc *o = out + ((b * g.oh + oy) * g.ow + ox) * g.oc;
        initAcc(o, bias, g.oc);
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          int64_t y = oy * g.strideH - g.padTop + ky * g.dilH;
          if (y < 0 || y >= g.ih)
            continue;
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            int64_t x = ox * g.strideW - g.padLeft + kx * g.dilW;
            if (x < 0 || x >= g.iw)
              continue;
            const T *src = in + ((b * g.ih + y) * g.iw + x) * g.ic;
            for (int64_t c = 0; c < g.oc; ++c) {
              const T *s = src + (c / ocg) * icg;
              const T *wr = w + ((c * g.kh + ky) * g.kw + kx) * icg;
              Acc acc = 0;
              for (int64_t i = 0; i < icg; ++i)
                acc += static_cast<Acc>(s[i]) * static_cast<Acc>(wr[i]);
              o[c] += acc;
            }
          }
        }
        finishAcc(o, act, g.oc);
      }
}

/// Direct transposed convolution (gather form), the fallback of
/// TransposedConv2D.
template <typename T, typename Acc = typename ConvTypes<T>::Acc>
void directTransposedConv(const ConvGeometry &g, const T *w, const float *bias,
                          const ActivationSpec &act, const T *in, Acc *out) {
  const int64_t ocg = g.oc / g.groups, icg = g.ic / g.groups;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        Acc *o = out + ((b * g.oh + y) * g.ow + x) * g.oc;
        initAcc(o, bias, g.oc);
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          int64_t ty = y + g.padTop - ky * g.dilH;
          if (ty < 0 || ty % g.strideH != 0 || ty / g.strideH >= g.ih)
            continue;
          int64_t iy = ty / g.strideH;
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            int64_t tx = x + g.padLeft - kx * g.dilW;
            if (tx < 0 || tx % g.strideW != 0 || tx / g.strideW >= g.iw)
              continue;
            int64_t ix = tx / g.strideW;
            const T *src = in + ((b * g.ih + iy) * g.iw + ix) * g.ic;
            for (int64_t c = 0; c < g.oc; ++c) {
              const T *s = src + (c / ocg) * icg;
              const T *wr = w + ((c * g.kh + ky) * g.kw + kx) * icg;
              Acc acc = 0;
              for (int64_t i = 0; i < icg; ++i)
                acc += static_cast<Acc>(s[i]) * static_cast<Acc>(wr[i]);
              o[c] += acc;
            }
          }
        }
        finishAcc(o, act, g.oc);
      }
}

/// The oneDNN side of a convolution or deconvolution (Prim is
/// dnnl::convolution_forward or dnnl::deconvolution_forward): the primitive,
/// its descriptors and the weights reordered once into its preferred format.
template <typename Prim, typename T> struct DnnlConvPrimitive {
  using Types = ConvTypes<T>;
  using Acc = typename Types::Acc;
  ConvGeometry g;
  ActivationSpec act;
  bool manualAct = false;
  Prim prim;
  dnnl::memory::desc srcMd, dstMd, scratchMd;
  dnnl::memory weightsMem, biasMem;

  // The direct-loop fallback's copies of the weights and bias, kept only
  // when oneDNN cannot run the geometry (useDnnl false).
  bool useDnnl = false;
  std::vector<T> weights;
  std::vector<float> bias;

  DnnlConvPrimitive(const ConvGeometry &geom, ActivationSpec a, const char *who)
      : g(geom), act(a) {
    validate(g, who);
  }

  /// Keeps the weights and bias for the direct loop when oneDNN is not used.
  void keepForFallback(const T *w, const float *b) {
    if (useDnnl)
      return;
    weights.assign(w, w + g.oc * g.kh * g.kw * (g.ic / g.groups));
    if (b)
      bias.assign(b, b + g.oc);
  }
  const float *fallbackBias() const {
    return bias.empty() ? nullptr : bias.data();
  }

  /// The activation oneDNN could not fuse, applied over the whole output.
  void finish(Acc *out) const {
    if constexpr (std::is_same_v<T, float>)
      if (manualAct)
        activateInPlace(act, out, g.n * g.oh * g.ow * g.oc);
  }

  /// Builds the primitive for an (ih x iw) source and (oh x ow) destination
  /// with the given bottom/right padding; false when oneDNN rejects the
  /// configuration (the caller then falls back to its direct loop).
  bool build(dnnl::algorithm alg, int64_t ih, int64_t iw, int64_t oh,
             int64_t ow, int64_t padRH, int64_t padRW, const T *w,
             const float *b) {
    try {
      srcMd = dnnl::memory::desc({g.n, g.ic, ih, iw}, Types::src, tag::nhwc);
      dstMd = dnnl::memory::desc({g.n, g.oc, oh, ow}, Types::dst, tag::nhwc);
      dims wDims, wStrides;
      ohwiWeights(g, wDims, wStrides);
      dnnl::memory::desc wAny(wDims, Types::src, tag::any);
      dnnl::memory::desc bMd = b ? dnnl::memory::desc({g.oc}, dt::f32, tag::x)
                                 : dnnl::memory::desc();
      typename Prim::desc desc(dnnl::prop_kind::forward_inference, alg, srcMd,
                               wAny, bMd, dstMd, {g.strideH, g.strideW},
                               {g.dilH - 1, g.dilW - 1}, {g.padTop, g.padLeft},
                               {padRH, padRW});
      auto pd = createPd<typename Prim::primitive_desc>(desc, act, manualAct);
      prim = Prim(pd);
      scratchMd = pd.scratchpad_desc();
      weightsMem =
          reorderedCopy(dnnl::memory::desc(wDims, Types::src, wStrides),
                        pd.weights_desc(), w);
      if (b)
        biasMem = biasMemory(b, g.oc);
      return true;
    } catch (const dnnl::error &) {
      return false;
    }
  }

  void execute(const void *src, void *dst) const {
    dnnl::engine &eng = cpuEngine();
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, dnnl::memory(srcMd, eng, const_cast<void *>(src))},
        {DNNL_ARG_WEIGHTS, weightsMem},
        {DNNL_ARG_DST, dnnl::memory(dstMd, eng, dst)}};
    if (biasMem)
      args.emplace(DNNL_ARG_BIAS, biasMem);
    ::vai::rt::execute(prim, scratchMd, std::move(args));
  }
};

/// A convolution in element type T (float, or int8 with int32 results).
template <typename T>
struct ConvImpl : DnnlConvPrimitive<dnnl::convolution_forward, T> {
  using Base = DnnlConvPrimitive<dnnl::convolution_forward, T>;
  using Base::g;
  using typename Base::Acc;

  /// Input extent oneDNN sees; smaller than ih/iw when the bottom/right of
  /// the input is never read and must be cropped off (then run() copies).
  int64_t ihEff = 0, iwEff = 0;

  ConvImpl(const ConvGeometry &geom, const T *w, const float *b,
           ActivationSpec a)
      : Base(geom, a, "Conv2D") {
    // Input rows the output grid reaches (counting padding at the top):
    // oneDNN requires (ih + padL + padR - kExt) / stride + 1 == oh with
    // padR > -stride. Take padR exact; if the input is so much larger that
    // padR would be <= -stride, crop the unused tail instead.
    int64_t kExtH = (g.kh - 1) * g.dilH + 1, kExtW = (g.kw - 1) * g.dilW + 1;
    int64_t needH = (g.oh - 1) * g.strideH + kExtH - g.padTop;
    int64_t needW = (g.ow - 1) * g.strideW + kExtW - g.padLeft;
    if (needH >= 1 && needW >= 1) {
      int64_t padR_H = needH - g.ih, padR_W = needW - g.iw;
      ihEff = g.ih;
      iwEff = g.iw;
      if (padR_H <= -g.strideH) {
        ihEff = needH;
        padR_H = 0;
      }
      if (padR_W <= -g.strideW) {
        iwEff = needW;
        padR_W = 0;
      }
      this->useDnnl = this->build(dnnl::algorithm::convolution_direct, ihEff,
                                  iwEff, g.oh, g.ow, padR_H, padR_W, w, b);
    }
    this->keepForFallback(w, b);
  }

  void run(const T *in, Acc *out) const {
    if (!this->useDnnl) {
      directConv(g, this->weights.data(), this->fallbackBias(), this->act, in,
                 out);
      return;
    }
    const T *src = in;
    std::unique_ptr<Buffer> cropped;
    if (ihEff != g.ih || iwEff != g.iw) {
      cropped =
          std::make_unique<Buffer>(g.n * ihEff * iwEff * g.ic * sizeof(T));
      T *dst = static_cast<T *>(cropped->get());
      const int64_t ih = g.ih, iw = g.iw, ic = g.ic, n = g.n;
      const int64_t he = ihEff, we = iwEff;
#pragma omp parallel for collapse(2) schedule(static)
      for (int64_t b = 0; b < n; ++b)
        for (int64_t y = 0; y < he; ++y)
          std::memcpy(dst + (b * he + y) * we * ic, in + (b * ih + y) * iw * ic,
                      we * ic * sizeof(T));
      src = dst;
    }
    this->execute(src, out);
    this->finish(out);
  }
};

/// A transposed convolution in element type T.
template <typename T>
struct DeconvImpl : DnnlConvPrimitive<dnnl::deconvolution_forward, T> {
  using Base = DnnlConvPrimitive<dnnl::deconvolution_forward, T>;
  using Base::g;
  using typename Base::Acc;

  // oneDNN path. oneDNN's deconvolution produces ohD x owD; when that is
  // smaller than oh x ow (output padding beyond what a negative padding_r can
  // express) it runs into a temporary and run() copies it into the output,
  // whose remaining rows/columns receive no contribution: only the bias.
  int64_t ohD = 0, owD = 0;
  /// Value of the positions outside ohD x owD, per output channel.
  std::vector<Acc> fill;

  DeconvImpl(const ConvGeometry &geom, const T *w, const float *b,
             ActivationSpec a)
      : Base(geom, a, "TransposedConv2D") {
    int64_t kExtH = (g.kh - 1) * g.dilH + 1, kExtW = (g.kw - 1) * g.dilW + 1;
    // Output rows that can receive a contribution: [0, reachH).
    int64_t reachH = (g.ih - 1) * g.strideH + kExtH - g.padTop;
    int64_t reachW = (g.iw - 1) * g.strideW + kExtW - g.padLeft;
    // oneDNN 2.6's int8 deconvolution leaves outputs at zero when the
    // kernel is smaller than the stride (seen in our tests): direct loop.
    bool dnnlCan =
        std::is_same_v<T, float> || (g.kh >= g.strideH && g.kw >= g.strideW);
    if (dnnlCan && reachH >= 1 && reachW >= 1) {
      // oneDNN: (ohD - kExt + padL + padR) / stride + 1 == ih, padR > -stride.
      ohD = std::min(g.oh, reachH + g.strideH - 1);
      owD = std::min(g.ow, reachW + g.strideW - 1);
      int64_t padR_H = reachH - ohD, padR_W = reachW - owD;
      this->useDnnl = this->build(dnnl::algorithm::deconvolution_direct, g.ih,
                                  g.iw, ohD, owD, padR_H, padR_W, w, b);
    }
    if (this->useDnnl) {
      fill.resize(g.oc);
      for (int64_t c = 0; c < g.oc; ++c) {
        float v = b ? b[c] : 0.0f;
        // With a fused activation the temporary is already activated; with
        // a manual one, run() activates the whole output afterwards.
        fill[c] =
            static_cast<Acc>(this->manualAct ? v : activate(this->act, v));
      }
    }
    this->keepForFallback(w, b);
  }

  void run(const T *in, Acc *out) const {
    if (!this->useDnnl) {
      directTransposedConv(g, this->weights.data(), this->fallbackBias(),
                           this->act, in, out);
      return;
    }
    const bool direct = ohD == g.oh && owD == g.ow;
    std::unique_ptr<Buffer> tmp;
    Acc *dst = out;
    if (!direct) {
      tmp = std::make_unique<Buffer>(g.n * ohD * owD * g.oc * sizeof(Acc));
      dst = static_cast<Acc *>(tmp->get());
    }
    this->execute(in, dst);
    if (!direct) {
      const int64_t n = g.n, oh = g.oh, ow = g.ow, oc = g.oc;
      const int64_t hd = ohD, wd = owD;
      const Acc *fillData = fill.data();
#pragma omp parallel for collapse(2) schedule(static)
      for (int64_t b = 0; b < n; ++b)
        for (int64_t y = 0; y < oh; ++y) {
          Acc *row = out + (b * oh + y) * ow * oc;
          int64_t x0 = 0;
          if (y < hd) {
            std::memcpy(row, dst + (b * hd + y) * wd * oc,
                        wd * oc * sizeof(Acc));
            x0 = wd;
          }
          for (int64_t x = x0; x < ow; ++x)
            std::memcpy(row + x * oc, fillData, oc * sizeof(Acc));
        }
    }
    this->finish(out);
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Conv2D and TransposedConv2D
//===----------------------------------------------------------------------===//

/// One of the two element types, chosen at construction.
template <template <typename> class ImplT> struct TypedConv {
  std::unique_ptr<ImplT<float>> f;
  std::unique_ptr<ImplT<int8_t>> i;
  template <typename T>
  void run(const char *who, const T *in,
           typename ConvTypes<T>::Acc *out) const {
    const auto &impl = [&]() -> const auto & {
      if constexpr (std::is_same_v<T, float>)
        return f;
      else
        return i;
    }
    ();
    check(impl != nullptr, who,
          std::is_same_v<T, float>
              ? "this convolution was prepared for int8, not float"
              : "this convolution was prepared for float, not int8");
    guarded(who, [&] { impl->run(in, out); });
  }
};

struct Conv2D::Impl : TypedConv<ConvImpl> {};
struct TransposedConv2D::Impl : TypedConv<DeconvImpl> {};

Conv2D::Conv2D(const ConvGeometry &g, const float *weights, const float *bias,
               ActivationSpec act)
    : impl(std::make_unique<Impl>()) {
  impl->f = guarded("Conv2D", [&] {
    return std::make_unique<ConvImpl<float>>(g, weights, bias, act);
  });
}

Conv2D::Conv2D(const ConvGeometry &g, const int8_t *weights)
    : impl(std::make_unique<Impl>()) {
  impl->i = guarded("Conv2D", [&] {
    return std::make_unique<ConvImpl<int8_t>>(g, weights, nullptr,
                                              ActivationSpec());
  });
}

Conv2D::~Conv2D() = default;

void Conv2D::run(const float *in, float *out) const {
  impl->run("Conv2D::run", in, out);
}

void Conv2D::run(const int8_t *in, int32_t *acc) const {
  impl->run("Conv2D::run", in, acc);
}

TransposedConv2D::TransposedConv2D(const ConvGeometry &g, const float *weights,
                                   const float *bias, ActivationSpec act)
    : impl(std::make_unique<Impl>()) {
  impl->f = guarded("TransposedConv2D", [&] {
    return std::make_unique<DeconvImpl<float>>(g, weights, bias, act);
  });
}

TransposedConv2D::TransposedConv2D(const ConvGeometry &g, const int8_t *weights)
    : impl(std::make_unique<Impl>()) {
  impl->i = guarded("TransposedConv2D", [&] {
    return std::make_unique<DeconvImpl<int8_t>>(g, weights, nullptr,
                                                ActivationSpec());
  });
}

TransposedConv2D::~TransposedConv2D() = default;

void TransposedConv2D::run(const float *in, float *out) const {
  impl->run("TransposedConv2D::run", in, out);
}

void TransposedConv2D::run(const int8_t *in, int32_t *acc) const {
  impl->run("TransposedConv2D::run", in, acc);
}

//===----------------------------------------------------------------------===//
// InnerProduct
//===----------------------------------------------------------------------===//

struct InnerProduct::Impl {
  /// Number of dst elements, for a non-fused activation.
  int64_t dstSize;
  ActivationSpec act;
  bool hasBias;
  bool manualAct = false;
  dnnl::inner_product_forward prim;
  dnnl::memory::desc srcMd, dstMd, scratchMd;
  dnnl::memory weightsMem, biasMem;

  Impl(int64_t batch, int64_t in, int64_t out, const float *w, const float *b,
       ActivationSpec a)
      : dstSize(batch * out), act(a), hasBias(b != nullptr) {
    check(batch >= 1 && in >= 1 && out >= 1, "InnerProduct",
          "sizes must be positive");
    srcMd = dnnl::memory::desc({batch, in}, dt::f32, tag::nc);
    dstMd = dnnl::memory::desc({batch, out}, dt::f32, tag::nc);
    dnnl::memory::desc wAny({out, in}, dt::f32, tag::any);
    dnnl::memory::desc bMd = hasBias
                                 ? dnnl::memory::desc({out}, dt::f32, tag::x)
                                 : dnnl::memory::desc();
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           srcMd, wAny, bMd, dstMd);
    auto pd = createPd<dnnl::inner_product_forward::primitive_desc>(desc, act,
                                                                    manualAct);
    prim = dnnl::inner_product_forward(pd);
    scratchMd = pd.scratchpad_desc();
    weightsMem = reorderedCopy(dnnl::memory::desc({out, in}, dt::f32, tag::oi),
                               pd.weights_desc(), w);
    if (hasBias)
      biasMem = biasMemory(b, out);
  }

  void run(const float *src, float *dst) const {
    dnnl::engine &eng = cpuEngine();
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, dnnl::memory(srcMd, eng, const_cast<float *>(src))},
        {DNNL_ARG_WEIGHTS, weightsMem},
        {DNNL_ARG_DST, dnnl::memory(dstMd, eng, dst)}};
    if (hasBias)
      args.emplace(DNNL_ARG_BIAS, biasMem);
    execute(prim, scratchMd, std::move(args));
    if (manualAct)
      activateInPlace(act, dst, dstSize);
  }
};

InnerProduct::InnerProduct(int64_t batch, int64_t in, int64_t out,
                           const float *weights, const float *bias,
                           ActivationSpec act) {
  impl = guarded("InnerProduct", [&] {
    return std::make_unique<Impl>(batch, in, out, weights, bias, act);
  });
}

InnerProduct::~InnerProduct() = default;

void InnerProduct::run(const float *in, float *out) const {
  guarded("InnerProduct::run", [&] { impl->run(in, out); });
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

namespace {

/// c[batch] = a[aBatch == batch ? b : 0] x b[bBatch == batch ? b : 0] with
/// oneDNN batch broadcasting (aBatch, bBatch are batch or 1).
void dnnlMatmul(const float *a, const float *b, float *c, int64_t aBatch,
                int64_t bBatch, int64_t batch, int64_t m, int64_t k,
                int64_t n) {
  dnnl::engine &eng = cpuEngine();
  dnnl::memory::desc aMd({aBatch, m, k}, dt::f32, tag::abc);
  dnnl::memory::desc bMd({bBatch, k, n}, dt::f32, tag::abc);
  dnnl::memory::desc cMd({batch, m, n}, dt::f32, tag::abc);
  dnnl::matmul::desc desc(aMd, bMd, cMd);
  dnnl::matmul::primitive_desc pd(desc, makeAttr(nullptr), eng);
  dnnl::matmul prim(pd);
  execute(prim, pd.scratchpad_desc(),
          {{DNNL_ARG_SRC, dnnl::memory(aMd, eng, const_cast<float *>(a))},
           {DNNL_ARG_WEIGHTS, dnnl::memory(bMd, eng, const_cast<float *>(b))},
           {DNNL_ARG_DST, dnnl::memory(cMd, eng, c)}});
}

} // namespace

void matmul(const float *a, const float *b, float *c, int64_t batch, int64_t m,
            int64_t k, int64_t n, bool aBatched, bool bBatched) {
  check(batch >= 0 && m >= 0 && k >= 0 && n >= 0, "matmul",
        "sizes must be non-negative");
  if (batch == 0 || m == 0 || n == 0)
    return;
  if (k == 0) {
    std::fill(c, c + batch * m * n, 0.0f);
    return;
  }
  guarded("matmul", [&] {
    if (!aBatched && !bBatched) {
      // One product, replicated.
      dnnlMatmul(a, b, c, 1, 1, 1, m, k, n);
      for (int64_t i = 1; i < batch; ++i)
        std::memcpy(c + i * m * n, c, m * n * sizeof(float));
    } else if (aBatched && !bBatched) {
      // [batch * m, k] x [k, n] is one larger product.
      dnnlMatmul(a, b, c, 1, 1, 1, batch * m, k, n);
    } else {
      dnnlMatmul(a, b, c, aBatched ? batch : 1, batch, batch, m, k, n);
    }
  });
}

} // namespace vai::rt
