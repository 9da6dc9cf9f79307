// RUN: vai-opt %s -split-input-file -vai-partition --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s
// RUN: vai-opt %s -split-input-file -vai-partition=inspect=true -o /dev/null | FileCheck %s --check-prefix=INSPECT
// RUN: not vai-opt %s -split-input-file -vai-partition=target=NOPE 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: {{.*}}NOPE

// Quantized conv and pool on the DPU (subgraph 0); the float softmax on the
// CPU (subgraph 1; its result is also returned as float, so it is "not
// quantized"); the quantized conv after it is a new DPU subgraph (2).
// CHECK-LABEL: func @split
// CHECK: vai.conv2d {{.*}}vai.device = "DPU", vai.subgraph = 0 : i64{{.*}} loc("conv1")
// CHECK: vai.max_pool2d {{.*}}vai.device = "DPU", vai.subgraph = 0 : i64{{.*}} loc("pool1")
// CHECK: vai.softmax {{.*}}vai.cpu_reason = "not quantized", vai.device = "CPU", vai.subgraph = 1 : i64{{.*}} loc("prob")
// CHECK: vai.conv2d {{.*}}vai.device = "DPU", vai.subgraph = 2 : i64{{.*}} loc("conv2")
// INSPECT: layer  op              device  subgraph  reason
// INSPECT-NEXT: conv1  vai.conv2d      DPU     0
// INSPECT-NEXT: pool1  vai.max_pool2d  DPU     0
// INSPECT-NEXT: prob   vai.softmax     CPU     1         not quantized
// INSPECT-NEXT: conv2  vai.conv2d      DPU     2
// INSPECT-NEXT: function split: 3 DPU layers, 1 CPU layers
func.func @split(%arg0: tensor<1x8x8x1xf32> loc("data")) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x8x8x1xf32>
  %w = vai.constant dense<0.25> : tensor<2x3x3x1xf32>
  %wf = vai.fix %w {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<2x3x3x1xf32>
  %c = vai.conv2d %0, %wf {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x1xf32>, tensor<2x3x3x1xf32>) -> tensor<1x8x8x2xf32> loc("conv1")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x8x8x2xf32>
  %p = vai.max_pool2d %cf {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x2xf32>) -> tensor<1x4x4x2xf32> loc("pool1")
  %pf = vai.fix %p {fix_point = 5 : i64, symmetric = true} : tensor<1x4x4x2xf32>
  %s = vai.softmax %pf {axis = 3 : i64} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> loc("prob")
  %sf = vai.fix %s {fix_point = 7 : i64, symmetric = true} : tensor<1x4x4x2xf32>
  %w2 = vai.constant dense<0.5> : tensor<2x1x1x2xf32>
  %w2f = vai.fix %w2 {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<2x1x1x2xf32>
  %c2 = vai.conv2d %sf, %w2f : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x4x4x2xf32> loc("conv2")
  %c2f = vai.fix %c2 {fix_point = 6 : i64, symmetric = true} : tensor<1x4x4x2xf32>
  return %c2f, %s : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>
}

// -----

// Reasons: a kernel outside the conv engine's set, an op no engine runs,
// and a layer whose input rows cannot fit a bank even one output row at a
// time (the ISA has no partial sums across input channels).
// CHECK-LABEL: func @reasons
// CHECK: vai.conv2d {{.*}}vai.cpu_reason = "kernel 17x17 is outside the conv engine's {{.*}}", vai.device = "CPU"{{.*}} loc("big_kernel")
// CHECK: vai.sigmoid {{.*}}vai.cpu_reason = "no DPU engine runs vai.sigmoid", vai.device = "CPU"{{.*}} loc("sig")
// CHECK: vai.conv2d {{.*}}vai.cpu_reason = "fits no bank even when tiled: the 3 input rows one output row reads (3x4096x4096) need 3145728 words, half a feature-map group holds 32768", vai.device = "CPU"{{.*}} loc("wide")
func.func @reasons(%arg0: tensor<1x20x20x1xf32> loc("data"), %arg1: tensor<1x3x4096x4096xf32> loc("wide_in")) -> (tensor<1x4x4x1xf32>, tensor<1x1x4096x16xf32>) {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x20x20x1xf32>
  %w = vai.constant dense<0.25> : tensor<1x17x17x1xf32>
  %wf = vai.fix %w {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<1x17x17x1xf32>
  %c = vai.conv2d %0, %wf : (tensor<1x20x20x1xf32>, tensor<1x17x17x1xf32>) -> tensor<1x4x4x1xf32> loc("big_kernel")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x4x4x1xf32>
  %s = vai.sigmoid %cf : tensor<1x4x4x1xf32> loc("sig")
  %sf = vai.fix %s {fix_point = 7 : i64, symmetric = true} : tensor<1x4x4x1xf32>
  %1 = vai.fix %arg1 {fix_point = 6 : i64, symmetric = true} : tensor<1x3x4096x4096xf32>
  %w2 = vai.constant dense<0.01> : tensor<16x3x1x4096xf32>
  %w2f = vai.fix %w2 {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<16x3x1x4096xf32>
  %c2 = vai.conv2d %1, %w2f : (tensor<1x3x4096x4096xf32>, tensor<16x3x1x4096xf32>) -> tensor<1x1x4096x16xf32> loc("wide")
  %c2f = vai.fix %c2 {fix_point = 5 : i64, symmetric = true} : tensor<1x1x4096x16xf32>
  return %sf, %c2f : tensor<1x4x4x1xf32>, tensor<1x1x4096x16xf32>
}

// -----

// A zero pad folds into the conv after it (DPU); a pad feeding a pool
// cannot (CPU, with the reason).
// CHECK-LABEL: func @pads
// CHECK: vai.pad {{.*}}vai.device = "DPU", vai.subgraph = 0 : i64{{.*}} loc("pad_conv")
// CHECK: vai.conv2d {{.*}}vai.device = "DPU", vai.subgraph = 0 : i64{{.*}} loc("conv")
// CHECK: vai.pad {{.*}}vai.cpu_reason = "zero pad whose result does not feed only a convolution {{.*}}", vai.device = "CPU", vai.subgraph = 1 : i64{{.*}} loc("pad_pool")
func.func @pads(%arg0: tensor<1x4x4x1xf32> loc("data")) -> (tensor<1x4x4x1xf32>, tensor<1x5x5x1xf32>) {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x4x4x1xf32>
  %p = vai.pad %0 {low = array<i64: 0, 1, 1, 0>, high = array<i64: 0, 1, 1, 0>} : (tensor<1x4x4x1xf32>) -> tensor<1x6x6x1xf32> loc("pad_conv")
  %pf = vai.fix %p {fix_point = 6 : i64, symmetric = true} : tensor<1x6x6x1xf32>
  %w = vai.constant dense<0.25> : tensor<1x3x3x1xf32>
  %wf = vai.fix %w {fix_point = 7 : i64, round_mode = #vai<round std_round>} : tensor<1x3x3x1xf32>
  %c = vai.conv2d %pf, %wf : (tensor<1x6x6x1xf32>, tensor<1x3x3x1xf32>) -> tensor<1x4x4x1xf32> loc("conv")
  %cf = vai.fix %c {fix_point = 5 : i64, symmetric = true} : tensor<1x4x4x1xf32>
  %q = vai.pad %cf {low = array<i64: 0, 1, 1, 0>, high = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x1xf32>) -> tensor<1x5x5x1xf32> loc("pad_pool")
  %qf = vai.fix %q {fix_point = 5 : i64, symmetric = true} : tensor<1x5x5x1xf32>
  return %cf, %qf : tensor<1x4x4x1xf32>, tensor<1x5x5x1xf32>
}

