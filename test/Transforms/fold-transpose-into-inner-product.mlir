// RUN: vai-opt %s -split-input-file -vai-fold-transpose-into-inner-product | FileCheck %s

// NHWC x [1, 1, 2, 3] transposed to NCHW [1, 3, 1, 2] and flattened: column
// j of W reads NCHW element j = c * 2 + w; after folding, column k reads NHWC
// element k = w * 3 + c, so W' = W[:, [0, 2, 4, 1, 3, 5]].
// CHECK-LABEL: func @fold
// CHECK: %[[F:.*]] = vai.flatten %arg0 : (tensor<1x1x2x3xf32>) -> tensor<1x6xf32>
// CHECK: %[[W:.*]] = vai.constant dense<{{\[\[}}0.000000e+00, 2.000000e+00, 4.000000e+00, 1.000000e+00, 3.000000e+00, 5.000000e+00], [1.000000e+01, 1.200000e+01, 1.400000e+01, 1.100000e+01, 1.300000e+01, 1.500000e+01]]>
// CHECK: vai.inner_product %[[F]], %[[W]]
// CHECK-NOT: vai.transpose
func.func @fold(%x: tensor<1x1x2x3xf32>) -> tensor<1x2xf32> {
  %t = vai.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x2x3xf32>) -> tensor<1x3x1x2xf32>
  %f = vai.flatten %t {axis = 1 : i64} : (tensor<1x3x1x2xf32>) -> tensor<1x6xf32>
  %w = vai.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]> : tensor<2x6xf32>
  %y = vai.inner_product %f, %w : (tensor<1x6xf32>, tensor<2x6xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Not folded: the transposed tensor has another user; the batch moves.
// CHECK-LABEL: func @kept
// CHECK: vai.transpose
// CHECK: vai.transpose
func.func @kept(%x: tensor<1x1x2x3xf32>, %z: tensor<2x1x1x3xf32>) -> (tensor<1x2xf32>, tensor<1x3x1x2xf32>, tensor<1x2xf32>) {
  %t = vai.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x2x3xf32>) -> tensor<1x3x1x2xf32>
  %f = vai.flatten %t {axis = 1 : i64} : (tensor<1x3x1x2xf32>) -> tensor<1x6xf32>
  %w = vai.constant dense<1.0> : tensor<2x6xf32>
  %y = vai.inner_product %f, %w : (tensor<1x6xf32>, tensor<2x6xf32>) -> tensor<1x2xf32>
  %t2 = vai.transpose %z {perm = array<i64: 1, 0, 2, 3>} : (tensor<2x1x1x3xf32>) -> tensor<1x2x1x3xf32>
  %f2 = vai.flatten %t2 {axis = 1 : i64} : (tensor<1x2x1x3xf32>) -> tensor<1x6xf32>
  %y2 = vai.inner_product %f2, %w : (tensor<1x6xf32>, tensor<2x6xf32>) -> tensor<1x2xf32>
  return %y, %t, %y2 : tensor<1x2xf32>, tensor<1x3x1x2xf32>, tensor<1x2xf32>
}

// -----

// ONNX's form: a reshape to [N, rest] instead of a flatten.
// CHECK-LABEL: func @reshape
// CHECK: vai.flatten %arg0
// CHECK-NOT: vai.transpose
func.func @reshape(%x: tensor<2x1x1x3xf32>) -> tensor<2x2xf32> {
  %t = vai.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<2x1x1x3xf32>) -> tensor<2x3x1x1xf32>
  %f = vai.reshape %t {shape = array<i64: 2, 3>} : (tensor<2x3x1x1xf32>) -> tensor<2x3xf32>
  %w = vai.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %y = vai.inner_product %f, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
