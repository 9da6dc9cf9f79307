// RUN: vai-opt %s -split-input-file -verify-diagnostics
// Every verifier of the dpu dialect fails here once: the program structure,
// then each instruction's fields (the ISA's encoding limits, lib/ISA).

// expected-error @+1 {{'dpu.program' op the program does not end with END}}
dpu.program @no_end target "DPUCADF8H_ISA0" {
  dpu.load ddr <2, 0> -> bank <0, 0> shape [4, 4, 16] strides [64, 16]
}

// -----

dpu.program @end_not_last target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.end' op END before the last instruction (2 instructions follow it)}}
  dpu.end
  dpu.load ddr <2, 0> -> bank <0, 0> shape [4, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @foreign_op target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'arith.constant' op is not a dpu instruction; a dpu.program holds only dpu instruction ops}}
  %c = arith.constant 0 : i32
  dpu.end
}

// -----

func.func @outside() {
  // expected-error @+1 {{'dpu.end' op expects parent op 'dpu.program'}}
  dpu.end
  return
}

// -----

dpu.program @conv_no_init target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv' op CONV without a preceding CONVINIT}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 16] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @dwconv_no_init target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.dwconv' op DWCONV without a preceding DWINIT}}
  dpu.dwconv in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 16] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @pool_no_init target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.pool' op POOL without a preceding POOLINIT}}
  dpu.pool in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 16]
  dpu.end
}

// -----

dpu.program @conv_window target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op CONV: 4x4 output tile reads 6 input rows but the 4x4 input tile with its padding (edge=left|right) has 4}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [4, 4, 16] weights <3, 0> bias <3, 100> edge left|right
  dpu.end
}

// -----

dpu.program @pool_window target "DPUCADF8H_ISA0" {
  dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0]
  // expected-error @+1 {{'dpu.pool' op POOL: 3x2 output tile reads 6 input rows but the 5x4 input tile with its padding (edge=none) has 5}}
  dpu.pool in <0, 0> [5, 4, 16] -> out <1, 0> [3, 2, 16]
  dpu.end
}

// -----

dpu.program @load_rows target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op rows is 0, expected 1-65536}}
  dpu.load ddr <2, 0> -> bank <0, 0> shape [0, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @load_channels target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op channels is 8193, expected 1-8192}}
  dpu.load ddr <2, 0> -> bank <0, 0> shape [1, 4, 8193] strides [64, 16]
  dpu.end
}

// -----

dpu.program @load_addr target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op bank_addr is 131072, expected 0-131071}}
  dpu.load ddr <2, 0> -> bank <0, 131072> shape [4, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @load_group target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op group is 4, expected 0-3}}
  dpu.load ddr <2, 0> -> bank <4, 0> shape [4, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @load_reg target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op reg is 8, expected 0-7}}
  dpu.load ddr <8, 0> -> bank <0, 0> shape [4, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @load_offset target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op ddr_offset is 4294967296, expected 0-4294967295}}
  dpu.load ddr <2, 4294967296> -> bank <0, 0> shape [4, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @load_stride target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op row_stride is 16777216, expected 0-16777215}}
  dpu.load ddr <2, 0> -> bank <0, 0> shape [4, 4, 16] strides [16777216, 16]
  dpu.end
}

// -----

dpu.program @load_wait_self target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op waits for its own engine (load); instructions of one engine run in order}}
  dpu.load ddr <2, 0> -> bank <0, 0> shape [4, 4, 16] strides [64, 16] wait load|conv
  dpu.end
}

// -----

dpu.program @load_notify_self target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op notifies its own engine (load)}}
  dpu.load ddr <2, 0> -> bank <0, 0> shape [4, 4, 16] strides [64, 16] notify load
  dpu.end
}

// -----

dpu.program @save_reg0 target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.save' op reg 0 holds the parameters, which are read-only; SAVE needs reg 1 or higher}}
  dpu.save bank <0, 0> -> ddr <0, 0> shape [4, 4, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @save_cols target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.save' op cols is 65537, expected 1-65536}}
  dpu.save bank <0, 0> -> ddr <1, 0> shape [1, 65537, 16] strides [64, 16]
  dpu.end
}

// -----

dpu.program @init_kernel_size target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op kernel must have 2 values [KH, KW], got 1}}
  dpu.conv_init kernel [3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_stride_size target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op stride must have 2 values [SH, SW], got 3}}
  dpu.conv_init kernel [3, 3] stride [1, 1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_dilation_size target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op dilation must have 2 values [DH, DW], got 1}}
  dpu.conv_init kernel [3, 3] stride [1, 1] dilation [2] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_pad_size target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op pad must have 4 values [top, bottom, left, right], got 2}}
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_kernel target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op kernel_w is 17, expected 1-16}}
  dpu.conv_init kernel [3, 17] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_stride target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op stride_h is 9, expected 1-8}}
  dpu.conv_init kernel [3, 3] stride [9, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_dilation target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op dilation_h is 0, expected 1-16}}
  dpu.conv_init kernel [3, 3] stride [1, 1] dilation [0, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_pad target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op pad_right is 16, expected 0-15}}
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 16] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_shift_bias target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op shift_bias is 16, expected 0-15}}
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 16 shift_cut 0
  dpu.end
}

// -----

dpu.program @init_shift_cut target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op shift_cut is -1, expected 0-31}}
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut -1
  dpu.end
}

// -----

dpu.program @init_act_max_relu target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op act_max is 6 but act is relu; act_max must be 0 unless act is relu6}}
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0 act relu act_max 6
  dpu.end
}

// -----

dpu.program @init_act_max target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.conv_init' op act_max is 128, expected 0-127}}
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0 act relu6 act_max 128
  dpu.end
}

// -----

dpu.program @dwinit_kernel target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.dwconv_init' op kernel_h is 0, expected 1-16}}
  dpu.dwconv_init kernel [0, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  dpu.end
}

// -----

dpu.program @conv_shape target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op input_shape must have 3 values [rows, cols, channels], got 2}}
  dpu.conv in <0, 0> [4, 4] -> out <1, 0> [4, 4, 16] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @conv_out_shape target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op output_shape must have 3 values [rows, cols, channels], got 4}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [1, 4, 4, 16] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @conv_weight_groups target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op weights and bias must be in the same bank group, got 3 and 2}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 16] weights <3, 0> bias <2, 100>
  dpu.end
}

// -----

dpu.program @conv_channels target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op out_channels is 0, expected 1-8192}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 0] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @conv_tile_rows target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op in_rows is 8193, expected 1-8192}}
  dpu.conv in <0, 0> [8193, 4, 16] -> out <1, 0> [2, 2, 16] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @conv_weight_addr target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op weight_addr is -1, expected 0-131071}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 16] weights <3, -1> bias <3, 100>
  dpu.end
}

// -----

dpu.program @dwconv_channels target "DPUCADF8H_ISA0" {
  dpu.dwconv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.dwconv' op input and output channel counts differ (16 vs 32)}}
  dpu.dwconv in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 32] weights <3, 0> bias <3, 100>
  dpu.end
}

// -----

dpu.program @pool_channels target "DPUCADF8H_ISA0" {
  dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0]
  // expected-error @+1 {{'dpu.pool' op input and output channel counts differ (16 vs 8)}}
  dpu.pool in <0, 0> [4, 4, 16] -> out <1, 0> [2, 2, 8]
  dpu.end
}

// -----

dpu.program @pool_init_kernel_size target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.pool_init' op kernel must have 2 values [KH, KW], got 3}}
  dpu.pool_init max kernel [2, 2, 2] stride [2, 2] pad [0, 0, 0, 0]
  dpu.end
}

// -----

dpu.program @pool_init_mul target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.pool_init' op max pooling needs mul 1, got 2}}
  dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0] mul 2
  dpu.end
}

// -----

dpu.program @pool_init_mul_range target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.pool_init' op mul is 256, expected 1-255}}
  dpu.pool_init avg kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0] mul 256
  dpu.end
}

// -----

dpu.program @pool_init_shift target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.pool_init' op shift is -33, expected -32-31}}
  dpu.pool_init avg kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0] shift -33
  dpu.end
}

// -----

dpu.program @pool_init_pad target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.pool_init' op padding must be smaller than the kernel (a window would hold only padding)}}
  dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 2, 0, 0]
  dpu.end
}

// -----

dpu.program @eltwise_shape target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.eltwise' op shape must have 3 values [rows, cols, channels], got 2}}
  dpu.eltwise <0, 0>, <1, 0> -> <2, 0> [4, 4]
  dpu.end
}

// -----

dpu.program @eltwise_shift target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.eltwise' op shift_a is 16, expected 0-15}}
  dpu.eltwise <0, 0> shl 16, <1, 0> -> <2, 0> [4, 4, 16]
  dpu.end
}

// -----

dpu.program @eltwise_shift_out target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.eltwise' op shift_out is 32, expected 0-31}}
  dpu.eltwise <0, 0>, <1, 0> -> <2, 0> [4, 4, 16] shr 32
  dpu.end
}

// -----

dpu.program @eltwise_notify_self target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.eltwise' op notifies its own engine (eltwise)}}
  dpu.eltwise <0, 0>, <1, 0> -> <2, 0> [4, 4, 16] notify save|eltwise
  dpu.end
}
