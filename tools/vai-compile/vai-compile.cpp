//===- vai-compile.cpp - Quantized model in, .xmodel out ------------------===//
//
//   vai-compile model.mlir -o model.xmodel [--target DPUCADF8H_ISA0]
//               [--inspect] [--print-target]
//   vai-compile model.onnx --calib-table calib_table.txt -o model.xmodel
//
// Runs the backend passes (-vai-partition, -vai-lower-to-dpu) by name when
// the module is not yet partitioned and lowered, then emits the xmodel
// through libxir and prints a summary like Vitis AI's compiler.
//
//===----------------------------------------------------------------------===//

#include "vai/Backend/Passes.h"
#include "vai/Dialect/Dpu/DpuOps.h"
#include "vai/Dialect/Vai/VaiOps.h"
#include "vai/InitAll.h"
#include "vai/Quantizer/Calibrate.h"
#include "vai/Quantizer/Quantize.h"
#include "vai/Target/Target.h"
#include "vai/Tools/ToolSupport.h"
#include "vai/Transforms/Passes.h"
#include "vai/XModel/ProgramInfo.h"
#include "vai/XModel/XModel.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

#include <map>

using namespace llvm;

static cl::OptionCategory category("vai-compile options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model>"),
                                      cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output .xmodel"),
                                       cl::value_desc("file"),
                                       cl::cat(category));
static cl::opt<std::string> targetName("target",
                                       cl::desc("DPU target (default "
                                                "DPUCADF8H_ISA0)"),
                                       cl::init("DPUCADF8H_ISA0"),
                                       cl::cat(category));
static cl::opt<bool> inspect("inspect",
                             cl::desc("Print each layer's device and the "
                                      "reason for CPU layers"),
                             cl::cat(category));
static cl::opt<bool> printTarget("print-target",
                                 cl::desc("Print the target description"),
                                 cl::cat(category));
static cl::opt<std::string>
    calibTablePath("calib-table",
                   cl::desc("Quantize an unquantized model with this "
                            "calibration table (from vai-quantize)"),
                   cl::cat(category));
static vai::tools::ImportFlags importFlags(category);

static int fail(const Twine &msg) {
  WithColor::error(errs(), "vai-compile") << msg << "\n";
  return 1;
}

static bool isQuantized(mlir::func::FuncOp func) {
  bool found = false;
  func.walk([&](mlir::vai::FixOp) { found = true; });
  return found;
}

/// Quantizes with a calibration table, after vai-quantize's preprocessing.
static Error quantizeWithTable(mlir::ModuleOp module, mlir::func::FuncOp func,
                               const vai::target::Target &target) {
  auto table = vai::quant::readCalibTable(calibTablePath);
  if (!table)
    return table.takeError();
  if (table->empty())
    return createStringError(inconvertibleErrorCode(),
                             calibTablePath + ": the calibration table has "
                                              "no entries");
  // The same preprocessing (and equalization) vai-quantize ran before it
  // wrote the table, so the tensors and their ranges match.
  if (Error e = vai::quant::preprocessForQuantization(module))
    return e;
  Expected<int64_t> replaced =
      vai::quant::equalizeForQuantization(module, /*replaceRelu6=*/true);
  if (!replaced)
    return replaced.takeError();
  std::map<std::string, int> positions;
  for (const vai::quant::CalibEntry &e : *table)
    positions[e.tensor] = e.fixPoint;
  auto summary = vai::quant::quantizeFunction(func, positions, target);
  if (!summary)
    return summary.takeError();
  return Error::success();
}

/// Partitions and lowers the model unless a module already annotated (e.g.
/// by vai-opt) is given.
static Error runBackend(mlir::ModuleOp module, mlir::func::FuncOp func,
                        const vai::target::Target &target) {
  bool partitioned = false, hasDpu = false;
  func.walk([&](mlir::Operation *op) {
    if (op->hasAttr("vai.subgraph"))
      partitioned = true;
    if (auto d = op->getAttrOfType<mlir::StringAttr>("vai.device"))
      hasDpu |= d.getValue() == "DPU";
  });
  bool lowered = !module.getOps<mlir::dpu::ProgramOp>().empty();
  if (partitioned && (lowered || !hasDpu))
    return Error::success(); // already done
  mlir::PassManager pm(module->getContext());
  vai::backend::VaiPartitionOptions partition;
  partition.targetName = target.name;
  pm.addNestedPass<mlir::func::FuncOp>(
      vai::backend::createVaiPartition(partition));
  vai::backend::VaiLowerToDpuOptions lower;
  lower.targetName = target.name;
  pm.addPass(vai::backend::createVaiLowerToDpu(lower));
  if (mlir::failed(pm.run(module)))
    return createStringError(inconvertibleErrorCode(),
                             "the backend failed (see the errors above)");
  return Error::success();
}

static std::string layerName(mlir::Location loc) {
  if (auto name = loc->findInstanceOf<mlir::NameLoc>())
    return name.getName().str();
  return "?";
}

static void printInspect(mlir::func::FuncOp func) {
  outs() << "layer devices:\n";
  func.walk([&](mlir::Operation *op) {
    auto device = op->getAttrOfType<mlir::StringAttr>("vai.device");
    if (!device)
      return;
    auto sg = op->getAttrOfType<mlir::IntegerAttr>("vai.subgraph");
    auto reason = op->getAttrOfType<mlir::StringAttr>("vai.cpu_reason");
    outs() << formatv("  {0,-24} {1,-24} {2} subgraph {3}",
                      layerName(op->getLoc()), op->getName().getStringRef(),
                      device.getValue(), sg ? sg.getInt() : -1);
    if (reason)
      outs() << ": " << reason.getValue();
    outs() << "\n";
  });
}

static Error printSummary(mlir::ModuleOp module, mlir::func::FuncOp func,
                          const vai::target::Target &target, size_t bytes) {
  struct Sub {
    std::string device;
    int64_t ops = 0;
  };
  std::map<int64_t, Sub> subs;
  func.walk([&](mlir::Operation *op) {
    auto device = op->getAttrOfType<mlir::StringAttr>("vai.device");
    auto sg = op->getAttrOfType<mlir::IntegerAttr>("vai.subgraph");
    if (!device || !sg)
      return;
    Sub &s = subs[sg.getInt()];
    s.device = device.getValue().str();
    ++s.ops;
  });
  std::map<int64_t, vai::xmodel::ProgramInfo> programs;
  for (auto program : module.getOps<mlir::dpu::ProgramOp>()) {
    auto info = vai::xmodel::readProgramInfo(program);
    if (!info)
      return info.takeError();
    programs[info->subgraph] = std::move(*info);
  }
  int dpu = 0, cpu = 0;
  for (auto &[id, s] : subs)
    (s.device == "DPU" ? dpu : cpu)++;
  outs() << formatv("vai-compile: {0} -> {1} ({2} bytes)\n", modelPath,
                    outputPath, bytes);
  outs() << formatv("  target {0}, fingerprint 0x{1:x-16}, batch {2}\n",
                    target.name, target.fingerprint, target.batch);
  outs() << formatv("  subgraphs: {0} DPU, {1} CPU\n", dpu, cpu);
  for (auto &[id, s] : subs) {
    outs() << formatv("  subgraph {0}: {1}, {2} op(s)", id, s.device, s.ops);
    auto p = programs.find(id);
    if (p != programs.end()) {
      const vai::xmodel::ProgramInfo &info = p->second;
      int64_t work = 0;
      for (size_t r = 1; r < info.regSizes.size(); ++r)
        work += info.regSizes[r];
      outs() << formatv(", parameters {0} bytes, workspace+io {1} bytes per "
                        "lane, workload {2:f3} GOP, {3} modeled cycles",
                        info.regSizes[0], work, 2.0 * info.macs / 1e9,
                        info.cycles);
    }
    outs() << "\n";
  }
  return Error::success();
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  vai::registerAllPasses();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "vai-mlir compiler: quantized model to "
                              ".xmodel\n");
  auto target = vai::target::loadTarget(targetName);
  if (!target)
    return fail(toString(target.takeError()));
  if (printTarget) {
    outs() << target->summary() << "\n";
    if (modelPath.empty())
      return 0;
  }
  if (modelPath.empty())
    return fail("no input model (vai-compile model.mlir -o model.xmodel)");
  if (outputPath.empty() && !inspect)
    return fail("no output file: give -o model.xmodel");

  mlir::DialectRegistry registry;
  vai::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler handler(&context,
                                        vai::tools::printLayerDiagnostic);
  std::string loadError;
  mlir::func::FuncOp func;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importFlags.loadFunction(context, modelPath, func, loadError);
  if (!module)
    return fail(loadError);

  if (!isQuantized(func)) {
    if (calibTablePath.empty())
      return fail(modelPath + ": the model is not quantized (no vai.fix): "
                              "run vai-quantize first, or give "
                              "--calib-table");
    if (Error e = quantizeWithTable(*module, func, *target))
      return fail(modelPath + ": " + toString(std::move(e)));
  }
  if (Error e = runBackend(*module, func, *target))
    return fail(modelPath + ": " + toString(std::move(e)));
  if (inspect)
    printInspect(func);
  if (outputPath.empty())
    return 0;

  auto bytes = vai::xmodel::emitXModel(*module, func, *target);
  if (!bytes)
    return fail(modelPath + ": " + toString(bytes.takeError()));
  if (Error e = vai::tools::writeFileAtomically(outputPath, *bytes))
    return fail(toString(std::move(e)));
  if (Error e = printSummary(*module, func, *target, bytes->size()))
    return fail(modelPath + ": " + toString(std::move(e)));
  return 0;
}
