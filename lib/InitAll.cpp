//===- InitAll.cpp - Register every vai-mlir dialect and pass -------------===//

#include "vai/InitAll.h"

#include "vai/Backend/Passes.h"
#include "vai/Dialect/Dpu/DpuDialect.h"
#include "vai/Dialect/Dpu/Passes.h"
#include "vai/Dialect/Vai/VaiDialect.h"
#include "vai/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

void vai::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::vai::VaiDialect, mlir::dpu::DpuDialect,
                  mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::quant::QuantDialect>();
}

void vai::loadAllDialects(mlir::MLIRContext &context) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

void vai::registerAllPasses() {
  mlir::vai::registerVaiPasses();
  mlir::dpu::registerDpuPasses();
  vai::backend::registerBackendPasses();
}
