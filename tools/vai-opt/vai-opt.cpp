//===- vai-opt.cpp - mlir-opt for the vai dialects ------------------------===//
//
// Registers the vai dialect with func, arith, tensor and quant, the core MLIR
// transformations (canonicalize, cse, ...) and every vai-mlir pass.
//
//===----------------------------------------------------------------------===//

#include "vai/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  vai::registerAllDialects(registry);
  vai::registerAllPasses();
  mlir::registerTransformsPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vai-mlir optimizer driver\n", registry));
}
