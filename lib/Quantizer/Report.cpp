//===- Report.cpp - Float vs quantized, layer by layer --------------------===//

#include "vai/Quantizer/Report.h"

#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/Interpreter/Interpreter.h"
#include "vai/Quantizer/Calibrate.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>
#include <map>

using namespace mlir;
using llvm::Expected;

namespace vai::quant {

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

void TensorComparison::add(const float *a, const float *b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double x = a[i], y = b[i], d = x - y;
    sumA2 += x * x;
    sumB2 += y * y;
    sumAB += x * y;
    sumD2 += d * d;
    maxAbsDiff = std::max(maxAbsDiff, std::fabs(d));
  }
  count += n;
}

double TensorComparison::cosine() const {
  if (sumA2 == 0 && sumB2 == 0)
    return 1.0;
  if (sumA2 == 0 || sumB2 == 0)
    return 0.0;
  return sumAB / std::sqrt(sumA2 * sumB2);
}

double TensorComparison::sqnrDb() const {
  if (sumD2 == 0)
    return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sumA2 / sumD2);
}

namespace {

/// For each op of `func` whose result stands for a named tensor: the name.
/// In a quantized function a layer's tensor is its output fix (and an
/// argument's, the fix that quantizes it).
llvm::DenseMap<Operation *, std::pair<size_t, bool>>
observedOps(func::FuncOp func, const TensorNames &names,
            const std::map<std::string, size_t> &index) {
  llvm::DenseMap<Operation *, std::pair<size_t, bool>> out;
  for (auto &[op, name] : names.ops) {
    auto it = index.find(name);
    if (it == index.end())
      continue;
    Value v = op->getResult(0);
    auto fix = v.hasOneUse() ? dyn_cast<mlir::vai::FixOp>(*v.getUsers().begin())
                             : mlir::vai::FixOp();
    if (fix)
      out[fix] = {it->second, true};
    else
      out[op] = {it->second, false};
  }
  for (auto [arg, name] : llvm::zip(func.getArguments(), names.arguments))
    for (Operation *user : arg.getUsers())
      if (auto fix = dyn_cast<mlir::vai::FixOp>(user))
        if (auto it = index.find(name); it != index.end())
          out[fix] = {it->second, true};
  return out;
}

int64_t argmaxRow(const float *row, int64_t n) {
  return std::max_element(row, row + n) - row;
}

} // namespace

llvm::Error OutputComparison::add(const std::vector<rt::Tensor> &reference,
                                  const std::vector<rt::Tensor> &quantized) {
  if (outputs.empty()) {
    for (size_t i = 0; i < reference.size(); ++i)
      outputs.push_back({"output" + std::to_string(i)});
    top1Agree.assign(reference.size(), 0);
    top1Rows.assign(reference.size(), 0);
  }
  if (reference.size() != outputs.size() || quantized.size() != outputs.size())
    return makeError("the float and quantized models have different results");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const rt::Tensor &a = reference[i], &b = quantized[i];
    if (a.shape() != b.shape() || a.dtype() != rt::DType::F32 ||
        b.dtype() != rt::DType::F32)
      return makeError(llvm::formatv(
          "result {0}: the float model returns {1}, the quantized {2}", i,
          rt::shapeToString(a.shape()), rt::shapeToString(b.shape())));
    outputs[i].add(a.data<float>(), b.data<float>(), a.numElements());
    int64_t classes = a.shape().empty() ? 0 : a.shape().back();
    if (a.shape().size() >= 2 && classes > 1)
      for (int64_t r = 0, rows = a.numElements() / classes; r < rows; ++r) {
        top1Agree[i] += argmaxRow(a.data<float>() + r * classes, classes) ==
                        argmaxRow(b.data<float>() + r * classes, classes);
        ++top1Rows[i];
      }
  }
  return llvm::Error::success();
}

Expected<QuantReport>
compareModels(func::FuncOp floatFunc, func::FuncOp quantFunc,
              const std::function<bool(std::vector<rt::Tensor> &)> &next,
              const std::function<void(int64_t)> &progress,
              func::FuncOp original) {
  auto floatInterp = Interpreter::create(floatFunc);
  auto quantInterp = Interpreter::create(quantFunc);
  std::unique_ptr<Interpreter> originalInterp =
      original ? Interpreter::create(original) : nullptr;
  if (!floatInterp || !quantInterp || (original && !originalInterp))
    return makeError("cannot prepare the models for the report (see the "
                     "diagnostics above)");
  if (floatInterp->outputSpecs().size() != quantInterp->outputSpecs().size())
    return makeError("the float and quantized models have different results");

  QuantReport report;
  TensorNames floatNames = tensorNames(floatFunc);
  std::map<std::string, size_t> index;
  auto addTensor = [&](const std::string &name) {
    index[name] = report.tensors.size();
    report.tensors.push_back({name});
  };
  for (const std::string &name : floatNames.arguments)
    addTensor(name);
  for (Operation &op : floatFunc.getBody().front())
    if (floatNames.ops.count(&op) &&
        cast<ShapedType>(op.getResult(0).getType()).getElementType().isF32())
      addTensor(floatNames.ops[&op]);
  auto floatObserved = observedOps(floatFunc, floatNames, index);
  auto quantObserved = observedOps(quantFunc, tensorNames(quantFunc), index);
  std::vector<bool> seenQuantized(report.tensors.size(), false);

  std::vector<rt::Tensor> inputs;
  std::vector<rt::Tensor> floatTensors(report.tensors.size());
  while (true) {
    inputs.clear();
    if (!next(inputs))
      break;
    for (rt::Tensor &t : floatTensors)
      t = rt::Tensor();
    for (size_t i = 0; i < inputs.size() && i < floatNames.arguments.size();
         ++i)
      if (inputs[i].dtype() == rt::DType::F32)
        floatTensors[index[floatNames.arguments[i]]] = inputs[i];
    auto floatOut =
        floatInterp->run(inputs, [&](Operation *op, const rt::Tensor &t) {
          auto it = floatObserved.find(op);
          if (it != floatObserved.end() && t.dtype() == rt::DType::F32)
            floatTensors[it->second.first] = t;
        });
    if (!floatOut)
      return floatOut.takeError();
    auto quantOut =
        quantInterp->run(inputs, [&](Operation *op, const rt::Tensor &t) {
          auto it = quantObserved.find(op);
          if (it == quantObserved.end() || t.dtype() != rt::DType::F32)
            return;
          const rt::Tensor &a = floatTensors[it->second.first];
          if (a.numElements() != t.numElements())
            return;
          TensorComparison &c = report.tensors[it->second.first];
          c.quantized |= it->second.second;
          seenQuantized[it->second.first] = true;
          c.add(a.data<float>(), t.data<float>(), t.numElements());
        });
    if (!quantOut)
      return quantOut.takeError();
    if (llvm::Error e = report.outputs.add(*floatOut, *quantOut))
      return std::move(e);
    if (originalInterp) {
      auto originalOut = originalInterp->run(inputs);
      if (!originalOut)
        return originalOut.takeError();
      if (llvm::Error e = report.outputsVsOriginal.add(*originalOut, *quantOut))
        return std::move(e);
    }
    ++report.samples;
    if (progress)
      progress(report.samples);
  }
  // Tensors the quantized model does not have (folded away) are dropped.
  std::vector<TensorComparison> kept;
  for (size_t i = 0; i < report.tensors.size(); ++i)
    if (seenQuantized[i])
      kept.push_back(std::move(report.tensors[i]));
  report.tensors = std::move(kept);
  return report;
}

std::string formatReport(const QuantReport &report) {
  std::string out;
  llvm::raw_string_ostream os(out);
  auto line = [&](const TensorComparison &c, StringRef kind) {
    double sqnr = c.sqnrDb();
    os << llvm::formatv("{0,-32} {1,-5} {2,9:F6} {3,9} {4,12:G4}\n", c.name,
                        kind, c.cosine(),
                        std::isinf(sqnr) ? std::string("inf")
                                         : llvm::formatv("{0:F2}", sqnr).str(),
                        c.maxAbsDiff);
  };
  os << llvm::formatv("# float vs quantized on {0} held-out input set(s)\n",
                      report.samples);
  os << llvm::formatv("# {0,-30} {1,-5} {2,9} {3,9} {4,12}\n", "tensor", "kind",
                      "cosine", "SQNR(dB)", "max|diff|");
  for (const TensorComparison &c : report.tensors)
    line(c, c.quantized ? "int8" : "float");
  auto outputs = [&](const OutputComparison &c, StringRef heading) {
    os << heading;
    for (size_t i = 0; i < c.outputs.size(); ++i) {
      line(c.outputs[i], "out");
      if (c.top1Rows[i])
        os << llvm::formatv("#   top-1 agreement: {0} of {1} ({2:F2}%)\n",
                            c.top1Agree[i], c.top1Rows[i],
                            100.0 * c.top1Agree[i] / c.top1Rows[i]);
    }
  };
  outputs(report.outputs, "# outputs\n");
  if (!report.outputsVsOriginal.outputs.empty())
    outputs(report.outputsVsOriginal,
            "# outputs vs the float model before equalization\n");
  return out;
}

} // namespace vai::quant
