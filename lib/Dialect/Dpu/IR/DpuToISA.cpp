//===- DpuToISA.cpp - dpu ops <-> vai::isa instructions -------------------===//

#include "vai/Dialect/Dpu/DpuToISA.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::dpu;
namespace isa = vai::isa;

//===----------------------------------------------------------------------===//
// Ops to instructions
//===----------------------------------------------------------------------===//

namespace {

isa::Deps deps(EngineMask wait, EngineMask notify) {
  return {static_cast<uint32_t>(wait), static_cast<uint32_t>(notify)};
}
isa::BankRef bank(BankAttr a) { return {a.getGroup(), a.getAddr()}; }

/// `values` must have `n` entries; names them in the error.
LogicalResult expectSize(Operation *op, StringRef name,
                         ArrayRef<int64_t> values, size_t n,
                         StringRef meaning) {
  if (values.size() == n)
    return success();
  return op->emitOpError() << name << " must have " << n << " values "
                           << meaning << ", got " << values.size();
}

template <typename OpT, typename T> LogicalResult transfer(OpT op, T &t) {
  t.deps = deps(op.getWait(), op.getNotify());
  t.ddr = {op.getDdr().getReg(), op.getDdr().getOffset()};
  t.bank = bank(op.getBank());
  t.rows = op.getRowsAttr().getInt();
  t.cols = op.getColsAttr().getInt();
  t.channels = op.getChannelsAttr().getInt();
  t.rowStride = op.getRowStrideAttr().getInt();
  t.colStride = op.getColStrideAttr().getInt();
  return success();
}

template <typename OpT, typename T> LogicalResult window(OpT op, T &c) {
  Operation *o = op.getOperation();
  if (failed(expectSize(o, "kernel", op.getKernel(), 2, "[KH, KW]")) ||
      failed(expectSize(o, "stride", op.getStride(), 2, "[SH, SW]")) ||
      failed(expectSize(o, "dilation", op.getDilation(), 2, "[DH, DW]")) ||
      failed(
          expectSize(o, "pad", op.getPad(), 4, "[top, bottom, left, right]")))
    return failure();
  c.deps = deps(op.getWait(), op.getNotify());
  c.kernelH = op.getKernel()[0];
  c.kernelW = op.getKernel()[1];
  c.strideH = op.getStride()[0];
  c.strideW = op.getStride()[1];
  c.dilationH = op.getDilation()[0];
  c.dilationW = op.getDilation()[1];
  c.padTop = op.getPad()[0];
  c.padBottom = op.getPad()[1];
  c.padLeft = op.getPad()[2];
  c.padRight = op.getPad()[3];
  c.shiftBias = op.getShiftBiasAttr().getInt();
  c.shiftCut = op.getShiftCutAttr().getInt();
  c.act = static_cast<isa::Activation>(op.getAct());
  c.actMax = static_cast<int64_t>(op.getActMax());
  return success();
}

/// Input and output tiles; `inChannels`/`outChannels` receive the shapes'
/// channel counts.
template <typename OpT, typename T>
LogicalResult tiles(OpT op, T &x, int64_t &inChannels, int64_t &outChannels) {
  Operation *o = op.getOperation();
  if (failed(expectSize(o, "input_shape", op.getInputShape(), 3,
                        "[rows, cols, channels]")) ||
      failed(expectSize(o, "output_shape", op.getOutputShape(), 3,
                        "[rows, cols, channels]")))
    return failure();
  x.deps = deps(op.getWait(), op.getNotify());
  x.in = {bank(op.getInput()), op.getInputShape()[0], op.getInputShape()[1]};
  x.out = {bank(op.getOutput()), op.getOutputShape()[0],
           op.getOutputShape()[1]};
  x.edge = static_cast<uint32_t>(op.getEdge());
  inChannels = op.getInputShape()[2];
  outChannels = op.getOutputShape()[2];
  return success();
}

/// dwconv and pool keep the channel count.
LogicalResult sameChannels(Operation *op, int64_t in, int64_t out) {
  if (in == out)
    return success();
  return op->emitOpError() << "input and output channel counts differ (" << in
                           << " vs " << out << ")";
}

template <typename OpT, typename T> LogicalResult weights(OpT op, T &x) {
  if (op.getWeights().getGroup() != op.getBias().getGroup())
    return op.emitOpError()
           << "weights and bias must be in the same bank "
              "group, got "
           << op.getWeights().getGroup() << " and " << op.getBias().getGroup();
  x.weightGroup = op.getWeights().getGroup();
  x.weightAddr = op.getWeights().getAddr();
  x.biasAddr = op.getBias().getAddr();
  return success();
}

} // namespace

namespace {
/// Converts `op` into `out`; the error goes to the op.
LogicalResult convert(Operation *op, isa::Instruction &out) {
  if (auto o = dyn_cast<LoadOp>(op)) {
    out = isa::Load{};
    return transfer(o, std::get<isa::Load>(out));
  }
  if (auto o = dyn_cast<SaveOp>(op)) {
    out = isa::Save{};
    return transfer(o, std::get<isa::Save>(out));
  }
  if (auto o = dyn_cast<ConvInitOp>(op)) {
    out = isa::ConvInit{};
    return window(o, std::get<isa::ConvInit>(out));
  }
  if (auto o = dyn_cast<DwConvInitOp>(op)) {
    out = isa::DwInit{};
    return window(o, std::get<isa::DwInit>(out));
  }
  if (auto o = dyn_cast<ConvOp>(op)) {
    out = isa::Conv{};
    auto &x = std::get<isa::Conv>(out);
    if (failed(tiles(o, x, x.inChannels, x.outChannels)))
      return failure();
    return weights(o, x);
  }
  if (auto o = dyn_cast<DwConvOp>(op)) {
    out = isa::DwConv{};
    auto &x = std::get<isa::DwConv>(out);
    int64_t outChannels = 0;
    if (failed(tiles(o, x, x.channels, outChannels)) ||
        failed(sameChannels(o, x.channels, outChannels)))
      return failure();
    return weights(o, x);
  }
  if (auto o = dyn_cast<PoolInitOp>(op)) {
    if (failed(expectSize(op, "kernel", o.getKernel(), 2, "[KH, KW]")) ||
        failed(expectSize(op, "stride", o.getStride(), 2, "[SH, SW]")) ||
        failed(
            expectSize(op, "pad", o.getPad(), 4, "[top, bottom, left, right]")))
      return failure();
    isa::PoolInit x;
    x.deps = deps(o.getWait(), o.getNotify());
    x.kind = static_cast<isa::PoolKind>(o.getKind());
    x.kernelH = o.getKernel()[0];
    x.kernelW = o.getKernel()[1];
    x.strideH = o.getStride()[0];
    x.strideW = o.getStride()[1];
    x.padTop = o.getPad()[0];
    x.padBottom = o.getPad()[1];
    x.padLeft = o.getPad()[2];
    x.padRight = o.getPad()[3];
    x.mul = static_cast<int64_t>(o.getMul());
    x.shift = static_cast<int64_t>(o.getShift());
    out = x;
    return success();
  }
  if (auto o = dyn_cast<PoolOp>(op)) {
    out = isa::Pool{};
    auto &x = std::get<isa::Pool>(out);
    int64_t outChannels = 0;
    if (failed(tiles(o, x, x.channels, outChannels)))
      return failure();
    return sameChannels(o, x.channels, outChannels);
  }
  if (auto o = dyn_cast<EltwiseOp>(op)) {
    if (failed(
            expectSize(op, "shape", o.getShape(), 3, "[rows, cols, channels]")))
      return failure();
    isa::Eltwise x;
    x.deps = deps(o.getWait(), o.getNotify());
    x.a = bank(o.getLhs());
    x.b = bank(o.getRhs());
    x.out = bank(o.getOutput());
    x.rows = o.getShape()[0];
    x.cols = o.getShape()[1];
    x.channels = o.getShape()[2];
    x.shiftA = static_cast<int64_t>(o.getShiftLhs());
    x.shiftB = static_cast<int64_t>(o.getShiftRhs());
    x.shiftOut = static_cast<int64_t>(o.getShiftOut());
    x.relu = o.getRelu();
    out = x;
    return success();
  }
  if (llvm::isa<EndOp>(op)) {
    out = isa::End{};
    return success();
  }
  return op->emitOpError("is not a dpu instruction");
}
} // namespace

FailureOr<isa::Instruction> mlir::dpu::toInstruction(Operation *op) {
  isa::Instruction inst;
  if (failed(convert(op, inst)))
    return failure();
  return inst;
}

FailureOr<std::vector<isa::Instruction>>
mlir::dpu::toInstructions(ProgramOp program, bool validate) {
  std::vector<isa::Instruction> insts;
  std::vector<Operation *> ops;
  for (Operation &op : program.getBody().front()) {
    FailureOr<isa::Instruction> inst = toInstruction(&op);
    if (failed(inst))
      return failure();
    insts.push_back(*inst);
    ops.push_back(&op);
  }
  if (!validate)
    return insts;
  if (auto e = isa::validateProgram(insts)) {
    if (e->index >= 0 && size_t(e->index) < ops.size())
      return ops[e->index]->emitOpError(e->message);
    return program.emitOpError(e->message);
  }
  return insts;
}

//===----------------------------------------------------------------------===//
// Instructions to ops
//===----------------------------------------------------------------------===//

namespace {

struct OpBuilderHelper {
  OpBuilder &b;
  Location loc;

  BankAttr bank(const isa::BankRef &r) {
    return BankAttr::get(b.getContext(), r.group, r.addr);
  }
  IntegerAttr i64(int64_t v) { return b.getI64IntegerAttr(v); }
  DenseI64ArrayAttr arr(ArrayRef<int64_t> v) {
    return b.getDenseI64ArrayAttr(v);
  }
  void deps(NamedAttrList &attrs, const isa::Deps &d) {
    if (d.wait)
      attrs.append("wait",
                   EngineMaskAttr::get(b.getContext(), EngineMask(d.wait)));
    if (d.notify)
      attrs.append("notify",
                   EngineMaskAttr::get(b.getContext(), EngineMask(d.notify)));
  }
  Operation *create(StringRef name, NamedAttrList &attrs) {
    OperationState state(loc, name);
    state.addAttributes(attrs);
    return b.create(state);
  }

  template <typename T> Operation *transfer(StringRef name, const T &t) {
    NamedAttrList a;
    a.append("ddr", DdrAttr::get(b.getContext(), t.ddr.reg, t.ddr.offset));
    a.append("bank", bank(t.bank));
    a.append("rows", i64(t.rows));
    a.append("cols", i64(t.cols));
    a.append("channels", i64(t.channels));
    a.append("row_stride", i64(t.rowStride));
    a.append("col_stride", i64(t.colStride));
    deps(a, t.deps);
    return create(name, a);
  }
  Operation *window(StringRef name, const isa::WindowConfig &c) {
    NamedAttrList a;
    a.append("kernel", arr({c.kernelH, c.kernelW}));
    a.append("stride", arr({c.strideH, c.strideW}));
    if (c.dilationH != 1 || c.dilationW != 1)
      a.append("dilation", arr({c.dilationH, c.dilationW}));
    a.append("pad", arr({c.padTop, c.padBottom, c.padLeft, c.padRight}));
    a.append("shift_bias", i64(c.shiftBias));
    a.append("shift_cut", i64(c.shiftCut));
    if (c.act != isa::Activation::None)
      a.append("act", ActivationAttr::get(b.getContext(), Activation(c.act)));
    if (c.actMax)
      a.append("act_max", i64(c.actMax));
    deps(a, c.deps);
    return create(name, a);
  }
  void tiles(NamedAttrList &a, const isa::Tile &in, const isa::Tile &out,
             int64_t inC, int64_t outC, uint32_t edge) {
    a.append("input", bank(in.bank));
    a.append("input_shape", arr({in.rows, in.cols, inC}));
    a.append("output", bank(out.bank));
    a.append("output_shape", arr({out.rows, out.cols, outC}));
    if (edge)
      a.append("edge", EdgeMaskAttr::get(b.getContext(), EdgeMask(edge)));
  }
  template <typename T> void weights(NamedAttrList &a, const T &x) {
    a.append("weights", bank({x.weightGroup, x.weightAddr}));
    a.append("bias", bank({x.weightGroup, x.biasAddr}));
  }

  Operation *operator()(const isa::Load &x) {
    return transfer(LoadOp::getOperationName(), x);
  }
  Operation *operator()(const isa::Save &x) {
    return transfer(SaveOp::getOperationName(), x);
  }
  Operation *operator()(const isa::ConvInit &x) {
    return window(ConvInitOp::getOperationName(), x);
  }
  Operation *operator()(const isa::DwInit &x) {
    return window(DwConvInitOp::getOperationName(), x);
  }
  Operation *operator()(const isa::Conv &x) {
    NamedAttrList a;
    tiles(a, x.in, x.out, x.inChannels, x.outChannels, x.edge);
    weights(a, x);
    deps(a, x.deps);
    return create(ConvOp::getOperationName(), a);
  }
  Operation *operator()(const isa::DwConv &x) {
    NamedAttrList a;
    tiles(a, x.in, x.out, x.channels, x.channels, x.edge);
    weights(a, x);
    deps(a, x.deps);
    return create(DwConvOp::getOperationName(), a);
  }
  Operation *operator()(const isa::PoolInit &x) {
    NamedAttrList a;
    a.append("kind", PoolKindAttr::get(b.getContext(), PoolKind(x.kind)));
    a.append("kernel", arr({x.kernelH, x.kernelW}));
    a.append("stride", arr({x.strideH, x.strideW}));
    a.append("pad", arr({x.padTop, x.padBottom, x.padLeft, x.padRight}));
    if (x.mul != 1)
      a.append("mul", i64(x.mul));
    if (x.shift)
      a.append("shift", i64(x.shift));
    deps(a, x.deps);
    return create(PoolInitOp::getOperationName(), a);
  }
  Operation *operator()(const isa::Pool &x) {
    NamedAttrList a;
    tiles(a, x.in, x.out, x.channels, x.channels, x.edge);
    deps(a, x.deps);
    return create(PoolOp::getOperationName(), a);
  }
  Operation *operator()(const isa::Eltwise &x) {
    NamedAttrList a;
    a.append("lhs", bank(x.a));
    a.append("rhs", bank(x.b));
    a.append("output", bank(x.out));
    a.append("shape", arr({x.rows, x.cols, x.channels}));
    if (x.shiftA)
      a.append("shift_lhs", i64(x.shiftA));
    if (x.shiftB)
      a.append("shift_rhs", i64(x.shiftB));
    if (x.shiftOut)
      a.append("shift_out", i64(x.shiftOut));
    if (x.relu)
      a.append("relu", b.getUnitAttr());
    deps(a, x.deps);
    return create(EltwiseOp::getOperationName(), a);
  }
  Operation *operator()(const isa::End &) {
    NamedAttrList a;
    return create(EndOp::getOperationName(), a);
  }
};

} // namespace

Operation *mlir::dpu::buildInstruction(OpBuilder &builder, Location loc,
                                       const isa::Instruction &inst) {
  return std::visit(OpBuilderHelper{builder, loc}, inst);
}

ProgramOp mlir::dpu::buildProgram(OpBuilder &builder, Location loc,
                                  StringRef name, StringRef target,
                                  ArrayRef<isa::Instruction> insts,
                                  ArrayRef<Location> locs) {
  auto program = ProgramOp::create(builder, loc, name, target);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&program.getBody().front());
  for (auto [i, inst] : llvm::enumerate(insts))
    buildInstruction(builder, i < locs.size() ? locs[i] : loc, inst);
  return program;
}

FailureOr<std::vector<uint8_t>> mlir::dpu::encodeProgram(ProgramOp program) {
  FailureOr<std::vector<isa::Instruction>> insts = toInstructions(program);
  if (failed(insts))
    return failure();
  isa::Result<std::vector<uint8_t>> bytes = isa::encode(*insts);
  if (!bytes)
    return program.emitOpError(bytes.error().str());
  return *bytes;
}

FailureOr<ProgramOp> mlir::dpu::decodeProgram(OpBuilder &builder, Location loc,
                                              StringRef name, StringRef target,
                                              ArrayRef<uint8_t> code,
                                              ArrayRef<Location> locs) {
  isa::Result<std::vector<isa::Instruction>> insts =
      isa::decode(code.data(), code.size());
  if (!insts)
    return emitError(loc) << "machine code of '" << name
                          << "': " << insts.error().str();
  return buildProgram(builder, loc, name, target, *insts, locs);
}
