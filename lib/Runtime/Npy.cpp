//===- Npy.cpp - NumPy .npy reading and writing ---------------------------===//
//
// Reader and writer for the NumPy .npy format (versions 1.0, 2.0 and 3.0).
// The header is a Python dict literal; it is parsed with a small recursive
// descent parser for the subset of Python literals NumPy writes (strings,
// integers, booleans, None, tuples, lists and dicts), so that keys may come
// in any order and whitespace, quoting and trailing commas may vary. Every
// length and size read from the file is checked before it is used: no byte
// sequence may crash the reader or make it allocate more than the file holds.
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/Npy.h"

#include "vai/Runtime/File.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace vai::rt {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kArrayAlign = 64;
/// NumPy leaves room for the first axis to grow to this many digits.
constexpr size_t kGrowthAxisMaxDigits = 21;
/// Bound on the nesting of the header literal, so a hostile header cannot
/// exhaust the stack.
constexpr int kMaxDepth = 32;
/// NumPy 2 allows up to 64 dimensions.
constexpr size_t kMaxRank = 64;

constexpr const char *kAcceptedDTypes =
    "accepted: '<f4', '<f8' (converted to float32), '|i1', '|u1', '<i4', "
    "'<i8', in either byte order";

bool hostIsLittleEndian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

std::string quoted(const std::string &s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

//===----------------------------------------------------------------------===//
// Python literal parsing
//===----------------------------------------------------------------------===//

struct PyValue {
  enum Kind { Str, Int, Bool, None, Tuple, List, Dict };
  Kind kind = None;
  std::string str;            // Str
  int64_t num = 0;            // Int
  bool intTooBig = false;     // Int that does not fit int64_t
  bool flag = false;          // Bool
  std::vector<PyValue> items; // Tuple, List; Dict as key, value, key, ...

  const char *kindName() const {
    switch (kind) {
    case Str:
      return "a string";
    case Int:
      return "an integer";
    case Bool:
      return "a boolean";
    case None:
      return "None";
    case Tuple:
      return "a tuple";
    case List:
      return "a list";
    case Dict:
      return "a dict";
    }
    return "?";
  }
};

/// Thrown by the parser; turned into an NpyError with the file name.
struct HeaderError {
  std::string message;
};

class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s_(text) {}

  /// Parses the whole header: a dict followed only by whitespace.
  PyValue parseHeader() {
    skipSpace();
    if (pos_ >= s_.size())
      fail("header is empty");
    if (s_[pos_] != '{')
      fail("header does not start with '{'");
    PyValue v = parseValue(0);
    skipSpace();
    if (pos_ != s_.size())
      fail("unexpected " + describeChar() + " after the closing '}'");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw HeaderError{"malformed header: " + what};
  }

  std::string describeChar() const {
    if (pos_ >= s_.size())
      return "end of header";
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    char buf[64];
    if (c >= 0x21 && c < 0x7f)
      std::snprintf(buf, sizeof(buf), "'%c' at offset %zu", c, pos_);
    else
      std::snprintf(buf, sizeof(buf), "byte 0x%02x at offset %zu", c, pos_);
    return buf;
  }

  static bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
  }
  static bool isDigit(char c) { return c >= '0' && c <= '9'; }
  static bool isIdentChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) ||
           c == '_';
  }

  void skipSpace() {
    while (pos_ < s_.size() && isSpace(s_[pos_]))
      ++pos_;
  }

  bool peekIs(char c) {
    skipSpace();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  void expect(char c, const char *context) {
    skipSpace();
    if (pos_ >= s_.size() || s_[pos_] != c)
      fail(std::string("expected '") + c + "' " + context + ", found " +
           describeChar());
    ++pos_;
  }

  PyValue parseValue(int depth) {
    if (depth > kMaxDepth)
      fail("literal nested too deeply");
    skipSpace();
    if (pos_ >= s_.size())
      fail("unexpected end of header, expected a value");
    char c = s_[pos_];
    if (c == '\'' || c == '"')
      return parseString();
    if (c == '{')
      return parseDict(depth);
    if (c == '(')
      return parseTuple(depth);
    if (c == '[')
      return parseList(depth);
    if (isDigit(c) || c == '-' || c == '+')
      return parseInt();
    if (isIdentChar(c))
      return parseName();
    fail("unexpected " + describeChar() + ", expected a value");
  }

  PyValue parseString() {
    char q = s_[pos_++];
    PyValue v;
    v.kind = PyValue::Str;
    while (true) {
      if (pos_ >= s_.size())
        fail("unterminated string");
      char c = s_[pos_++];
      if (c == q)
        break;
      if (c == '\n')
        fail("newline inside a string");
      if (c == '\\') {
        if (pos_ >= s_.size())
          fail("unterminated string");
        char e = s_[pos_++];
        switch (e) {
        case '\\':
        case '\'':
        case '"':
          v.str += e;
          break;
        case 'n':
          v.str += '\n';
          break;
        case 't':
          v.str += '\t';
          break;
        default:
          v.str += '\\';
          v.str += e;
          break;
        }
        continue;
      }
      v.str += c;
    }
    return v;
  }

  PyValue parseInt() {
    PyValue v;
    v.kind = PyValue::Int;
    bool negative = false;
    if (s_[pos_] == '-' || s_[pos_] == '+') {
      negative = s_[pos_] == '-';
      ++pos_;
      skipSpace();
    }
    if (pos_ >= s_.size() || !isDigit(s_[pos_]))
      fail("expected digits, found " + describeChar());
    // Accumulate as a negative number so that INT64_MIN is representable.
    int64_t acc = 0;
    bool big = false;
    while (pos_ < s_.size() && (isDigit(s_[pos_]) || s_[pos_] == '_')) {
      if (s_[pos_] == '_') {
        ++pos_;
        continue;
      }
      int digit = s_[pos_++] - '0';
      if (!big && (__builtin_mul_overflow(acc, 10, &acc) ||
                   __builtin_sub_overflow(acc, digit, &acc)))
        big = true;
    }
    // Python 2 long suffix, as in shapes written by NumPy under Python 2.
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l'))
      ++pos_;
    if (pos_ < s_.size() && isIdentChar(s_[pos_]))
      fail("invalid integer literal, unexpected " + describeChar());
    if (!big && !negative && acc == std::numeric_limits<int64_t>::min())
      big = true;
    v.intTooBig = big;
    v.num = big ? 0 : (negative ? acc : -acc);
    return v;
  }

  PyValue parseName() {
    size_t start = pos_;
    while (pos_ < s_.size() && isIdentChar(s_[pos_]))
      ++pos_;
    std::string name = s_.substr(start, pos_ - start);
    PyValue v;
    if (name == "True" || name == "False") {
      v.kind = PyValue::Bool;
      v.flag = name == "True";
      return v;
    }
    if (name == "None") {
      v.kind = PyValue::None;
      return v;
    }
    // String prefixes: u'...' and b'...'.
    if ((name == "u" || name == "b") && pos_ < s_.size() &&
        (s_[pos_] == '\'' || s_[pos_] == '"'))
      return parseString();
    pos_ = start;
    fail("unexpected name " + quoted(name) + " at offset " +
         std::to_string(start));
  }

  /// Parses comma-separated values up to `close`, allowing a trailing comma.
  /// Returns whether a comma was seen (which makes "(x,)" a tuple).
  bool parseSequence(char close, int depth, std::vector<PyValue> &out) {
    bool sawComma = false;
    while (true) {
      if (peekIs(close)) {
        ++pos_;
        return sawComma;
      }
      out.push_back(parseValue(depth + 1));
      if (peekIs(',')) {
        ++pos_;
        sawComma = true;
        continue;
      }
      expect(close, "or ',' in a sequence");
      return sawComma;
    }
  }

  PyValue parseTuple(int depth) {
    ++pos_; // '('
    std::vector<PyValue> items;
    bool sawComma = parseSequence(')', depth, items);
    // "(x)" is just a parenthesised x; "()" and "(x,)" are tuples.
    if (items.size() == 1 && !sawComma)
      return std::move(items[0]);
    PyValue v;
    v.kind = PyValue::Tuple;
    v.items = std::move(items);
    return v;
  }

  PyValue parseList(int depth) {
    ++pos_; // '['
    PyValue v;
    v.kind = PyValue::List;
    parseSequence(']', depth, v.items);
    return v;
  }

  PyValue parseDict(int depth) {
    ++pos_; // '{'
    PyValue v;
    v.kind = PyValue::Dict;
    while (true) {
      if (peekIs('}')) {
        ++pos_;
        return v;
      }
      skipSpace();
      size_t keyPos = pos_;
      PyValue key = parseValue(depth + 1);
      if (key.kind != PyValue::Str) {
        pos_ = keyPos;
        fail(std::string("dict key at offset ") + std::to_string(keyPos) +
             " is " + key.kindName() + ", expected a string");
      }
      expect(':', "after a dict key");
      PyValue value = parseValue(depth + 1);
      v.items.push_back(std::move(key));
      v.items.push_back(std::move(value));
      if (peekIs(',')) {
        ++pos_;
        continue;
      }
      expect('}', "or ',' after a dict value");
      return v;
    }
  }

  const std::string &s_;
  size_t pos_ = 0;
};

/// Returns the value for `key` in a parsed dict (the last one if repeated,
/// as in Python), or null.
const PyValue *lookup(const PyValue &dict, const char *key) {
  const PyValue *found = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2)
    if (dict.items[i].str == key)
      found = &dict.items[i + 1];
  return found;
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// The element type of the file and how to turn it into a tensor.
struct FileDType {
  DType dtype;     // tensor element type
  size_t itemSize; // bytes per element in the file
  bool swap;       // file byte order differs from the host
  bool fromF64;    // file holds float64, converted to float32
};

FileDType parseDescr(const std::string &descr, bool allowF64) {
  if (descr.empty())
    throw HeaderError{"empty 'descr'"};
  char order = descr[0];
  std::string code = descr;
  if (order == '<' || order == '>' || order == '|' || order == '=')
    code = descr.substr(1);
  else
    order = '=';
  bool little =
      order == '<' || ((order == '=' || order == '|') && hostIsLittleEndian());
  bool swap = little != hostIsLittleEndian();

  FileDType ft{DType::F32, 4, false, false};
  if (code == "f4") {
    ft = {DType::F32, 4, swap, false};
  } else if (code == "f8") {
    if (!allowF64)
      throw HeaderError{"float64 data (" + quoted(descr) +
                        ") is not accepted here; save as float32"};
    ft = {DType::F32, 8, swap, true};
  } else if (code == "i1") {
    ft = {DType::I8, 1, false, false};
  } else if (code == "u1") {
    ft = {DType::U8, 1, false, false};
  } else if (code == "i4") {
    ft = {DType::I32, 4, swap, false};
  } else if (code == "i8") {
    ft = {DType::I64, 8, swap, false};
  } else if (code == "b1" || code == "?") {
    throw HeaderError{"bool arrays (" + quoted(descr) +
                      ") are not supported; convert with .astype(np.uint8); " +
                      kAcceptedDTypes};
  } else if (code == "O") {
    throw HeaderError{"object arrays (" + quoted(descr) +
                      ") are not supported; " + kAcceptedDTypes};
  } else {
    throw HeaderError{"unsupported dtype " + quoted(descr) + "; " +
                      kAcceptedDTypes};
  }
  return ft;
}

void byteSwapInPlace(unsigned char *p, size_t itemSize, size_t count) {
  for (size_t i = 0; i < count; ++i, p += itemSize)
    for (size_t a = 0, b = itemSize - 1; a < b; ++a, --b)
      std::swap(p[a], p[b]);
}

Tensor parseNpyImpl(const std::string &bytes, bool allowF64) {
  const size_t size = bytes.size();
  if (size == 0)
    throw HeaderError{"empty file, not an npy file"};
  // A file shorter than the magic string that matches it so far is a
  // truncated npy file; anything else is not an npy file at all.
  size_t magicCmp = size < kMagicLen ? size : kMagicLen;
  if (std::memcmp(bytes.data(), kMagic, magicCmp) != 0)
    throw HeaderError{"not an npy file (bad magic)"};
  if (size < kMagicLen + 2)
    throw HeaderError{"header truncated: file is only " + std::to_string(size) +
                      " bytes"};

  unsigned major = static_cast<unsigned char>(bytes[6]);
  unsigned minor = static_cast<unsigned char>(bytes[7]);
  size_t lenBytes;
  if (major == 1 && minor == 0)
    lenBytes = 2;
  else if ((major == 2 || major == 3) && minor == 0)
    lenBytes = 4;
  else
    throw HeaderError{"unsupported npy format version " +
                      std::to_string(major) + "." + std::to_string(minor) +
                      " (supported: 1.0, 2.0, 3.0)"};

  size_t prefix = kMagicLen + 2 + lenBytes;
  if (size < prefix)
    throw HeaderError{"header truncated: file ends inside the header length"};
  uint64_t headerLen = 0;
  for (size_t i = 0; i < lenBytes; ++i)
    headerLen |= static_cast<uint64_t>(
                     static_cast<unsigned char>(bytes[kMagicLen + 2 + i]))
                 << (8 * i);
  if (headerLen > size - prefix)
    throw HeaderError{"header truncated: header length is " +
                      std::to_string(headerLen) + " bytes but only " +
                      std::to_string(size - prefix) + " follow"};
  const size_t dataOffset = prefix + static_cast<size_t>(headerLen);
  const std::string header = bytes.substr(prefix, headerLen);

  PyValue dict = HeaderParser(header).parseHeader();
  if (dict.kind != PyValue::Dict)
    throw HeaderError{"malformed header: not a dict"};

  const PyValue *descr = lookup(dict, "descr");
  const PyValue *fortran = lookup(dict, "fortran_order");
  const PyValue *shape = lookup(dict, "shape");
  if (!descr)
    throw HeaderError{"header is missing the 'descr' key"};
  if (!fortran)
    throw HeaderError{"header is missing the 'fortran_order' key"};
  if (!shape)
    throw HeaderError{"header is missing the 'shape' key"};

  if (descr->kind == PyValue::List || descr->kind == PyValue::Tuple)
    throw HeaderError{std::string("structured dtypes are not supported; ") +
                      kAcceptedDTypes};
  if (descr->kind != PyValue::Str)
    throw HeaderError{std::string("malformed header: 'descr' is ") +
                      descr->kindName() + ", expected a string"};
  if (fortran->kind != PyValue::Bool)
    throw HeaderError{std::string("malformed header: 'fortran_order' is ") +
                      fortran->kindName() + ", expected True or False"};
  if (shape->kind != PyValue::Tuple)
    throw HeaderError{std::string("malformed header: 'shape' is ") +
                      shape->kindName() + ", expected a tuple of integers"};

  FileDType ft = parseDescr(descr->str, allowF64);
  if (fortran->flag)
    throw HeaderError{"Fortran-order arrays are not supported; save with "
                      "np.ascontiguousarray"};

  if (shape->items.size() > kMaxRank)
    throw HeaderError{"shape has " + std::to_string(shape->items.size()) +
                      " dimensions (at most " + std::to_string(kMaxRank) +
                      " are supported)"};
  Shape dims;
  std::string shapeText = "(";
  for (size_t i = 0; i < shape->items.size(); ++i) {
    const PyValue &d = shape->items[i];
    if (d.kind != PyValue::Int)
      throw HeaderError{std::string("malformed header: shape dimension ") +
                        std::to_string(i) + " is " + d.kindName() +
                        ", expected an integer"};
    if (d.intTooBig)
      throw HeaderError{"absurd shape: dimension " + std::to_string(i) +
                        " does not fit in 64 bits"};
    if (d.num < 0)
      throw HeaderError{"negative dimension " + std::to_string(d.num) +
                        " in shape"};
    dims.push_back(d.num);
    shapeText += (i ? ", " : "") + std::to_string(d.num);
  }
  shapeText += shape->items.size() == 1 ? ",)" : ")";

  // Every prefix product (as computed by numElements) and the byte sizes in
  // the file and in the tensor must fit, so no later arithmetic overflows.
  int64_t count = 1;
  int64_t fileBytes = static_cast<int64_t>(ft.itemSize);
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(count, d, &count) ||
        __builtin_mul_overflow(count, static_cast<int64_t>(ft.itemSize),
                               &fileBytes))
      throw HeaderError{"absurd shape " + shapeText + ": size overflows"};
  }

  const size_t found = size - dataOffset;
  if (static_cast<uint64_t>(fileBytes) > found)
    throw HeaderError{"truncated: expected " + std::to_string(fileBytes) +
                      " bytes of data for shape " + shapeText + ", found " +
                      std::to_string(found)};
  if (static_cast<uint64_t>(fileBytes) < found)
    throw HeaderError{"trailing data: expected " + std::to_string(fileBytes) +
                      " bytes of data for shape " + shapeText + ", found " +
                      std::to_string(found)};

  Tensor t(ft.dtype, std::move(dims));
  const char *src = bytes.data() + dataOffset;
  const size_t n = static_cast<size_t>(count);
  if (ft.fromF64) {
    float *dst = t.data<float>();
    for (size_t i = 0; i < n; ++i) {
      unsigned char buf[8];
      std::memcpy(buf, src + 8 * i, 8);
      if (ft.swap)
        byteSwapInPlace(buf, 8, 1);
      double v;
      std::memcpy(&v, buf, 8);
      dst[i] = static_cast<float>(v);
    }
  } else if (n) {
    std::memcpy(t.raw(), src, n * ft.itemSize);
    if (ft.swap)
      byteSwapInPlace(static_cast<unsigned char *>(t.raw()), ft.itemSize, n);
  }
  return t;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

const char *littleEndianDescr(DType t) {
  switch (t) {
  case DType::F32:
    return "<f4";
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  }
  return nullptr;
}

std::string errnoText(int err) { return std::strerror(err); }

} // namespace

std::string serializeNpy(const Tensor &t) {
  const char *descr = littleEndianDescr(t.dtype());
  if (!descr)
    throw NpyError("serializeNpy: invalid tensor element type");
  for (int64_t d : t.shape())
    if (d < 0)
      throw NpyError("serializeNpy: negative dimension in shape " +
                     shapeToString(t.shape()));
  if (t.isNull() && t.byteSize() != 0)
    throw NpyError("serializeNpy: tensor has no storage");

  // Same layout as NumPy's np.save: sorted keys, repr() of the shape, room for
  // the first axis to grow, then spaces and '\n' up to a 64-byte boundary.
  std::string dict = "{'descr': '";
  dict += descr;
  dict += "', 'fortran_order': False, 'shape': (";
  const Shape &shape = t.shape();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    dict += ',';
  dict += "), }";
  if (!shape.empty()) {
    size_t digits = std::to_string(shape[0]).size();
    if (digits < kGrowthAxisMaxDigits)
      dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }

  size_t lenBytes = 2;
  unsigned char major = 1;
  auto padded = [&](size_t lb) {
    size_t hlen = dict.size() + 1;
    size_t pad = kArrayAlign - (kMagicLen + 2 + lb + hlen) % kArrayAlign;
    return hlen + pad;
  };
  size_t headerLen = padded(lenBytes);
  if (headerLen > 0xffff) {
    lenBytes = 4;
    major = 2;
    headerLen = padded(lenBytes);
  }

  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < lenBytes; ++i)
    out += static_cast<char>((headerLen >> (8 * i)) & 0xff);
  out += dict;
  out.append(headerLen - dict.size() - 1, ' ');
  out += '\n';

  const size_t dataBytes = t.byteSize();
  const size_t offset = out.size();
  out.resize(offset + dataBytes);
  if (dataBytes) {
    std::memcpy(&out[offset], t.raw(), dataBytes);
    if (!hostIsLittleEndian() && dtypeSize(t.dtype()) > 1)
      byteSwapInPlace(reinterpret_cast<unsigned char *>(&out[offset]),
                      dtypeSize(t.dtype()), dataBytes / dtypeSize(t.dtype()));
  }
  return out;
}

Tensor parseNpy(const std::string &bytes, const std::string &name,
                bool allowF64) {
  try {
    return parseNpyImpl(bytes, allowF64);
  } catch (const HeaderError &e) {
    throw NpyError(name + ": " + e.message);
  }
}

Tensor readNpy(const std::string &path, bool allowF64) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw NpyError(path + ": cannot open: " + errnoText(errno));
  std::string bytes;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    bytes.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      throw NpyError(path + ": cannot read: " + errnoText(err));
    }
    if (n == 0)
      break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parseNpy(bytes, path, allowF64);
}

void writeNpy(const std::string &path, const Tensor &t) {
  std::string image;
  try {
    image = serializeNpy(t);
  } catch (const NpyError &e) {
    throw NpyError(path + ": " + e.what());
  }

  try {
    writeFileAtomically(path, image);
  } catch (const std::runtime_error &e) {
    throw NpyError(e.what());
  }
}

} // namespace vai::rt
