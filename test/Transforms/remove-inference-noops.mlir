// RUN: vai-opt %s -split-input-file -vai-remove-inference-noops | FileCheck %s

// CHECK-LABEL: func @noops
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x4x3xf32>)
func.func @noops(%x: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  // CHECK-NOT: vai.dropout
  // CHECK-NOT: vai.identity
  // CHECK-NOT: vai.reshape
  // CHECK-NOT: vai.transpose
  // CHECK: %[[R:.*]] = vai.relu %[[X]]
  // CHECK-NEXT: return %[[R]]
  %0 = vai.dropout %x : tensor<1x4x4x3xf32>
  %1 = vai.identity %0 : tensor<1x4x4x3xf32>
  %2 = vai.reshape %1 {shape = array<i64: 1, 4, 4, 3>} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %3 = vai.transpose %2 {perm = array<i64: 0, 1, 2, 3>} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %4 = vai.concat %3 {axis = 3 : i64} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %5 = vai.squeeze %4 {axes = array<i64>} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %6 = vai.relu %5 : tensor<1x4x4x3xf32>
  return %6 : tensor<1x4x4x3xf32>
}

// -----

// Reshapes and transposes that move data stay.
// CHECK-LABEL: func @keeps
func.func @keeps(%x: tensor<1x4x4x3xf32>) -> tensor<1x3x4x4xf32> {
  // CHECK: vai.reshape
  // CHECK: vai.transpose
  %0 = vai.reshape %x {shape = array<i64: 1, 4, 3, 4>} : (tensor<1x4x4x3xf32>) -> tensor<1x4x3x4xf32>
  %1 = vai.transpose %0 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x3x4xf32>) -> tensor<1x3x4x4xf32>
  return %1 : tensor<1x3x4x4xf32>
}

// -----

// Dead branches disappear, constants included.
// CHECK-LABEL: func @dead
func.func @dead(%x: tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32> {
  // CHECK-NOT: vai.constant
  // CHECK-NOT: vai.conv2d
  // CHECK: vai.sigmoid
  // CHECK-NOT: vai.relu
  %w = vai.constant dense<1.0> : tensor<2x1x1x3xf32>
  %0 = vai.conv2d %x, %w : (tensor<1x4x4x3xf32>, tensor<2x1x1x3xf32>) -> tensor<1x4x4x2xf32>
  %1 = vai.relu %0 : tensor<1x4x4x2xf32>
  %2 = vai.sigmoid %x : tensor<1x4x4x3xf32>
  return %2 : tensor<1x4x4x3xf32>
}
