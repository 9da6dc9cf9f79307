// RUN: vai-opt %s -split-input-file -vai-fold-constants | FileCheck %s

// A chain of constant-only ops becomes one constant.
// CHECK-LABEL: func @chain
func.func @chain(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[C:.*]] = vai.constant dense<{{\[\[}}2.000000e+00, 6.000000e+00, 1.000000e+01], [4.000000e+00, 8.000000e+00, 1.200000e+01]]> : tensor<2x3xf32>
  // CHECK-NEXT: %[[R:.*]] = vai.add %arg0, %[[C]]
  // CHECK-NEXT: return %[[R]]
  %a = vai.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %t = vai.transpose %a {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %d = vai.add %t, %t : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = vai.add %x, %d : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Integer data movement folds too; ops with a non-constant operand stay.
// CHECK-LABEL: func @ints
func.func @ints(%x: tensor<4xf32>) -> (tensor<2x2xi8>, tensor<4xf32>) {
  // CHECK: vai.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi8>
  %a = vai.constant dense<[1, 2, 3, 4]> : tensor<4xi8>
  %r = vai.reshape %a {shape = array<i64: 2, 2>} : (tensor<4xi8>) -> tensor<2x2xi8>
  // CHECK: vai.sigmoid %arg0
  %s = vai.sigmoid %x : tensor<4xf32>
  return %r, %s : tensor<2x2xi8>, tensor<4xf32>
}
