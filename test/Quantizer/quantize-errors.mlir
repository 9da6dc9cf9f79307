// RUN: vai-opt %s -split-input-file -verify-diagnostics -vai-quantize=calib-table=%S/Inputs/quantize-table.txt
// RUN: not vai-opt %s -split-input-file -vai-quantize 2>&1 | FileCheck %s --check-prefix=NOTABLE
// RUN: not vai-opt %s -split-input-file -vai-quantize=calib-table=%t.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not vai-opt %s -split-input-file "-vai-quantize=calib-table=%S/Inputs/quantize-table.txt target=DPUCZDX8G" 2>&1 | FileCheck %s --check-prefix=TARGET
// NOTABLE: error: -vai-quantize needs calib-table=<file>
// MISSING: error: cannot read calibration table '{{.*}}.missing'
// TARGET: error: {{.*}}DPUCZDX8G{{.*}}DPUCADF8H_ISA0

// A tensor the table does not list.
// expected-error @+1 {{the calibration table has no entry for tensor 'unlisted' (used by layer 'unlisted')}}
func.func @missing(%x: tensor<1x4x4x2xf32> loc("data")) -> tensor<1x4x4x2xf32> {
  %w = vai.constant dense<0.5> : tensor<2x1x1x2xf32>
  %c = vai.conv2d %x, %w : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x4x4x2xf32> loc("unlisted")
  return %c : tensor<1x4x4x2xf32>
}

// -----

// Weights holding NaN.
// expected-error @+1 {{layer 'conv1': weight holds NaN or Inf}}
func.func @nan(%x: tensor<1x4x4x1xf32> loc("data")) -> tensor<1x4x4x2xf32> {
  %w = vai.constant dense<0x7FC00000> : tensor<2x1x1x1xf32>
  %c = vai.conv2d %x, %w : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32> loc("conv1")
  return %c : tensor<1x4x4x2xf32>
}

// -----

// Ops the DPU cannot run stay float, with their reason; no table entry is
// needed for them.
// expected-remark @+3 {{layer 'big' stays float: kernel 17x17 is outside the conv engine's 1-16}}
// expected-remark @+2 {{layer 'sig' stays float: no DPU engine runs vai.sigmoid}}
// expected-remark @+1 {{layer 'dw' stays float: depthwise multiplier 2}}
func.func @float_only(%x: tensor<1x20x20x1xf32> loc("data")) -> (tensor<1x4x4x1xf32>, tensor<1x20x20x2xf32>) {
  %w = vai.constant dense<0.5> : tensor<1x17x17x1xf32>
  %c = vai.conv2d %x, %w : (tensor<1x20x20x1xf32>, tensor<1x17x17x1xf32>) -> tensor<1x4x4x1xf32> loc("big")
  %s = vai.sigmoid %c : tensor<1x4x4x1xf32> loc("sig")
  %dw = vai.constant dense<0.5> : tensor<2x3x3x1xf32>
  %d = vai.depthwise_conv2d %x, %dw {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x20x20x1xf32>, tensor<2x3x3x1xf32>) -> tensor<1x20x20x2xf32> loc("dw")
  return %s, %d : tensor<1x4x4x1xf32>, tensor<1x20x20x2xf32>
}
