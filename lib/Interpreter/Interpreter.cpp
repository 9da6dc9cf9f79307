//===- Interpreter.cpp - Reference interpreter of the vai dialect ---------===//

#include "vai/Interpreter/Interpreter.h"

#include "Kernel.h"

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Runtime/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>
#include <functional>

using namespace mlir;
using llvm::Error;
using llvm::Expected;
using namespace mlir::vai;
namespace rt = ::vai::rt;

namespace vai {

struct Interpreter::Step {
  Operation *op = nullptr;
  std::vector<size_t> operands;
  size_t result = 0;
  Kernel kernel;
  /// Slots whose last reader is this step (freed after it runs).
  std::vector<size_t> release;
};

Interpreter::Interpreter() = default;
Interpreter::~Interpreter() = default;

//===----------------------------------------------------------------------===//
// Types and constants
//===----------------------------------------------------------------------===//

std::optional<rt::DType> dtypeFromType(Type t) {
  if (t.isF32())
    return rt::DType::F32;
  if (t.isSignlessInteger(8) || t.isSignedInteger(8))
    return rt::DType::I8;
  if (t.isUnsignedInteger(8))
    return rt::DType::U8;
  if (t.isSignlessInteger(32) || t.isSignedInteger(32))
    return rt::DType::I32;
  if (t.isSignlessInteger(64) || t.isSignedInteger(64))
    return rt::DType::I64;
  return std::nullopt;
}

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

Expected<rt::Tensor> tensorFromAttr(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  auto dtype = dtypeFromType(type.getElementType());
  if (!dtype || !type.hasStaticShape())
    return makeError("constant of unsupported type");
  rt::Tensor t(*dtype,
               rt::Shape(type.getShape().begin(), type.getShape().end()));
  size_t bytes = t.byteSize();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    ArrayRef<char> raw = dense.getRawData();
    size_t elemSize = rt::dtypeSize(*dtype);
    if (dense.isSplat()) {
      if (raw.size() < elemSize)
        return makeError("malformed splat constant");
      auto *out = static_cast<char *>(t.raw());
      for (int64_t i = 0, e = t.numElements(); i < e; ++i)
        std::memcpy(out + i * elemSize, raw.data(), elemSize);
    } else {
      if (raw.size() != bytes)
        return makeError("constant payload has the wrong size");
      std::memcpy(t.raw(), raw.data(), bytes);
    }
    return t;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return makeError("dense resource '" + resource.getRawHandle().getKey() +
                       "' has no data");
    ArrayRef<char> data = blob->getData();
    if (data.size() != bytes)
      return makeError(llvm::formatv(
          "dense resource '{0}' holds {1} bytes, its type needs {2}",
          resource.getRawHandle().getKey(), data.size(), bytes));
    std::memcpy(t.raw(), data.data(), bytes);
    return t;
  }
  return makeError("unsupported elements attribute kind");
}

//===----------------------------------------------------------------------===//
// Op preparation
//===----------------------------------------------------------------------===//

namespace {

rt::ActivationSpec activationOf(Activation act, APFloat alpha) {
  rt::ActivationSpec spec;
  spec.alpha = alpha.convertToFloat();
  switch (act) {
  case Activation::None:
    spec.kind = rt::Activation::None;
    break;
  case Activation::Relu:
    spec.kind = rt::Activation::Relu;
    break;
  case Activation::Relu6:
    spec.kind = rt::Activation::Relu6;
    break;
  case Activation::LeakyRelu:
    spec.kind = rt::Activation::LeakyRelu;
    break;
  }
  return spec;
}

/// A `vai.fix`: quantize-dequantize at its position, range and rounding.
struct FixKernel {
  int fixPoint;
  int64_t lo, hi;
  rt::RoundMode mode;
  explicit FixKernel(FixOp o)
      : fixPoint(static_cast<int64_t>(o.getFixPoint())) {
    std::tie(lo, hi) = fixRange(o);
    mode = o.getRoundMode() == RoundMode::StdRound   ? rt::RoundMode::Std
           : o.getRoundMode() == RoundMode::Py3Round ? rt::RoundMode::Py3
                                                     : rt::RoundMode::Dpu;
  }
  void run(const rt::Tensor &in, float *out) const {
    rt::fixQuantize(in.data<float>(), out, in.numElements(), fixPoint, lo, hi,
                    mode);
  }
};

/// Builds kernels for one function; constants are looked up by value.
class Preparer {
public:
  explicit Preparer(const ConstantMap &constants) : constants(constants) {}

  /// The kernel for `op`, or failure after emitting a diagnostic.
  FailureOr<Kernel> prepare(Operation *op);

private:
  const ConstantMap &constants;

  /// The constant feeding `v`, or null after emitting an error at `op`.
  const rt::Tensor *requireConstant(Operation *op, Value v, StringRef what) {
    auto it = constants.find(v);
    if (it != constants.end())
      return it->second;
    op->emitOpError() << "the interpreter needs the " << what
                      << " to be a constant (vai.constant)";
    return nullptr;
  }
  /// The constant weight and the optional constant bias of a conv-like op.
  struct WeightAndBias {
    const float *weight;
    const float *bias;
  };
  FailureOr<WeightAndBias> weightAndBias(Operation *op, Value weight,
                                         Value bias) {
    const rt::Tensor *w = requireConstant(op, weight, "weight");
    const rt::Tensor *b = bias ? requireConstant(op, bias, "bias") : nullptr;
    if (!w || (bias && !b))
      return failure();
    return WeightAndBias{w->data<float>(), b ? b->data<float>() : nullptr};
  }

  /// A kernel running a prepared runtime object on the op's single input.
  template <typename KernelObj>
  static Kernel runs(Value result, std::shared_ptr<KernelObj> k) {
    return allocating(shapeOf(result), [k](const Inputs &in, float *out) {
      k->run(in[0]->data<float>(), out);
    });
  }

  static Kernel allocating(rt::Shape shape,
                           std::function<void(const Inputs &, float *)> body) {
    return
        [shape = std::move(shape), body = std::move(body)](const Inputs &in) {
          rt::Tensor out(rt::DType::F32, shape);
          body(in, out.data<float>());
          return out;
        };
  }

  template <typename KernelObj, typename OpTy>
  FailureOr<Kernel> prepareGroupedConv(OpTy op);
  FailureOr<Kernel> prepareDepthwise(DepthwiseConv2DOp op);
  FailureOr<Kernel> prepareInnerProduct(InnerProductOp op);
  Kernel prepareMatMul(MatMulOp op);
  Kernel prepareUnary(Operation *op, rt::UnaryKind kind, float alpha = 0,
                      float beta = 0);
  Kernel prepareBinary(Operation *op, rt::BinaryKind kind,
                       rt::ActivationSpec act = {});
};

/// conv2d and transposed_conv2d: OHWI weights, groups, the kernel object.
template <typename KernelObj, typename OpTy>
FailureOr<Kernel> Preparer::prepareGroupedConv(OpTy op) {
  auto wb = weightAndBias(op, op.getWeight(), op.getBias());
  if (failed(wb))
    return failure();
  rt::ConvGeometry g = convGeometry(op);
  g.groups = op.getGroups();
  return runs(op.getOutput(), std::make_shared<KernelObj>(
                                  g, wb->weight, wb->bias,
                                  activationOf(op.getAct(), op.getActAlpha())));
}

FailureOr<Kernel> Preparer::prepareDepthwise(DepthwiseConv2DOp op) {
  auto wb = weightAndBias(op, op.getWeight(), op.getBias());
  if (failed(wb))
    return failure();
  rt::ConvGeometry g = convGeometry(op);
  g.groups = g.ic;
  std::vector<float> ohwi =
      depthwiseToGroupedOhwi(wb->weight, shapeOf(op.getWeight()));
  return runs(op.getOutput(), std::make_shared<rt::Conv2D>(
                                  g, ohwi.data(), wb->bias,
                                  activationOf(op.getAct(), op.getActAlpha())));
}

FailureOr<Kernel> Preparer::prepareInnerProduct(InnerProductOp op) {
  auto wb = weightAndBias(op, op.getWeight(), op.getBias());
  if (failed(wb))
    return failure();
  rt::Shape in = shapeOf(op.getInput()), w = shapeOf(op.getWeight());
  return runs(op.getOutput(), std::make_shared<rt::InnerProduct>(
                                  in[0], in[1], w[0], wb->weight, wb->bias,
                                  activationOf(op.getAct(), op.getActAlpha())));
}

Kernel Preparer::prepareMatMul(MatMulOp op) {
  rt::Shape a = shapeOf(op.getLhs()), b = shapeOf(op.getRhs()),
            out = shapeOf(op.getOutput());
  int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  int64_t batch = rt::numElements(out) / (m * n);
  bool aBatched = a.size() > 2, bBatched = b.size() > 2;
  return allocating(out, [=](const Inputs &in, float *o) {
    rt::matmul(in[0]->data<float>(), in[1]->data<float>(), o, batch, m, k, n,
               aBatched, bBatched);
  });
}

Kernel Preparer::prepareUnary(Operation *op, rt::UnaryKind kind, float alpha,
                              float beta) {
  return allocating(shapeOf(op->getResult(0)),
                    [=](const Inputs &in, float *out) {
                      rt::unary(kind, in[0]->data<float>(), out,
                                in[0]->numElements(), alpha, beta);
                    });
}

Kernel Preparer::prepareBinary(Operation *op, rt::BinaryKind kind,
                               rt::ActivationSpec act) {
  rt::Shape out = shapeOf(op->getResult(0));
  auto padded = [&](Value v) {
    rt::Shape s = shapeOf(v);
    s.insert(s.begin(), out.size() - s.size(), 1);
    return s;
  };
  rt::Shape a = padded(op->getOperand(0)), b = padded(op->getOperand(1));
  return allocating(out, [=](const Inputs &in, float *o) {
    rt::binary(kind, in[0]->data<float>(), a, in[1]->data<float>(), b, o, out,
               act);
  });
}

/// Output tensor of the op's result type, filled by `body(out raw ptr)`.
Kernel movement(Value result,
                std::function<void(const Inputs &, void *)> body) {
  auto type = cast<RankedTensorType>(result.getType());
  rt::DType dtype = *dtypeFromType(type.getElementType());
  rt::Shape shape = shapeOf(result);
  return [=](const Inputs &in) {
    rt::Tensor out(dtype, shape);
    body(in, out.raw());
    return out;
  };
}

/// A kernel that returns its input with a new shape (no copy).
Kernel aliasing(Value result) {
  rt::Shape shape = shapeOf(result);
  return [shape](const Inputs &in) { return in[0]->reshaped(shape); };
}

rt::CoordMode coordModeOf(CoordMode m) {
  switch (m) {
  case CoordMode::Asymmetric:
    return rt::CoordMode::Asymmetric;
  case CoordMode::AlignCorners:
    return rt::CoordMode::AlignCorners;
  case CoordMode::HalfPixel:
    return rt::CoordMode::HalfPixel;
  case CoordMode::PytorchHalfPixel:
    return rt::CoordMode::PytorchHalfPixel;
  }
  return rt::CoordMode::Asymmetric;
}

rt::NearestRound nearestOf(NearestMode m) {
  switch (m) {
  case NearestMode::Floor:
    return rt::NearestRound::Floor;
  case NearestMode::Ceil:
    return rt::NearestRound::Ceil;
  case NearestMode::RoundPreferFloor:
    return rt::NearestRound::RoundPreferFloor;
  case NearestMode::RoundPreferCeil:
    return rt::NearestRound::RoundPreferCeil;
  }
  return rt::NearestRound::Floor;
}

FailureOr<Kernel> Preparer::prepare(Operation *op) {
  using K = FailureOr<Kernel>;
  return llvm::TypeSwitch<Operation *, K>(op)
      .Case<Conv2DOp>([&](auto o) { return prepareGroupedConv<rt::Conv2D>(o); })
      .Case<DepthwiseConv2DOp>([&](auto o) { return prepareDepthwise(o); })
      .Case<TransposedConv2DOp>(
          [&](auto o) { return prepareGroupedConv<rt::TransposedConv2D>(o); })
      .Case<InnerProductOp>([&](auto o) { return prepareInnerProduct(o); })
      .Case<MatMulOp>([&](auto o) -> K { return prepareMatMul(o); })
      .Case<BatchNormOp>([&](BatchNormOp o) -> K {
        float eps = o.getEpsilon().convertToFloat();
        return allocating(shapeOf(o.getOutput()), [eps](const Inputs &in,
                                                        float *out) {
          int64_t c = in[1]->numElements();
          const float *mean = in[1]->data<float>(), *var = in[2]->data<float>(),
                      *scale = in[3]->data<float>(),
                      *offset = in[4]->data<float>();
          std::vector<float> a(c), b(c);
          for (int64_t i = 0; i < c; ++i) {
            a[i] = scale[i] / std::sqrt(var[i] + eps);
            b[i] = offset[i] - mean[i] * a[i];
          }
          rt::channelAffine(in[0]->data<float>(), a.data(), b.data(), out,
                            in[0]->numElements() / c, c);
        });
      })
      .Case<ScaleOp>([&](ScaleOp o) -> K {
        bool hasBias = static_cast<bool>(o.getBias());
        return allocating(
            shapeOf(o.getOutput()), [hasBias](const Inputs &in, float *out) {
              int64_t c = in[1]->numElements();
              rt::channelAffine(in[0]->data<float>(), in[1]->data<float>(),
                                hasBias ? in[2]->data<float>() : nullptr, out,
                                in[0]->numElements() / c, c);
            });
      })
      .Case<BiasAddOp>([&](BiasAddOp o) -> K {
        return allocating(shapeOf(o.getOutput()), [](const Inputs &in,
                                                     float *out) {
          int64_t c = in[1]->numElements();
          rt::channelAffine(in[0]->data<float>(), nullptr, in[1]->data<float>(),
                            out, in[0]->numElements() / c, c);
        });
      })
      .Case<ReluOp>(
          [&](auto o) -> K { return prepareUnary(o, rt::UnaryKind::Relu); })
      .Case<Relu6Op>(
          [&](auto o) -> K { return prepareUnary(o, rt::UnaryKind::Relu6); })
      .Case<LeakyReluOp>([&](LeakyReluOp o) -> K {
        return prepareUnary(o, rt::UnaryKind::LeakyRelu,
                            o.getAlpha().convertToFloat());
      })
      .Case<SigmoidOp>(
          [&](auto o) -> K { return prepareUnary(o, rt::UnaryKind::Sigmoid); })
      .Case<TanhOp>(
          [&](auto o) -> K { return prepareUnary(o, rt::UnaryKind::Tanh); })
      .Case<HardSigmoidOp>([&](HardSigmoidOp o) -> K {
        return prepareUnary(o, rt::UnaryKind::HardSigmoid,
                            o.getAlpha().convertToFloat(),
                            o.getBeta().convertToFloat());
      })
      .Case<ClipOp>([&](ClipOp o) -> K {
        return prepareUnary(o, rt::UnaryKind::Clip, o.getMin().convertToFloat(),
                            o.getMax().convertToFloat());
      })
      .Case<FixOp>([&](FixOp o) -> K {
        return allocating(shapeOf(o.getOutput()),
                          [fix = FixKernel(o)](const Inputs &in, float *out) {
                            fix.run(*in[0], out);
                          });
      })
      .Case<PReluOp>([&](PReluOp o) -> K {
        return allocating(shapeOf(o.getOutput()),
                          [](const Inputs &in, float *out) {
                            int64_t c = in[0]->shape().back();
                            const float *slope = in[1]->data<float>();
                            std::vector<float> broadcast;
                            if (in[1]->numElements() != c) {
                              broadcast.assign(c, slope[0]);
                              slope = broadcast.data();
                            }
                            rt::prelu(in[0]->data<float>(), slope, out,
                                      in[0]->numElements() / c, c);
                          });
      })
      .Case<MaxPool2DOp>([&](MaxPool2DOp o) -> K {
        rt::PoolGeometry g = poolGeometry(o);
        return allocating(shapeOf(o.getOutput()),
                          [g](const Inputs &in, float *out) {
                            rt::maxPool2D(g, in[0]->data<float>(), out);
                          });
      })
      .Case<AvgPool2DOp>([&](AvgPool2DOp o) -> K {
        rt::PoolGeometry g = poolGeometry(o);
        bool include = o.getCountIncludePad();
        return allocating(
            shapeOf(o.getOutput()), [g, include](const Inputs &in, float *out) {
              rt::avgPool2D(g, include, in[0]->data<float>(), out);
            });
      })
      .Case<GlobalAvgPool2DOp, GlobalMaxPool2DOp>([&](auto o) -> K {
        bool isAvg = isa<GlobalAvgPool2DOp>(o.getOperation());
        return allocating(
            shapeOf(o.getOutput()), [isAvg](const Inputs &in, float *out) {
              const rt::Shape &s = in[0]->shape();
              (isAvg ? rt::globalAvgPool2D : rt::globalMaxPool2D)(
                  in[0]->data<float>(), out, s[0], s[1] * s[2], s[3]);
            });
      })
      .Case<AddOp>([&](AddOp o) -> K {
        return prepareBinary(o, rt::BinaryKind::Add,
                             activationOf(o.getAct(), o.getActAlpha()));
      })
      .Case<SubOp>(
          [&](auto o) -> K { return prepareBinary(o, rt::BinaryKind::Sub); })
      .Case<MulOp>(
          [&](auto o) -> K { return prepareBinary(o, rt::BinaryKind::Mul); })
      .Case<DivOp>(
          [&](auto o) -> K { return prepareBinary(o, rt::BinaryKind::Div); })
      .Case<MaxOp>(
          [&](auto o) -> K { return prepareBinary(o, rt::BinaryKind::Max); })
      .Case<MinOp>(
          [&](auto o) -> K { return prepareBinary(o, rt::BinaryKind::Min); })
      .Case<ConcatOp>([&](ConcatOp o) -> K {
        int64_t axis = o.getAxis();
        size_t elemSize = rt::dtypeSize(
            *dtypeFromType(o.getOutput().getType().getElementType()));
        return movement(o.getOutput(), [=](const Inputs &in, void *out) {
          std::vector<const void *> ptrs;
          std::vector<rt::Shape> shapes;
          for (const rt::Tensor *t : in) {
            ptrs.push_back(t->raw());
            shapes.push_back(t->shape());
          }
          rt::concat(ptrs, shapes, axis, elemSize, out);
        });
      })
      .Case<ReshapeOp, FlattenOp, SqueezeOp, IdentityOp, DropoutOp>(
          [&](auto o) -> K { return aliasing(o->getResult(0)); })
      .Case<TransposeOp>([&](TransposeOp o) -> K {
        std::vector<int64_t> perm(o.getPerm().begin(), o.getPerm().end());
        rt::Shape inShape = shapeOf(o.getInput());
        size_t elemSize = rt::dtypeSize(
            *dtypeFromType(o.getOutput().getType().getElementType()));
        return movement(o.getOutput(), [=](const Inputs &in, void *out) {
          rt::transpose(in[0]->raw(), inShape, perm, elemSize, out);
        });
      })
      .Case<SliceOp>([&](SliceOp o) -> K {
        rt::Shape inShape = shapeOf(o.getInput()), outShape = shapeOf(o);
        std::vector<int64_t> offsets(o.getOffsets().begin(),
                                     o.getOffsets().end());
        std::vector<int64_t> strides(inShape.size(), 1);
        if (auto s = o.getStrides())
          strides.assign(s->begin(), s->end());
        size_t elemSize = rt::dtypeSize(
            *dtypeFromType(o.getOutput().getType().getElementType()));
        return movement(o.getOutput(), [=](const Inputs &in, void *out) {
          rt::slice(in[0]->raw(), inShape, offsets, strides, elemSize, out,
                    outShape);
        });
      })
      .Case<PadOp>([&](PadOp o) -> K {
        rt::Shape inShape = shapeOf(o.getInput());
        std::vector<int64_t> low(o.getLow().begin(), o.getLow().end()),
            high(o.getHigh().begin(), o.getHigh().end());
        rt::DType dtype =
            *dtypeFromType(o.getOutput().getType().getElementType());
        size_t elemSize = rt::dtypeSize(dtype);
        // The fill value in the tensor's element type.
        float fv = o.getValue().convertToFloat();
        uint64_t fill = 0;
        switch (dtype) {
        case rt::DType::F32:
          std::memcpy(&fill, &fv, 4);
          break;
        case rt::DType::I8:
        case rt::DType::U8:
        case rt::DType::I32:
        case rt::DType::I64: {
          int64_t iv = static_cast<int64_t>(fv);
          std::memcpy(&fill, &iv, elemSize); // little-endian host
          break;
        }
        }
        rt::PadMode mode =
            o.getMode() == PadMode::Reflect ? rt::PadMode::Reflect
            : o.getMode() == PadMode::Edge  ? rt::PadMode::Edge
                                            : rt::PadMode::Constant;
        return movement(o.getOutput(), [=](const Inputs &in, void *out) {
          rt::pad(in[0]->raw(), inShape, low, high, mode, &fill, elemSize, out);
        });
      })
      .Case<ResizeOp>([&](ResizeOp o) -> K {
        rt::ResizeParams p;
        rt::Shape in = shapeOf(o.getInput()), out = shapeOf(o.getOutput());
        p.n = in[0], p.ih = in[1], p.iw = in[2], p.c = in[3];
        p.oh = out[1], p.ow = out[2];
        p.mode = o.getMode() == ResizeMode::Bilinear ? rt::ResizeMode::Bilinear
                                                     : rt::ResizeMode::Nearest;
        p.coord = coordModeOf(o.getCoordMode());
        p.nearest = nearestOf(o.getNearestMode());
        return allocating(out, [p](const Inputs &in, float *o) {
          rt::resize(p, in[0]->data<float>(), o);
        });
      })
      .Case<SoftmaxOp>([&](SoftmaxOp o) -> K {
        rt::Shape s = shapeOf(o.getInput());
        int64_t axis = o.getAxis();
        int64_t outer = 1, inner = 1;
        for (int64_t i = 0; i < axis; ++i)
          outer *= s[i];
        for (size_t i = axis + 1; i < s.size(); ++i)
          inner *= s[i];
        int64_t n = s[axis];
        return allocating(s, [=](const Inputs &in, float *out) {
          rt::softmax(in[0]->data<float>(), out, outer, n, inner);
        });
      })
      .Case<ReduceMeanOp>([&](ReduceMeanOp o) -> K {
        rt::Shape s = shapeOf(o.getInput());
        std::vector<int64_t> axes(o.getAxes().begin(), o.getAxes().end());
        llvm::sort(axes);
        return allocating(shapeOf(o.getOutput()),
                          [=](const Inputs &in, float *out) {
                            rt::reduceMean(in[0]->data<float>(), s, axes, out);
                          });
      })
      .Default([&](Operation *o) -> K {
        o->emitOpError() << "is not supported by the reference interpreter";
        return failure();
      });
}

} // namespace

//===----------------------------------------------------------------------===//
// Interpreter
//===----------------------------------------------------------------------===//

std::unique_ptr<Interpreter> Interpreter::create(func::FuncOp func) {
  std::unique_ptr<Interpreter> interp(new Interpreter());
  if (func.isExternal()) {
    func.emitError() << "cannot interpret a function without a body";
    return nullptr;
  }
  if (!func.getBody().hasOneBlock()) {
    func.emitError() << "the interpreter supports single-block functions";
    return nullptr;
  }

  auto specOf = [&](Type t, Operation *where,
                    StringRef what) -> std::optional<TensorSpec> {
    auto type = dyn_cast<RankedTensorType>(t);
    std::optional<rt::DType> dtype = type && type.hasStaticShape()
                                         ? dtypeFromType(type.getElementType())
                                         : std::nullopt;
    if (!dtype) {
      where->emitError() << what << " has type " << t
                         << "; the interpreter needs statically shaped "
                            "tensors of f32, i8, ui8, i32 or i64";
      return std::nullopt;
    }
    return TensorSpec{
        *dtype, rt::Shape(type.getShape().begin(), type.getShape().end())};
  };

  llvm::DenseMap<Value, size_t> slotOf;
  size_t next = 0;
  Block &body = func.getBody().front();
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    auto spec = specOf(arg.getType(), func, "argument " + std::to_string(i));
    if (!spec)
      return nullptr;
    interp->inputs_.push_back(*spec);
    slotOf[arg] = next++;
  }

  // Constants first, so kernels can take their weights at preparation.
  std::vector<std::pair<Value, ElementsAttr>> constantAttrs;
  for (Operation &op : body) {
    ElementsAttr value;
    if (auto c = dyn_cast<ConstantOp>(op))
      value = c.getValue();
    else if (auto c = dyn_cast<arith::ConstantOp>(op))
      value = dyn_cast<ElementsAttr>(c.getValue());
    if (value)
      constantAttrs.emplace_back(op.getResult(0), value);
  }
  // Quantized weights and biases, vai.fix of a constant, are constants too.
  SmallVector<FixOp> constantFixes;
  for (Operation &op : body)
    if (auto fix = dyn_cast<FixOp>(op))
      if (auto c = fix.getInput().getDefiningOp();
          c && isa<ConstantOp, arith::ConstantOp>(c))
        constantFixes.push_back(fix);
  std::vector<std::pair<size_t, rt::Tensor>> &constants = interp->constants_;
  // The map below points into `constants`: no reallocation.
  constants.reserve(constantAttrs.size() + constantFixes.size());
  ConstantMap constantValues;
  auto addConstant = [&](Value v, rt::Tensor t) {
    slotOf[v] = next;
    constants.emplace_back(next++, std::move(t));
    constantValues[v] = &constants.back().second;
  };
  for (auto &[v, attr] : constantAttrs) {
    auto t = tensorFromAttr(attr);
    if (!t) {
      v.getDefiningOp()->emitOpError() << llvm::toString(t.takeError());
      return nullptr;
    }
    addConstant(v, std::move(*t));
  }
  for (FixOp fix : constantFixes) {
    const rt::Tensor *in = constantValues.lookup(fix.getInput());
    if (!in || in->dtype() != rt::DType::F32) {
      fix.emitOpError() << "the interpreter needs an f32 constant input";
      return nullptr;
    }
    rt::Tensor t(rt::DType::F32, in->shape());
    FixKernel(fix).run(*in, t.data<float>());
    addConstant(fix.getResult(), std::move(t));
  }

  Preparer preparer(constantValues);
  bool sawReturn = false;
  for (Operation &op : body) {
    if (slotOf.count(op.getNumResults() ? op.getResult(0) : Value()))
      continue; // constant
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        auto spec = specOf(v.getType(), &op, "result " + std::to_string(i));
        if (!spec)
          return nullptr;
        interp->outputs_.push_back(*spec);
        interp->resultSlots_.push_back(slotOf.lookup(v));
      }
      sawReturn = true;
      continue;
    }
    if (op.getNumResults() != 1) {
      op.emitOpError() << "the interpreter expects ops with one result";
      return nullptr;
    }
    if (!specOf(op.getResult(0).getType(), &op, "the result"))
      return nullptr;
    std::optional<Kernel> quantized = prepareQuantized(&op, constantValues);
    FailureOr<Kernel> kernel = quantized
                                   ? FailureOr<Kernel>(std::move(*quantized))
                                   : preparer.prepare(&op);
    if (failed(kernel))
      return nullptr;
    auto step = std::make_unique<Step>();
    step->op = &op;
    for (Value v : op.getOperands())
      step->operands.push_back(slotOf.lookup(v));
    step->result = next;
    slotOf[op.getResult(0)] = next++;
    step->kernel = std::move(*kernel);
    interp->steps_.push_back(std::move(step));
  }
  if (!sawReturn) {
    func.emitError() << "function has no return";
    return nullptr;
  }
  interp->numSlots_ = next;

  // Liveness: release each op result after its last reader, unless returned.
  std::vector<int64_t> lastUse(next, -1);
  for (auto [i, step] : llvm::enumerate(interp->steps_))
    for (size_t s : step->operands)
      lastUse[s] = i;
  std::vector<bool> keep(next, false);
  for (size_t s : interp->resultSlots_)
    keep[s] = true;
  for (auto &c : constants)
    keep[c.first] = true;
  for (size_t s = 0; s < next; ++s)
    if (lastUse[s] >= 0 && !keep[s])
      interp->steps_[lastUse[s]]->release.push_back(s);
  return interp;
}

Expected<std::vector<rt::Tensor>>
Interpreter::run(const std::vector<rt::Tensor> &inputs, OpObserver observer,
                 OpOverride override) const {
  if (inputs.size() != inputs_.size())
    return makeError(llvm::formatv("the model takes {0} input(s), got {1}",
                                   inputs_.size(), inputs.size()));
  std::vector<rt::Tensor> slots(numSlots_);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec &spec = inputs_[i];
    if (inputs[i].dtype() != spec.dtype || inputs[i].shape() != spec.shape)
      return makeError(llvm::formatv("input {0}: expected {1} {2}, got {3} {4}",
                                     i, rt::dtypeName(spec.dtype),
                                     rt::shapeToString(spec.shape),
                                     rt::dtypeName(inputs[i].dtype()),
                                     rt::shapeToString(inputs[i].shape())));
    slots[i] = inputs[i];
  }
  for (const auto &[slot, t] : constants_)
    slots[slot] = t;

  Inputs operands;
  for (const auto &step : steps_) {
    operands.clear();
    for (size_t s : step->operands)
      operands.push_back(&slots[s]);
    slots[step->result] = step->kernel(operands);
    if (override)
      if (std::optional<rt::Tensor> t = override(step->op, slots[step->result]))
        slots[step->result] = std::move(*t);
    if (observer)
      observer(step->op, slots[step->result]);
    for (size_t s : step->release)
      slots[s] = rt::Tensor();
  }
  std::vector<rt::Tensor> results;
  for (size_t s : resultSlots_)
    results.push_back(slots[s]);
  return results;
}

} // namespace vai
