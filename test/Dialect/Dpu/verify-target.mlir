// RUN: vai-opt %s -split-input-file -dpu-verify-target -verify-diagnostics
// Each check of -dpu-verify-target against DPUCADF8H_ISA0 (VB0-VB2: 8 banks
// x 8192 words = 65536 words of 16 bytes; CONVW: 16 x 8192 = 131072 words)
// fails once. The last program uses every group at its limits and passes.

// expected-error @+1 {{'dpu.program' op unknown target 'DPUCZDX8G'; supported targets: DPUCADF8H_ISA0}}
dpu.program @unknown_target target "DPUCZDX8G" {
  dpu.end
}

// -----

dpu.program @feature_map_past_end target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op bank: 2 words at address 65535 run past the end of VB0 (65536 words)}}
  dpu.load ddr <2, 0> -> bank <0, 65535> shape [2, 1, 16] strides [16, 16]
  dpu.end
}

// -----

dpu.program @channels_round_up target "DPUCADF8H_ISA0" {
  // 17 channels take 2 words per pixel.
  // expected-error @+1 {{'dpu.save' op bank: 2 words at address 65535 run past the end of VB2 (65536 words)}}
  dpu.save bank <2, 65535> -> ddr <1, 0> shape [1, 1, 17] strides [17, 17]
  dpu.end
}

// -----

dpu.program @activation_into_weights target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op loads into parameter group CONVW must read reg 0 (parameters), got reg 2}}
  dpu.load ddr <2, 0> -> bank <3, 0> shape [1, 1, 16] strides [16, 16]
  dpu.end
}

// -----

dpu.program @weights_past_end target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.load' op bank: 16 words at address 131070 run past the end of CONVW (131072 words)}}
  dpu.load ddr <0, 0> -> bank <3, 131070> shape [16, 1, 16] strides [16, 16]
  dpu.end
}

// -----

dpu.program @save_from_weights target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.save' op bank: bank group 3 (CONVW) holds parameters, expected a feature-map group}}
  dpu.save bank <3, 0> -> ddr <1, 0> shape [1, 1, 16] strides [16, 16]
  dpu.end
}

// -----

dpu.program @conv_weights_in_feature_maps target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [1, 1] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op weights: bank group 2 (VB2) holds feature maps, expected a parameter group}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [4, 4, 16] weights <2, 0> bias <2, 16>
  dpu.end
}

// -----

dpu.program @conv_weight_block_past_end target "DPUCADF8H_ISA0" {
  // 32 output channels x 3 x 3 x ceil(40 / 16) input words = 864 words.
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op weights: 864 words at address 130300 run past the end of CONVW (131072 words)}}
  dpu.conv in <0, 0> [4, 4, 40] -> out <1, 0> [2, 2, 32] weights <3, 130300> bias <3, 0>
  dpu.end
}

// -----

dpu.program @conv_bias_past_end target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [1, 1] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op bias: 3 words at address 131070 run past the end of CONVW (131072 words)}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <1, 0> [4, 4, 33] weights <3, 0> bias <3, 131070>
  dpu.end
}

// -----

dpu.program @conv_input_in_weights target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [1, 1] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op input: bank group 3 (CONVW) holds parameters, expected a feature-map group}}
  dpu.conv in <3, 0> [4, 4, 16] -> out <1, 0> [4, 4, 16] weights <3, 100> bias <3, 200>
  dpu.end
}

// -----

dpu.program @conv_in_place target "DPUCADF8H_ISA0" {
  dpu.conv_init kernel [1, 1] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.conv' op output [8, 24) overlaps input [0, 16) in bank group 0}}
  dpu.conv in <0, 0> [4, 4, 16] -> out <0, 8> [4, 4, 16] weights <3, 0> bias <3, 16>
  dpu.end
}

// -----

dpu.program @dwconv_output_past_end target "DPUCADF8H_ISA0" {
  dpu.dwconv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias 0 shift_cut 0
  // expected-error @+1 {{'dpu.dwconv' op output: 64 words at address 65500 run past the end of VB1 (65536 words)}}
  dpu.dwconv in <0, 0> [4, 4, 64] -> out <1, 65500> [4, 4, 64] weights <3, 0> bias <3, 36> edge top|bottom|left|right
  dpu.end
}

// -----

dpu.program @pool_overlap target "DPUCADF8H_ISA0" {
  dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0]
  // expected-error @+1 {{'dpu.pool' op output [15, 19) overlaps input [0, 16) in bank group 2}}
  dpu.pool in <2, 0> [4, 4, 16] -> out <2, 15> [2, 2, 16]
  dpu.end
}

// -----

dpu.program @eltwise_partial_overlap target "DPUCADF8H_ISA0" {
  // expected-error @+1 {{'dpu.eltwise' op output [1, 17) overlaps lhs [0, 16) in bank group 0}}
  dpu.eltwise <0, 0>, <1, 0> -> <0, 1> [4, 4, 16]
  dpu.end
}

// -----

// Everything at the limits of DPUCADF8H_ISA0, in place eltwise included.
dpu.program @legal target "DPUCADF8H_ISA0" {
  dpu.load ddr <0, 0> -> bank <3, 0> shape [16, 256, 16] strides [4096, 16]
  dpu.load ddr <0, 65536> -> bank <3, 131071> shape [1, 1, 16] strides [0, 0]
  dpu.load ddr <2, 0> -> bank <0, 0> shape [16, 16, 16] strides [256, 16] notify conv
  dpu.conv_init kernel [16, 16] stride [8, 8] pad [15, 15, 15, 15] shift_bias 15 shift_cut 31 act relu6 act_max 127
  dpu.conv in <0, 0> [16, 16, 16] -> out <1, 65535> [1, 1, 16] weights <3, 0> bias <3, 131071> edge top|left wait load notify eltwise
  dpu.dwconv_init kernel [16, 16] stride [8, 8] pad [15, 15, 15, 15] shift_bias 0 shift_cut 0 act leaky_relu
  dpu.dwconv in <0, 0> [16, 16, 16] -> out <2, 0> [1, 1, 16] weights <3, 0> bias <3, 256>
  dpu.pool_init avg kernel [16, 16] stride [8, 8] pad [15, 15, 15, 15] mul 255 shift 31
  dpu.pool in <0, 0> [16, 16, 16] -> out <2, 1> [2, 2, 16] edge bottom|right
  dpu.eltwise <1, 65535>, <2, 0> -> <1, 65535> [1, 1, 16] relu wait conv
  dpu.end
}
