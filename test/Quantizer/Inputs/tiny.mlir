// A one-conv model for vai-quantize's command-line tests.
func.func @main(%x: tensor<1x4x4x3xf32> loc("data")) -> tensor<1x4x4x2xf32> {
  %w = vai.constant dense<[[[[0.5, -0.25, 0.125]]], [[[1.0, 0.75, -0.5]]]]> : tensor<2x1x1x3xf32>
  %b = vai.constant dense<[0.1, -0.2]> : tensor<2xf32>
  %c = vai.conv2d %x, %w, %b {act = #vai<act relu>} : (tensor<1x4x4x3xf32>, tensor<2x1x1x3xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32> loc("conv")
  return %c : tensor<1x4x4x2xf32>
}
