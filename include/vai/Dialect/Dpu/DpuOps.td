//===- DpuOps.td - dpu instruction ops ---------------------*- tablegen -*-===//
//
// One op per instruction of docs/isa.md. Field ranges are the ISA's
// encoding limits, checked by converting the op to its vai::isa struct
// (one source of truth); target limits (bank sizes, kernel sets, shifts)
// are checked by -dpu-verify-target.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_DIALECT_DPU_DPUOPS_TD
#define VAI_DIALECT_DPU_DPUOPS_TD

include "vai/Dialect/Dpu/DpuDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

//===----------------------------------------------------------------------===//
// Program
//===----------------------------------------------------------------------===//

def Dpu_ProgramOp : Op<Dpu_Dialect, "program", [IsolatedFromAbove,
    NoTerminator, SingleBlock, Symbol]> {
  let summary = "the instructions of one DPU subgraph";
  let description = [{
    Holds the instruction sequence of one DPU subgraph, in program order,
    for target `target` (a name `vai::target::loadTarget` knows). The
    sequence must form a valid program (docs/isa.md): every `dpu.conv`,
    `dpu.dwconv` and `dpu.pool` follows an init of its engine, the windows
    of each compute instruction fit its input tile, and `dpu.end` is the
    last instruction and appears once.

    `-vai-lower-to-dpu` also sets, for the xmodel emitter: `subgraph` (the
    `vai.subgraph` number of its layers), `reg_sizes` (bytes of reg 0 =
    parameters, reg 1 = workspace per lane, then each I/O reg per lane),
    `params` (the reg-0 blob, tensor<Kxi8>), `io` (one dictionary per
    input/output tensor: `name`, `direction` "in"/"out", `reg`, `offset`,
    `shape` = NHWC of one lane, `fix_point`), `macs` (per run of all batch
    lanes) and `cycles` (modeled, vai::isa::schedule).

    ```mlir
    dpu.program @subgraph_0 target "DPUCADF8H_ISA0" {
      dpu.load ddr <2, 0> -> bank <0, 0> shape [8, 8, 3] strides [24, 3] notify <conv>
      ...
      dpu.end
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$target,
      // Set by -vai-lower-to-dpu for the xmodel emitter (all optional):
      // the subgraph number (vai.subgraph of its layers);
      OptionalAttr<I64Attr>:$subgraph,
      // bytes per lane of reg 0 (parameters, shared), reg 1 (workspace) and
      // each I/O reg 2, 3, ... in order;
      OptionalAttr<DenseI64ArrayAttr>:$reg_sizes,
      // the whole reg-0 blob (tensor<Kxi8>: weights OHWI and biases as the
      // program's LOADs read them);
      OptionalAttr<ElementsAttr>:$params,
      // one DictionaryAttr per input/output tensor: {name, direction =
      // "in"|"out", reg, offset, shape (NHWC of one lane), fix_point};
      OptionalAttr<ArrayAttr>:$io,
      // multiply-accumulates per run of all lanes, modeled cycles per run.
      OptionalAttr<I64Attr>:$macs,
      OptionalAttr<I64Attr>:$cycles);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name `target` $target attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::llvm::StringRef":$target)>
  ];
}

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

class Dpu_InstOp<string mnemonic, list<Trait> traits = []>
    : Op<Dpu_Dialect, mnemonic, !listconcat(traits,
                                            [HasParent<"ProgramOp">])> {
  let hasVerifier = 1;
}

// Dependency flags of every instruction except END (docs/isa.md,
// "Dependencies").
defvar DepsArgs = (ins
    DefaultValuedAttr<Dpu_EngineMaskAttr, "::mlir::dpu::EngineMask::none">:$wait,
    DefaultValuedAttr<Dpu_EngineMaskAttr, "::mlir::dpu::EngineMask::none">:$notify);

class Dpu_TransferOp<string mnemonic>
    : Dpu_InstOp<mnemonic> {
  let arguments = !con((ins Dpu_DdrAttr:$ddr, Dpu_BankAttr:$bank,
                            I64Attr:$rows, I64Attr:$cols, I64Attr:$channels,
                            I64Attr:$row_stride, I64Attr:$col_stride),
                       DepsArgs);
}

def Dpu_LoadOp : Dpu_TransferOp<"load"> {
  let summary = "LOAD: DDR to a bank group";
  let description = [{
    Copies a `rows x cols x channels` block: DDR byte (y, x, c) at
    `offset + y * row_stride + x * col_stride + c` of register `ddr.reg`
    (for every batch lane) becomes tile byte (y, x, c) at `bank`.
  }];
  let assemblyFormat = "`ddr` $ddr `->` `bank` $bank `shape` ` ` `[` $rows `,` "
                       "$cols `,` $channels `]` `strides` ` ` `[` $row_stride `,` "
                       "$col_stride `]` "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_SaveOp : Dpu_TransferOp<"save"> {
  let summary = "SAVE: a bank group to DDR";
  let description = [{
    The reverse of `dpu.load`: tile byte (y, x, c) at `bank` becomes DDR
    byte `offset + y * row_stride + x * col_stride + c` of `ddr.reg`
    (never reg 0, the read-only parameters).
  }];
  let assemblyFormat = "`bank` $bank `->` `ddr` $ddr `shape` ` ` `[` $rows `,` "
                       "$cols `,` $channels `]` `strides` ` ` `[` $row_stride `,` "
                       "$col_stride `]` "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

class Dpu_WindowInitOp<string mnemonic> : Dpu_InstOp<mnemonic> {
  let arguments = !con((ins DenseI64ArrayAttr:$kernel,
                            DenseI64ArrayAttr:$stride,
                            DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation,
                            DenseI64ArrayAttr:$pad,
                            I64Attr:$shift_bias, I64Attr:$shift_cut,
                            DefaultValuedAttr<Dpu_ActivationAttr,
                                "::mlir::dpu::Activation::None">:$act,
                            DefaultValuedAttr<I64Attr, "0">:$act_max),
                       DepsArgs);
  let assemblyFormat = "`kernel` $kernel `stride` $stride (`dilation` "
                       "$dilation^)? `pad` $pad `shift_bias` $shift_bias "
                       "`shift_cut` $shift_cut (`act` `` $act^)? (`act_max` "
                       "$act_max^)? "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_ConvInitOp : Dpu_WindowInitOp<"conv_init"> {
  let summary = "CONVINIT: configure the conv engine";
  let description = [{
    Sets `kernel` [KH, KW], `stride` [SH, SW], `dilation` [DH, DW], the
    layer's `pad` [top, bottom, left, right], `shift_bias`, `shift_cut`,
    the activation `act` (none, relu, relu6, leaky_relu = 26/256) and
    `act_max` (the relu6 clamp floor(6 * 2^py), 0 for other activations)
    for the `dpu.conv` instructions that follow.
  }];
}

def Dpu_DwConvInitOp : Dpu_WindowInitOp<"dwconv_init"> {
  let summary = "DWINIT: configure the depthwise engine";
  let description = [{
    The `dpu.conv_init` settings for the `dpu.dwconv` instructions that
    follow.
  }];
}

// Input and output tiles of conv, dwconv and pool.
defvar TileArgs = (ins Dpu_BankAttr:$input, DenseI64ArrayAttr:$input_shape,
                       Dpu_BankAttr:$output, DenseI64ArrayAttr:$output_shape,
                       DefaultValuedAttr<Dpu_EdgeMaskAttr,
                           "::mlir::dpu::EdgeMask::none">:$edge);

def Dpu_ConvOp : Dpu_InstOp<"conv"> {
  let summary = "CONV: convolution of one tile";
  let description = [{
    Convolves the input tile (`input`, `input_shape` = [rows, cols,
    channels]) into the output tile (`output`, `output_shape` = [rows, cols,
    channels]) with the weights at `weights` and the biases at `bias` (both
    in the same parameter bank group), with the settings of the last
    `dpu.conv_init`. `edge` lists the layer borders the tile touches: only
    those get the layer's padding. Semantics: docs/isa.md, "CONV".
  }];
  let arguments = !con(TileArgs,
                       (ins Dpu_BankAttr:$weights, Dpu_BankAttr:$bias),
                       DepsArgs);
  let assemblyFormat = "`in` $input $input_shape `->` `out` $output "
                       "$output_shape `weights` $weights `bias` $bias "
                       "(`edge` `` $edge^)? "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_DwConvOp : Dpu_InstOp<"dwconv"> {
  let summary = "DWCONV: depthwise convolution of one tile";
  let description = [{
    As `dpu.conv` with one output channel per input channel (the channel
    counts of `input_shape` and `output_shape` are equal), with the settings
    of the last `dpu.dwconv_init`.
  }];
  let arguments = !con(TileArgs,
                       (ins Dpu_BankAttr:$weights, Dpu_BankAttr:$bias),
                       DepsArgs);
  let assemblyFormat = "`in` $input $input_shape `->` `out` $output "
                       "$output_shape `weights` $weights `bias` $bias "
                       "(`edge` `` $edge^)? "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_PoolInitOp : Dpu_InstOp<"pool_init"> {
  let summary = "POOLINIT: configure the pool engine";
  let description = [{
    Sets the pooling `kind` (max, avg), `kernel`, `stride`, `pad` (each side
    smaller than the kernel), the average multiplier `mul` (1 for max) and
    the signed `shift` (>= 0: rounding right shift; < 0: left shift) for the
    `dpu.pool` instructions that follow.
  }];
  let arguments = !con((ins Dpu_PoolKindAttr:$kind, DenseI64ArrayAttr:$kernel,
                            DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                            DefaultValuedAttr<I64Attr, "1">:$mul,
                            DefaultValuedAttr<I64Attr, "0">:$shift),
                       DepsArgs);
  let assemblyFormat = "`` $kind `kernel` $kernel `stride` $stride `pad` $pad "
                       "(`mul` $mul^)? (`shift` $shift^)? "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_PoolOp : Dpu_InstOp<"pool"> {
  let summary = "POOL: pooling of one tile";
  let description = [{
    Pools the input tile into the output tile (the channel counts of
    `input_shape` and `output_shape` are equal) with the settings of the
    last `dpu.pool_init`. Semantics: docs/isa.md, "POOL".
  }];
  let arguments = !con(TileArgs, DepsArgs);
  let assemblyFormat = "`in` $input $input_shape `->` `out` $output "
                       "$output_shape (`edge` `` $edge^)? "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_EltwiseOp : Dpu_InstOp<"eltwise"> {
  let summary = "ELTWISE: element-wise add of two tiles";
  let description = [{
    out = sat(relu?(rshift((a << shift_a) + (b << shift_b), shift_out))) over
    `shape` = [rows, cols, channels] (docs/isa.md, "ELTWISE").
  }];
  let arguments = !con((ins Dpu_BankAttr:$lhs, Dpu_BankAttr:$rhs,
                            Dpu_BankAttr:$output, DenseI64ArrayAttr:$shape,
                            DefaultValuedAttr<I64Attr, "0">:$shift_lhs,
                            DefaultValuedAttr<I64Attr, "0">:$shift_rhs,
                            DefaultValuedAttr<I64Attr, "0">:$shift_out,
                            UnitAttr:$relu),
                       DepsArgs);
  let assemblyFormat = "$lhs (`shl` $shift_lhs^)? `,` $rhs (`shl` "
                       "$shift_rhs^)? `->` $output $shape (`shr` "
                       "$shift_out^)? (`relu` $relu^)? "
                       "(`wait` `` $wait^)? (`notify` `` $notify^)? attr-dict";
}

def Dpu_EndOp : Dpu_InstOp<"end"> {
  let summary = "END: end of the program";
  let description = [{
    The last instruction of every program; it runs once all engines have
    drained, so it has no dependency flags.
  }];
  let assemblyFormat = "attr-dict";
}

#endif // VAI_DIALECT_DPU_DPUOPS_TD
