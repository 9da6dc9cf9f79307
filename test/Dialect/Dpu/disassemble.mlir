// RUN: not vai-opt %s -split-input-file -dpu-disassemble -o /dev/null 2>/dev/null | FileCheck %s
// RUN: not vai-opt %s -split-input-file -dpu-disassemble -o /dev/null 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR
// The listing: byte offset, modeled start and end cycle, the instruction,
// its layer. The schedule follows the tokens of docs/isa.md: a double
// buffered conv (load tile 1 during conv of tile 0, save tile 0 during conv
// of tile 1). The cycle counts themselves are checked against the formulas
// in unittests/ISA; here the dependencies between the lines.

// CHECK: program @double_buffer target DPUCADF8H_ISA0: 9 instructions, 192 bytes
// CHECK-NEXT: 0x000000 {{ *}}0 {{ *}}[[W:[0-9]+]]  LOAD reg=0 group=3 {{.*}}  ; conv1
// CHECK-NEXT: 0x000018 {{ *}}[[W]] {{ *}}[[L0:[0-9]+]]  LOAD notify=conv reg=2 group=0 {{.*}}  ; conv1
// CHECK-NEXT: 0x000030 {{ *}}[[L0]] {{ *}}[[L1:[0-9]+]]  LOAD notify=conv reg=2 group=1 {{.*}}  ; conv1
// CHECK-NEXT: 0x000048 {{ *}}0 {{ *}}1  CONVINIT kernel_h=3 kernel_w=3 {{.*}} act=relu act_max=0  ; conv1
// A wait consumes one token per engine: the weights LOAD does not notify,
// tile 0's LOAD (after it on the in-order load engine) does. Conv 0 starts
// when tile 0 is in; conv 1 when conv 0 is done (tile 1 arrived earlier).
// CHECK-NEXT: 0x000054 {{ *}}[[L0]] {{ *}}[[C0:[0-9]+]]  CONV wait=load notify=save {{.*}}  ; conv1
// CHECK-NEXT: 0x000070 {{ *}}[[C0]] {{ *}}[[S0:[0-9]+]]  SAVE wait=conv {{.*}}  ; conv1
// CHECK-NEXT: 0x000088 {{ *}}[[C0]] {{ *}}[[C1:[0-9]+]]  CONV wait=load notify=save {{.*}}  ; conv1
// CHECK-NEXT: 0x0000a4 {{ *}}[[C1]] {{ *}}[[S1:[0-9]+]]  SAVE wait=conv {{.*}}  ; conv1
// CHECK-NEXT: 0x0000bc {{ *}}[[S1]] {{ *}}[[END:[0-9]+]]  END
// CHECK-NEXT: total [[END]] cycles = {{[0-9.]+}} us at 300.00 MHz, {{[0-9]+}} MACs, MAC utilisation {{[0-9.]+}}%
dpu.program @double_buffer target "DPUCADF8H_ISA0" {
  dpu.load ddr <0, 0> -> bank <3, 0> shape [64, 9, 64] strides [576, 64] loc("conv1")
  dpu.load ddr <2, 0> -> bank <0, 0> shape [10, 18, 64] strides [2048, 64] notify conv loc("conv1")
  dpu.load ddr <2, 1024> -> bank <1, 0> shape [10, 18, 64] strides [2048, 64] notify conv loc("conv1")
  dpu.conv_init kernel [3, 3] stride [1, 1] pad [0, 0, 0, 0] shift_bias 0 shift_cut 7 act relu loc("conv1")
  dpu.conv in <0, 0> [10, 18, 64] -> out <2, 0> [8, 16, 64] weights <3, 0> bias <3, 2304> wait load notify save loc("conv1")
  dpu.save bank <2, 0> -> ddr <1, 0> shape [8, 16, 64] strides [2048, 64] wait conv loc("conv1")
  dpu.conv in <1, 0> [10, 18, 64] -> out <2, 8192> [8, 16, 64] weights <3, 0> bias <3, 2304> wait load notify save loc("conv1")
  dpu.save bank <2, 8192> -> ddr <1, 1024> shape [8, 16, 64] strides [2048, 64] wait conv loc("conv1")
  dpu.end loc("conv1")
}

// -----

// A wait that no instruction answers.
dpu.program @deadlock target "DPUCADF8H_ISA0" {
  dpu.load ddr <2, 0> -> bank <0, 0> shape [1, 1, 16] strides [16, 16]
  // ERR: :[[@LINE+1]]:3: error: 'dpu.save' op deadlock: SAVE waits for a token from conv that is never produced
  dpu.save bank <0, 0> -> ddr <1, 0> shape [1, 1, 16] strides [16, 16] wait conv
  dpu.end
}
