//===- DpuDialect.td - The dpu instruction dialect ---------*- tablegen -*-===//
#ifndef VAI_DIALECT_DPU_DPUDIALECT_TD
#define VAI_DIALECT_DPU_DPUDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Dpu_Dialect : Dialect {
  let name = "dpu";
  let summary = "Instruction-level dialect of vai-mlir's DPUCADF8H ISA";
  let description = [{
    One op per instruction of our DPUCADF8H instruction set (docs/isa.md):
    `dpu.load`, `dpu.save`, `dpu.conv_init`, `dpu.conv`, `dpu.dwconv_init`,
    `dpu.dwconv`, `dpu.pool_init`, `dpu.pool`, `dpu.eltwise`, `dpu.end`,
    inside a `dpu.program` that names the subgraph and the target. Every
    instruction op carries the bank, DDR and dependency fields of its
    instruction as attributes and keeps its location (the framework layer it
    implements). The ops convert one to one to `vai::isa::Instruction`
    (include/vai/Dialect/Dpu/DpuToISA.h) and hence to machine code.
  }];
  let cppNamespace = "::mlir::dpu";
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Enums (values equal the ISA's encodings)
//===----------------------------------------------------------------------===//

def Dpu_EngineMask : I32BitEnumAttr<"EngineMask",
    "set of engines (the wait/notify dependency flags)", [
      I32BitEnumAttrCaseNone<"none">,
      I32BitEnumAttrCaseBit<"load", 0>,
      I32BitEnumAttrCaseBit<"save", 1>,
      I32BitEnumAttrCaseBit<"conv", 2>,
      I32BitEnumAttrCaseBit<"dwconv", 3>,
      I32BitEnumAttrCaseBit<"pool", 4>,
      I32BitEnumAttrCaseBit<"eltwise", 5>
    ]> {
  let cppNamespace = "::mlir::dpu";
  let genSpecializedAttr = 0;
  let separator = "|";
}
def Dpu_EngineMaskAttr : EnumAttr<Dpu_Dialect, Dpu_EngineMask, "engines">;

def Dpu_EdgeMask : I32BitEnumAttr<"EdgeMask",
    "layer borders a tile touches (where the layer's padding applies)", [
      I32BitEnumAttrCaseNone<"none">,
      I32BitEnumAttrCaseBit<"top", 0>,
      I32BitEnumAttrCaseBit<"bottom", 1>,
      I32BitEnumAttrCaseBit<"left", 2>,
      I32BitEnumAttrCaseBit<"right", 3>
    ]> {
  let cppNamespace = "::mlir::dpu";
  let genSpecializedAttr = 0;
  let separator = "|";
}
def Dpu_EdgeMaskAttr : EnumAttr<Dpu_Dialect, Dpu_EdgeMask, "edge">;

def Dpu_Activation : I32EnumAttr<"Activation",
    "activation of the conv and dwconv engines", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Relu", 1, "relu">,
      I32EnumAttrCase<"Relu6", 2, "relu6">,
      I32EnumAttrCase<"LeakyRelu", 3, "leaky_relu">
    ]> {
  let cppNamespace = "::mlir::dpu";
  let genSpecializedAttr = 0;
}
def Dpu_ActivationAttr : EnumAttr<Dpu_Dialect, Dpu_Activation, "act">;

def Dpu_PoolKind : I32EnumAttr<"PoolKind", "pooling kind", [
      I32EnumAttrCase<"Max", 0, "max">,
      I32EnumAttrCase<"Avg", 1, "avg">
    ]> {
  let cppNamespace = "::mlir::dpu";
  let genSpecializedAttr = 0;
}
def Dpu_PoolKindAttr : EnumAttr<Dpu_Dialect, Dpu_PoolKind, "pool_kind">;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Dpu_Attr<string name, string attrMnemonic>
    : AttrDef<Dpu_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Dpu_BankAttr : Dpu_Attr<"Bank", "bank"> {
  let summary = "a word address in a bank group";
  let description = [{
    `<group, addr>`: the index of the bank group in the target's list
    (DPUCADF8H_ISA0: 0 VB0, 1 VB1, 2 VB2, 3 CONVW) and the word address in
    the group's linear word space (docs/isa.md, "Bank groups").
  }];
  let parameters = (ins "int64_t":$group, "int64_t":$addr);
  let assemblyFormat = "`<` $group `,` $addr `>`";
}

def Dpu_DdrAttr : Dpu_Attr<"Ddr", "ddr"> {
  let summary = "a DDR location: register id and byte offset";
  let description = [{
    `<reg, offset>`: reg 0 holds the parameters, 1 the workspace, 2 and up
    the subgraph's inputs and outputs (docs/isa.md, "DDR").
  }];
  let parameters = (ins "int64_t":$reg, "int64_t":$offset);
  let assemblyFormat = "`<` $reg `,` $offset `>`";
}

#endif // VAI_DIALECT_DPU_DPUDIALECT_TD
