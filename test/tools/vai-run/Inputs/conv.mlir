func.func @main(%x: tensor<1x8x8x3xf32> loc("data")) -> tensor<1x4x4x4xf32> {
  %w = vai.constant dense<0.25> : tensor<4x3x3x3xf32> loc("conv1.weight")
  %b = vai.constant dense<[0.5, -0.5, 1.0, -1.0]> : tensor<4xf32> loc("conv1.bias")
  %c = vai.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pad = array<i64: 1, 0, 1, 0>, act = #vai<act relu>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("conv1")
  return %c : tensor<1x4x4x4xf32>
}
