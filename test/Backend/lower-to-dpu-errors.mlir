// RUN: vai-opt %s -split-input-file -vai-lower-to-dpu -verify-diagnostics

// Lowering needs the partition's annotations.
func.func @unpartitioned(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32> {
  %0 = vai.fix %arg0 {fix_point = 6 : i64, symmetric = true} : tensor<1x4x4x1xf32>
  // expected-error @+1 {{layer without partition attributes; run -vai-partition first}}
  %p = vai.max_pool2d %0 {kernel = array<i64: 1, 1>} : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32>
  %pf = vai.fix %p {fix_point = 6 : i64, symmetric = true} : tensor<1x4x4x1xf32>
  return %pf : tensor<1x4x4x1xf32>
}
