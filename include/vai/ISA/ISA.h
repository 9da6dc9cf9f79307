//===- ISA.h - vai-mlir's DPUCADF8H instruction set -------------*- C++ -*-===//
//
// Our own instruction set for the DPUCADF8H (the real encoding is not
// public): plain structs per instruction kind, the binary encoding, the
// decoder with full checking, a text disassembler and the timing model.
// docs/isa.md is the specification; this library depends only on the C++
// standard library so the simulator and the VART runner plugins can link it
// without MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef VAI_ISA_ISA_H
#define VAI_ISA_ISA_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vai::isa {

//===----------------------------------------------------------------------===//
// Engines, opcodes, enumerations
//===----------------------------------------------------------------------===//

/// The engines that run instructions in parallel; the bit of each in the
/// `wait`/`notify` masks is `1 << engine`.
enum class Engine : uint8_t {
  Load = 0,
  Save = 1,
  Conv = 2,
  DwConv = 3,
  Pool = 4,
  Eltwise = 5,
};
constexpr int kNumEngines = 6;
constexpr uint32_t kEngineMaskAll = (1u << kNumEngines) - 1;
const char *engineName(Engine e);
/// "none" or the engine names joined by '|'.
std::string engineMaskStr(uint32_t mask);

enum class Opcode : uint8_t {
  Load = 0x1,
  Save = 0x2,
  ConvInit = 0x3,
  Conv = 0x4,
  DwInit = 0x5,
  DwConv = 0x6,
  PoolInit = 0x7,
  Pool = 0x8,
  Eltwise = 0x9,
  End = 0xF,
};
const char *opcodeName(Opcode op);

/// Fused activation of CONV and DWCONV (the 3-bit `act` field).
enum class Activation : uint8_t {
  None = 0,
  Relu = 1,
  Relu6 = 2,
  LeakyRelu = 3
};
const char *activationName(Activation a);

enum class PoolKind : uint8_t { Max = 0, Avg = 1 };

/// Bits of the 4-bit `edge` field: which padded borders of the layer the
/// tile touches.
enum EdgeBit : uint32_t {
  EdgeTop = 1,
  EdgeBottom = 2,
  EdgeLeft = 4,
  EdgeRight = 8,
};
std::string edgeMaskStr(uint32_t mask);

//===----------------------------------------------------------------------===//
// Instructions
//
// Every numeric field is an int64_t holding the field's value (not its
// encoding: a kernel of 3 is 3, encoded as 2), so out-of-range values can be
// represented and reported by validate().
//===----------------------------------------------------------------------===//

/// Dependency flags common to every instruction (docs/isa.md, "Dependencies").
struct Deps {
  uint32_t wait = 0;   ///< engines whose token this instruction consumes
  uint32_t notify = 0; ///< engines that get a token when it completes
  bool operator==(const Deps &o) const {
    return wait == o.wait && notify == o.notify;
  }
};

/// A feature-map or weight block in a bank group: index of the group in the
/// target's bank-group list and the word address in the group's linear word
/// space (word w is bank base + w % banks, depth address w / banks).
struct BankRef {
  int64_t group = 0;
  int64_t addr = 0;
  bool operator==(const BankRef &o) const {
    return group == o.group && addr == o.addr;
  }
};

/// A DDR location: a register (0 parameters, 1 workspace, 2.. inputs and
/// outputs) and a byte offset from its base.
struct DdrRef {
  int64_t reg = 0;
  int64_t offset = 0;
  bool operator==(const DdrRef &o) const {
    return reg == o.reg && offset == o.offset;
  }
};

/// LOAD (DDR -> bank) and SAVE (bank -> DDR) move a rows x cols x channels
/// block; DDR byte (y, x, c) is at offset + y*rowStride + x*colStride + c.
struct Transfer {
  Deps deps;
  DdrRef ddr;
  BankRef bank;
  int64_t rows = 1, cols = 1, channels = 1;
  int64_t rowStride = 0, colStride = 0;
  bool operator==(const Transfer &o) const {
    return deps == o.deps && ddr == o.ddr && bank == o.bank && rows == o.rows &&
           cols == o.cols && channels == o.channels &&
           rowStride == o.rowStride && colStride == o.colStride;
  }
};
struct Load : Transfer {};
struct Save : Transfer {};

/// CONVINIT / DWINIT: the layer configuration the following CONV / DWCONV
/// instructions of the engine use.
struct WindowConfig {
  Deps deps;
  int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1;
  int64_t dilationH = 1, dilationW = 1;
  int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  int64_t shiftBias = 0, shiftCut = 0;
  Activation act = Activation::None;
  int64_t actMax = 0; ///< relu6 clamp, floor(6 * 2^py); 0 otherwise
  bool operator==(const WindowConfig &o) const;
};
struct ConvInit : WindowConfig {};
struct DwInit : WindowConfig {};

/// A feature-map tile in a bank group: rows x cols pixels of `channels`.
struct Tile {
  BankRef bank;
  int64_t rows = 1, cols = 1;
  bool operator==(const Tile &o) const {
    return bank == o.bank && rows == o.rows && cols == o.cols;
  }
};

struct Conv {
  Deps deps;
  Tile in, out;
  int64_t inChannels = 1, outChannels = 1;
  int64_t weightAddr = 0, biasAddr = 0; ///< word addresses in the weight group
  int64_t weightGroup = 0;              ///< the weight/bias bank group
  uint32_t edge = 0;
  bool operator==(const Conv &o) const;
};

struct DwConv {
  Deps deps;
  Tile in, out;
  int64_t channels = 1;
  int64_t weightAddr = 0, biasAddr = 0;
  int64_t weightGroup = 0;
  uint32_t edge = 0;
  bool operator==(const DwConv &o) const;
};

struct PoolInit {
  Deps deps;
  PoolKind kind = PoolKind::Max;
  int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1;
  int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  int64_t mul = 1;   ///< avg: window-sum multiplier; max: 1
  int64_t shift = 0; ///< signed: >= 0 rounding right shift, < 0 left shift
  bool operator==(const PoolInit &o) const;
};

struct Pool {
  Deps deps;
  Tile in, out;
  int64_t channels = 1;
  uint32_t edge = 0;
  bool operator==(const Pool &o) const {
    return deps == o.deps && in == o.in && out == o.out &&
           channels == o.channels && edge == o.edge;
  }
};

struct Eltwise {
  Deps deps;
  BankRef a, b, out;
  int64_t rows = 1, cols = 1, channels = 1;
  int64_t shiftA = 0, shiftB = 0, shiftOut = 0;
  bool relu = false;
  bool operator==(const Eltwise &o) const;
};

struct End {
  Deps deps;
  bool operator==(const End &o) const { return deps == o.deps; }
};

using Instruction = std::variant<Load, Save, ConvInit, Conv, DwInit, DwConv,
                                 PoolInit, Pool, Eltwise, End>;

Opcode opcodeOf(const Instruction &inst);
/// The engine that executes `inst`; nullopt for END (it runs when all
/// engines have drained).
std::optional<Engine> engineOf(const Instruction &inst);
const Deps &depsOf(const Instruction &inst);
Deps &depsOf(Instruction &inst);
/// Size in 32-bit words of an instruction with this opcode.
unsigned instructionWords(Opcode op);

//===----------------------------------------------------------------------===//
// Errors and results (no exceptions, no aborts)
//===----------------------------------------------------------------------===//

struct Error {
  std::string message;
  /// Index of the offending instruction and its byte offset in the machine
  /// code (or -1 when not about one instruction / not from a byte stream).
  int64_t index = -1, byteOffset = -1;
  /// "instruction 3 (CONV at byte 40): kernel_h is 17, expected 1-16".
  std::string str() const;
};

template <typename T> class Result {
public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error)) {}
  explicit operator bool() const { return value_.has_value(); }
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }
  const Error &error() const { return error_; }

private:
  std::optional<T> value_;
  Error error_;
};

//===----------------------------------------------------------------------===//
// Limits of the encoding
//===----------------------------------------------------------------------===//

/// The ranges the encoding can hold (target-independent; a target may
/// allow less: see the dpu-verify-target pass).
struct EncodingLimits {
  static constexpr int64_t kMaxBankGroups = 4;     // 2-bit group
  static constexpr int64_t kMaxBankAddr = 1 << 17; // 17-bit word address
  static constexpr int64_t kMaxRegs = 8;           // 3-bit reg id
  static constexpr int64_t kMaxDdrOffset = 1ll << 32;
  static constexpr int64_t kMaxTransferDim = 1 << 16; // rows, cols of LOAD
  static constexpr int64_t kMaxTileDim = 1 << 13;     // rows, cols of tiles
  static constexpr int64_t kMaxChannels = 1 << 13;
  static constexpr int64_t kMaxStride = 1 << 24; // DDR strides in bytes
  static constexpr int64_t kMaxKernel = 16, kMaxWindowStride = 8,
                           kMaxDilation = 16, kMaxPad = 15;
  static constexpr int64_t kMaxShiftBias = 15, kMaxShiftCut = 31;
  static constexpr int64_t kMaxActMax = 127;
  static constexpr int64_t kMaxPoolMul = 255;
  static constexpr int64_t kMinPoolShift = -32, kMaxPoolShift = 31;
  static constexpr int64_t kMaxAlignShift = 15, kMaxOutShift = 31;
};

/// Checks one instruction on its own: every field within its encoding range,
/// canonical forms (actMax only with relu6, mul 1 for max pooling, END
/// notifies nobody, no engine waits for or notifies itself) and the window
/// geometry (the output tile's windows stay inside the padded input tile).
/// The returned Error has no index/offset.
std::optional<Error> validate(const Instruction &inst);

/// Checks a program: each instruction (validate), every CONV/DWCONV/POOL
/// preceded by its engine's INIT, exactly one END, at the end.
std::optional<Error> validateProgram(const std::vector<Instruction> &program);

//===----------------------------------------------------------------------===//
// Encoding, decoding, disassembly
//===----------------------------------------------------------------------===//

/// Machine code of a program: 32-bit little-endian words. Fails (naming the
/// instruction and field) when validateProgram fails.
Result<std::vector<uint8_t>> encode(const std::vector<Instruction> &program);
/// The words of one instruction (validate must hold).
Result<std::vector<uint32_t>> encodeOne(const Instruction &inst);

/// Decodes machine code. Checks the length (a multiple of 4), each opcode,
/// reserved bits (must be 0), each field's range, truncation and the program
/// structure (validateProgram); errors name the instruction index and byte
/// offset. Never aborts, whatever the input.
Result<std::vector<Instruction>> decode(const uint8_t *data, size_t size);

/// One line per instruction: "0000: LOAD     ddr=r1+0x0 bank=g0:0 ...".
std::string disassemble(const std::vector<Instruction> &program);
std::string disassembleOne(const Instruction &inst);

/// The field layout of every instruction as a Markdown table (docs/isa.md
/// embeds it; a unit test keeps the two equal).
std::string encodingTableMarkdown();

//===----------------------------------------------------------------------===//
// Timing model (docs/isa.md, "Timing")
//===----------------------------------------------------------------------===//

/// The target's figures the timing model needs, filled by the caller from a
/// vai::target::Target (mlir::dpu::timingParams, vai/Dialect/Dpu/DpuTarget.h)
/// so this library stays free of LLVM.
struct TimingParams {
  int64_t batch = 1;
  int64_t convICP = 1, convOCP = 1, convPP = 1;
  int64_t dwCP = 1, dwPP = 1;
  int64_t poolCP = 1, poolPP = 1;
  int64_t eltwiseCP = 1, eltwisePP = 1;
  int64_t loadCP = 1, saveCP = 1;
  double loadBytesPerCycle = 1, saveBytesPerCycle = 1;
  int64_t loadLatency = 0, saveLatency = 0, convLatency = 0, dwLatency = 0,
          poolLatency = 0, eltwiseLatency = 0;
};

int64_t loadCycles(const Load &l, const TimingParams &t);
int64_t saveCycles(const Save &s, const TimingParams &t);
int64_t convCycles(const Conv &c, const ConvInit &cfg, const TimingParams &t);
int64_t dwConvCycles(const DwConv &c, const DwInit &cfg, const TimingParams &t);
int64_t poolCycles(const Pool &p, const PoolInit &cfg, const TimingParams &t);
int64_t eltwiseCycles(const Eltwise &e, const TimingParams &t);
/// INIT instructions and END: one cycle.
constexpr int64_t kConfigCycles = 1;

/// Multiply-accumulates an instruction performs over the whole batch (0 for
/// non-compute instructions): conv and dwconv only.
int64_t macs(const Instruction &inst, const Instruction *config,
             const TimingParams &t);

/// Cycles of each instruction of a program (an INIT's settings apply to the
/// later compute instructions of its engine). Fails like validateProgram.
Result<std::vector<int64_t>>
instructionCycles(const std::vector<Instruction> &program,
                  const TimingParams &t);

/// The program run on the engines in parallel (docs/isa.md,
/// "Dependencies"): start and end cycle of every instruction, total cycles
/// and busy cycles per engine. Fails on a deadlock (an instruction waits for
/// a token that is never produced), naming the instruction.
struct Schedule {
  std::vector<int64_t> start, end;
  int64_t total = 0;
  int64_t busy[kNumEngines] = {};
  int64_t macs = 0;
};
Result<Schedule> schedule(const std::vector<Instruction> &program,
                          const TimingParams &t);

} // namespace vai::isa

#endif // VAI_ISA_ISA_H
