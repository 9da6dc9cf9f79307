// RUN: vai-opt %s -split-input-file -vai-partition -vai-lower-to-dpu -dpu-verify-target --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s

// Structure: conv (relu) -> max pool -> flatten -> inner product, one
// subgraph. The weights and biases are one reg-0 blob read by LOADs into
// the parameter group (3); the input is reg 2, the output reg 3, the
// intermediate maps reg 1; the flatten is a re-interpretation of the pool's
// bytes (no instruction). Each instruction keeps its layer's location.
// CHECK-LABEL: dpu.program @subgraph_0 target "DPUCADF8H_ISA0" attributes {cycles = {{[0-9]+}} : i64,
// CHECK-SAME: io = [{direction = "in", fix_point = 6 : i64, name = "data", offset = 0 : i64, reg = 2 : i64, shape = [1, 8, 8, 3]}, {direction = "out", fix_point = 4 : i64, name = "fc", offset = 0 : i64, reg = 3 : i64, shape = [1, 10]}]
// CHECK-SAME: macs = 30208 : i64
// CHECK-SAME: params = dense_resource<subgraph_0_params> : tensor<762xi8>
// CHECK-SAME: reg_sizes = array<i64: 762, 320, 192, 16>, subgraph = 0 : i64
// CHECK-NEXT: dpu.conv_init kernel [3, 3] stride [1, 1] pad [1, 1, 1, 1] shift_bias {{[0-9]+}} shift_cut {{[0-9]+}} act relu loc("conv1")
// CHECK-NEXT: dpu.load ddr <0, 0> -> bank <3, 65536> shape [4, 9, 3] strides [27, 3] loc("conv1")
// CHECK-NEXT: dpu.load ddr <0, 108> -> bank <3, 65572> shape [1, 1, 4] strides [4, 4] loc("conv1")
// CHECK-NEXT: dpu.load ddr <2, 0> -> bank <0, 32768> shape [8, 8, 3] strides [24, 3] notify conv loc("conv1")
// CHECK-NEXT: dpu.conv in <0, 32768> [8, 8, 3] -> out <1, 32768> [8, 8, 4] weights <3, 65536> bias <3, 65572> edge top|bottom|left|right wait load notify {{.*}} loc("conv1")
// CHECK-NEXT: dpu.save bank <1, 32768> -> ddr <1, 0> shape [8, 8, 4] strides [32, 4] wait conv {{.*}} loc("conv1")
// CHECK-NEXT: dpu.pool_init max kernel [2, 2] stride [2, 2] pad [0, 0, 0, 0] loc("pool1")
// CHECK-NEXT: dpu.load ddr <1, 0> -> bank <0, 0> shape [8, 8, 4] strides [32, 4] wait save notify pool loc("pool1")
// CHECK-NEXT: dpu.pool in <0, 0> [8, 8, 4] -> out <1, 0> [4, 4, 4] edge top|bottom|left|right wait load notify save loc("pool1")
// CHECK-NEXT: dpu.save bank <1, 0> -> ddr <1, 256> shape [4, 4, 4] strides [16, 4] wait pool notify load loc("pool1")
// CHECK-NEXT: dpu.conv_init kernel [1, 1] stride [1, 1] pad [0, 0, 0, 0] {{.*}} loc("fc")
// CHECK-NEXT: dpu.load ddr <0, 112> -> bank <3, 0> shape [10, 1, 64] strides [64, 64] loc("fc")
// CHECK-NEXT: dpu.load ddr <0, 752> -> bank <3, 40> shape [1, 1, 10] strides [10, 10] loc("fc")
// CHECK-NEXT: dpu.load ddr <1, 256> -> bank <0, 32768> shape [1, 1, 64] strides [64, 64] wait save|conv notify conv loc("fc")
// CHECK-NEXT: dpu.conv in <0, 32768> [1, 1, 64] -> out <1, 32768> [1, 1, 10] weights <3, 0> bias <3, 40> edge top|bottom|left|right wait load|save notify save loc("fc")
// CHECK-NEXT: dpu.save bank <1, 32768> -> ddr <3, 0> shape [1, 1, 10] strides [10, 10] wait conv loc("fc")
// CHECK-NEXT: dpu.end loc("fc")
func.func @lenet(%arg0: tensor<1x8x8x3xf32> loc("data")) -> tensor<1x10xf32> {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x8x8x3xf32> loc("data")
  %w = vai.constant dense<0.25> : tensor<4x3x3x3xf32>
  %wf = vai.fix %w {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<4x3x3x3xf32>
  %b = vai.constant dense<0.5> : tensor<4xf32>
  %bf = vai.fix %b {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<4xf32>
  %c = vai.conv2d %0, %wf, %bf {pad = array<i64: 1, 1, 1, 1>, act = #vai<act relu>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32> loc("conv1")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x8x8x4xf32> loc("conv1")
  %p = vai.max_pool2d %cf {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32> loc("pool1")
  %pf = vai.fix %p {fix_point = 5 : i64, symmetric = true} : tensor<1x4x4x4xf32> loc("pool1")
  %f = vai.flatten %pf {axis = 1 : i64} : (tensor<1x4x4x4xf32>) -> tensor<1x64xf32> loc("flat")
  %ff = vai.fix %f {fix_point = 5 : i64, symmetric = true} : tensor<1x64xf32> loc("flat")
  %fw = vai.constant dense<0.125> : tensor<10x64xf32>
  %fwf = vai.fix %fw {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<10x64xf32>
  %fc = vai.inner_product %ff, %fwf : (tensor<1x64xf32>, tensor<10x64xf32>) -> tensor<1x10xf32> loc("fc")
  %fcf = vai.fix %fc {fix_point = 4 : i64, symmetric = true} : tensor<1x10xf32> loc("fc")
  return %fcf : tensor<1x10xf32>
}

// -----

// Tiling: a 3x3 conv with 512 input and 512 output channels on a 64x64 map.
// One output row's weights for all 512 channels exceed half the parameter
// group, so the output channels come in 3 groups of 176/176/160 (whole
// reductions over the 512 input channels: no partial sums); the rows come
// in bands whose input (with its one-row halo above and below) fits half a
// feature-map group. Only the first band gets the top padding, only the
// last the bottom padding. Bands alternate between the two halves of VB0
// (input) and VB1 (output): the LOAD of band t+1 waits for nothing, the
// LOAD of band t+2 waits for the CONV of band t (double buffering).
// CHECK-LABEL: dpu.program @subgraph_0
// CHECK-SAME: macs = 38654705664 : i64
// CHECK: dpu.load ddr <0, 0> -> bank <3, 65536> shape [176, 9, 512] strides [4608, 512] loc("big")
// CHECK: dpu.load ddr <2, 0> -> bank <0, 32768> shape [14, 64, 512] strides [32768, 512] notify conv loc("big")
// CHECK-NEXT: dpu.conv in <0, 32768> [14, 64, 512] -> out <1, 32768> [13, 64, 176] weights <3, 65536> bias <3, 116224> edge top|left|right wait load notify load|save
// CHECK-NEXT: dpu.save bank <1, 32768> -> ddr <3, 0> shape [13, 64, 176] strides [32768, 512] wait conv
// CHECK-NEXT: dpu.load ddr <2, 393216> -> bank <0, 0> shape [15, 64, 512] strides [32768, 512] notify conv loc("big")
// CHECK-NEXT: dpu.conv in <0, 0> [15, 64, 512] -> out <1, 0> [13, 64, 176] {{.*}} edge left|right wait load
// CHECK-NEXT: dpu.save
// CHECK-NEXT: dpu.load ddr <2, 819200> -> bank <0, 32768> shape [15, 64, 512] strides [32768, 512] wait conv notify conv
// CHECK: edge bottom|left|right
// CHECK: dpu.load ddr <0, 811008> -> bank <3, 0> shape [176, 9, 512] strides [4608, 512]
// CHECK: dpu.save bank <1, 0> -> ddr <3, 176> shape [13, 64, 176] strides [32768, 512]
// CHECK: dpu.load ddr <0, 1622016> -> bank <3, 65536> shape [160, 9, 512] strides [4608, 512]
// CHECK: dpu.save bank <1, 32768> -> ddr <3, 352> shape [13, 64, 160] strides [32768, 512]
// CHECK: dpu.end
func.func @tiled(%arg0: tensor<1x64x64x512xf32> loc("data")) -> tensor<1x64x64x512xf32> {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x64x64x512xf32> loc("data")
  %w = vai.constant dense<0.25> : tensor<512x3x3x512xf32>
  %wf = vai.fix %w {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<512x3x3x512xf32>
  %c = vai.conv2d %0, %wf {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x64x64x512xf32>, tensor<512x3x3x512xf32>) -> tensor<1x64x64x512xf32> loc("big")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x64x64x512xf32> loc("big")
  return %cf : tensor<1x64x64x512xf32>
}

// -----

// DDR planning: a chain of 1x1 convs a -> b -> c -> d. a's map (reg 1,
// offset 0) is dead once b has read it, so c reuses offset 0 while b's
// lives at 1024; d is the subgraph output (reg 3). Reuse is safe in
// parallel: c's SAVE into a's old bytes waits for the LOAD that read them.
// CHECK-LABEL: dpu.program @subgraph_0
// CHECK-SAME: reg_sizes = array<i64: {{[0-9]+}}, 2048, 1024, 1024>
// CHECK: dpu.save {{.*}} -> ddr <1, 0> {{.*}} loc("a")
// CHECK: dpu.save {{.*}} -> ddr <1, 1024> {{.*}} loc("b")
// CHECK: dpu.save {{.*}} -> ddr <1, 0> {{.*}} wait {{.*}}conv{{.*}} loc("c")
// CHECK: dpu.save {{.*}} -> ddr <3, 0> {{.*}} loc("d")
func.func @reuse(%arg0: tensor<1x8x8x16xf32> loc("data")) -> tensor<1x8x8x16xf32> {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x8x8x16xf32> loc("data")
  %w = vai.constant dense<0.25> : tensor<16x1x1x16xf32>
  %wf = vai.fix %w {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<16x1x1x16xf32>
  %a = vai.conv2d %0, %wf : (tensor<1x8x8x16xf32>, tensor<16x1x1x16xf32>) -> tensor<1x8x8x16xf32> loc("a")
  %af = vai.fix %a {fix_point = 5 : i64, symmetric = true} : tensor<1x8x8x16xf32> loc("a")
  %b = vai.conv2d %af, %wf : (tensor<1x8x8x16xf32>, tensor<16x1x1x16xf32>) -> tensor<1x8x8x16xf32> loc("b")
  %bf = vai.fix %b {fix_point = 5 : i64, symmetric = true} : tensor<1x8x8x16xf32> loc("b")
  %c = vai.conv2d %bf, %wf : (tensor<1x8x8x16xf32>, tensor<16x1x1x16xf32>) -> tensor<1x8x8x16xf32> loc("c")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x8x8x16xf32> loc("c")
  %d = vai.conv2d %cf, %wf : (tensor<1x8x8x16xf32>, tensor<16x1x1x16xf32>) -> tensor<1x8x8x16xf32> loc("d")
  %df = vai.fix %d {fix_point = 5 : i64, symmetric = true} : tensor<1x8x8x16xf32> loc("d")
  return %df : tensor<1x8x8x16xf32>
}

