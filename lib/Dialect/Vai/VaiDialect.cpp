//===- VaiDialect.cpp - The vai graph dialect -----------------------------===//

#include "vai/Dialect/Vai/VaiDialect.h"
#include "vai/Dialect/Vai/VaiOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::vai;

#include "vai/Dialect/Vai/VaiEnums.cpp.inc"
#include "vai/Dialect/Vai/VaiOpsDialect.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "vai/Dialect/Vai/VaiAttrs.cpp.inc"

void VaiDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "vai/Dialect/Vai/VaiOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "vai/Dialect/Vai/VaiAttrs.cpp.inc"
      >();
}

Operation *VaiDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}
