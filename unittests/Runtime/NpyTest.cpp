//===- NpyTest.cpp - Tests for .npy reading and writing -------------------===//
//
// Round trips, hand-written headers, corrupt inputs, and compatibility with
// NumPy itself: reference files are produced at test time by the system
// Python (/usr/bin/python3) with NumPy; those tests are skipped when NumPy is
// not available there.
//
//===----------------------------------------------------------------------===//

#include "vai/Runtime/Npy.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <vector>

using namespace vai::rt;
namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

constexpr const char *kPython = "/usr/bin/python3";

bool contains(const std::string &s, const std::string &sub) {
  return s.find(sub) != std::string::npos;
}

#define EXPECT_CONTAINS(str, sub)                                              \
  EXPECT_TRUE(contains((str), (sub)))                                          \
      << "expected to find \"" << (sub) << "\" in \"" << (str) << "\""

/// Runs `f`, which must throw NpyError; returns its message.
std::string npyErrorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const NpyError &e) {
    return e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "expected NpyError, got std::exception: " << e.what();
    return "";
  } catch (...) {
    ADD_FAILURE() << "expected NpyError, got an unknown exception";
    return "";
  }
  ADD_FAILURE() << "expected NpyError, nothing was thrown";
  return "";
}

/// Error message for parsing `bytes` as "x.npy"; checks the name prefix.
std::string parseError(const std::string &bytes, bool allowF64 = true) {
  std::string msg =
      npyErrorOf([&] { (void)parseNpy(bytes, "x.npy", allowF64); });
  EXPECT_EQ(msg.rfind("x.npy: ", 0), 0u) << msg;
  return msg;
}

/// Parses `bytes`, which may or may not be valid: only NpyError may escape.
void parseMustNotCrash(const std::string &bytes, const std::string &what) {
  try {
    Tensor t = parseNpy(bytes, "fuzz.npy");
    EXPECT_FALSE(t.isNull()) << what;
  } catch (const NpyError &) {
  } catch (const std::exception &e) {
    ADD_FAILURE() << what << ": unexpected exception " << e.what();
  } catch (...) {
    ADD_FAILURE() << what << ": unexpected unknown exception";
  }
}

bool hostIsLittleEndian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

/// Raw bytes of `values` in little- or big-endian order.
template <typename T>
std::string bytesOf(const std::vector<T> &values, bool bigEndian = false) {
  std::string out;
  for (T v : values) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    if (bigEndian == hostIsLittleEndian())
      std::reverse(buf, buf + sizeof(T));
    out.append(buf, sizeof(T));
  }
  return out;
}

/// A .npy image with header `dict`, padded NumPy style, and `payload`.
std::string makeNpy(const std::string &dict, const std::string &payload,
                    int major = 1, int minor = 0) {
  size_t lenBytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((6 + 2 + lenBytes + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  for (size_t i = 0; i < lenBytes; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + payload;
}

std::string readFileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFileBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A scratch directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string tmpl =
        (fs::temp_directory_path() / "vai-npy-test.XXXXXX").string();
    if (!::mkdtemp(&tmpl[0]))
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string &name) const {
    return (fs::path(path_) / name).string();
  }
  const std::string &path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(path_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string path_;
};

/// Deterministic contents; the NumPy scripts below compute the same values.
Tensor patternTensor(DType dt, const Shape &shape) {
  Tensor t(dt, shape);
  int64_t n = t.numElements();
  for (int64_t i = 0; i < n; ++i) {
    switch (dt) {
    case DType::F32:
      t.data<float>()[i] = static_cast<float>(i) * 0.25f - 3.0f;
      break;
    case DType::I8:
      t.data<int8_t>()[i] = static_cast<int8_t>((i * 37) % 256 - 128);
      break;
    case DType::U8:
      t.data<uint8_t>()[i] = static_cast<uint8_t>((i * 13) % 256);
      break;
    case DType::I32:
      t.data<int32_t>()[i] = static_cast<int32_t>(i * 100003 - 5000000);
      break;
    case DType::I64:
      t.data<int64_t>()[i] = i * (int64_t(1) << 33) + 7 - (int64_t(1) << 40);
      break;
    }
  }
  return t;
}

void expectSameTensor(const Tensor &a, const Tensor &b,
                      const std::string &what) {
  ASSERT_FALSE(b.isNull()) << what;
  EXPECT_EQ(a.dtype(), b.dtype()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.byteSize(), b.byteSize()) << what;
  if (a.byteSize()) {
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.byteSize()), 0) << what;
  }
}

const DType kAllDTypes[] = {DType::F32, DType::I8, DType::U8, DType::I32,
                            DType::I64};

//===----------------------------------------------------------------------===//
// Round trips and the written layout
//===----------------------------------------------------------------------===//

TEST(NpyTest, RoundTripEveryDTypeAndRank) {
  const Shape shapes[] = {{}, {5}, {2, 3}, {2, 3, 1, 2, 2}, {0, 3}, {1}};
  for (DType dt : kAllDTypes) {
    for (const Shape &shape : shapes) {
      std::string what =
          std::string(dtypeName(dt)) + " " + shapeToString(shape);
      Tensor t = patternTensor(dt, shape);
      Tensor back = parseNpy(serializeNpy(t), "mem.npy");
      expectSameTensor(t, back, what);
    }
  }
}

TEST(NpyTest, RoundTripThroughFiles) {
  TempDir dir;
  for (DType dt : kAllDTypes) {
    Tensor t = patternTensor(dt, {3, 4});
    std::string path = dir.file(std::string(dtypeName(dt)) + ".npy");
    writeNpy(path, t);
    expectSameTensor(t, readNpy(path), path);
  }
  Tensor scalar = patternTensor(DType::F32, {});
  writeNpy(dir.file("scalar.npy"), scalar);
  Tensor back = readNpy(dir.file("scalar.npy"));
  EXPECT_EQ(back.rank(), 0);
  expectSameTensor(scalar, back, "scalar");
  // Only the final files remain; no temporaries.
  for (const std::string &name : dir.entries())
    EXPECT_FALSE(contains(name, ".tmp")) << name;
}

TEST(NpyTest, WrittenHeaderLayout) {
  struct Case {
    DType dtype;
    Shape shape;
    std::string dict;
  } cases[] = {
      {DType::F32,
       {2, 3},
       "{'descr': '<f4', 'fortran_order': False, "
       "'shape': (2, 3), }"},
      {DType::I8,
       {5},
       "{'descr': '|i1', 'fortran_order': False, "
       "'shape': (5,), }"},
      {DType::U8,
       {},
       "{'descr': '|u1', 'fortran_order': False, "
       "'shape': (), }"},
      {DType::I32,
       {1, 2, 3},
       "{'descr': '<i4', 'fortran_order': False, "
       "'shape': (1, 2, 3), }"},
      {DType::I64,
       {0},
       "{'descr': '<i8', 'fortran_order': False, "
       "'shape': (0,), }"},
  };
  for (const Case &c : cases) {
    std::string img = serializeNpy(Tensor(c.dtype, c.shape));
    ASSERT_GE(img.size(), 10u);
    EXPECT_EQ(img.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    size_t hlen = static_cast<unsigned char>(img[8]) |
                  (static_cast<unsigned char>(img[9]) << 8);
    size_t total = 10 + hlen;
    EXPECT_EQ(total % 64, 0u) << c.dict;
    ASSERT_LE(total, img.size());
    EXPECT_EQ(img.size() - total, Tensor(c.dtype, c.shape).byteSize());
    EXPECT_EQ(img[total - 1], '\n');
    EXPECT_EQ(img.substr(10, c.dict.size()), c.dict);
    // The rest of the header is spaces.
    for (size_t i = 10 + c.dict.size(); i + 1 < total; ++i)
      ASSERT_EQ(img[i], ' ') << c.dict << " at " << i;
  }
}

TEST(NpyTest, SerializeNullTensorThrows) {
  std::string msg = npyErrorOf([] { (void)serializeNpy(Tensor()); });
  EXPECT_CONTAINS(msg, "no storage");
  TempDir dir;
  std::string path = dir.file("null.npy");
  msg = npyErrorOf([&] { writeNpy(path, Tensor()); });
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_TRUE(dir.entries().empty());
}

//===----------------------------------------------------------------------===//
// Hand-written headers
//===----------------------------------------------------------------------===//

TEST(NpyTest, HeaderVariantsAreAccepted) {
  std::string payload = bytesOf<float>({1, 2, 3, 4, 5, 6});
  const char *dicts[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3)}",
      "  {\n 'fortran_order' :False ,\t'shape':( 2 , 3 , ) ,'descr':'<f4',}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",
      "{'descr': u'<f4', 'fortran_order': False, 'shape': ((2), 3)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "
      "'extra': [1, (2,), {'a': None}]}",
      "{'descr': '>f4', 'fortran_order': True, 'descr': '<f4', "
      "'fortran_order': False, 'shape': (2, 3)}",
  };
  for (const char *dict : dicts) {
    Tensor t;
    try {
      t = parseNpy(makeNpy(dict, payload), "x.npy");
    } catch (const NpyError &e) {
      ADD_FAILURE() << dict << ": " << e.what();
      continue;
    }
    EXPECT_EQ(t.dtype(), DType::F32) << dict;
    EXPECT_EQ(t.shape(), (Shape{2, 3})) << dict;
    EXPECT_EQ(t.data<float>()[5], 6.0f) << dict;
  }
}

TEST(NpyTest, VersionsTwoAndThree) {
  std::string payload = bytesOf<int32_t>({7, -8, 9});
  std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,)}";
  for (int major : {2, 3}) {
    Tensor t = parseNpy(makeNpy(dict, payload, major), "x.npy");
    EXPECT_EQ(t.dtype(), DType::I32);
    EXPECT_EQ(t.shape(), (Shape{3}));
    EXPECT_EQ(t.data<int32_t>()[1], -8);
  }
  // Version 3.0 headers are UTF-8; non-ASCII text in other keys is fine.
  std::string utf8 = "{'descr': '<i4', 'fortran_order': False, "
                     "'shape': (3,), 'note': '\xc3\xa9t\xc3\xa9'}";
  EXPECT_EQ(parseNpy(makeNpy(utf8, payload, 3), "x.npy").numElements(), 3);
}

TEST(NpyTest, ScalarAndOneDimensional) {
  Tensor s =
      parseNpy(makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                       bytesOf<float>({2.5f})),
               "x.npy");
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<float>()[0], 2.5f);
  Tensor v = parseNpy(
      makeNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (5,)}",
              std::string("\x01\x02\x03\x04\xff", 5)),
      "x.npy");
  EXPECT_EQ(v.dtype(), DType::U8);
  EXPECT_EQ(v.shape(), (Shape{5}));
  EXPECT_EQ(v.data<uint8_t>()[4], 255);
  Tensor e = parseNpy(
      makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 7)}", ""),
      "x.npy");
  EXPECT_EQ(e.shape(), (Shape{0, 7}));
  EXPECT_EQ(e.numElements(), 0);
}

TEST(NpyTest, ByteOrders) {
  auto parse = [](const std::string &descr, const std::string &payload,
                  const std::string &shape) {
    return parseNpy(makeNpy("{'descr': '" + descr +
                                "', 'fortran_order': False, 'shape': " + shape +
                                "}",
                            payload),
                    "x.npy");
  };
  std::vector<float> f = {1.5f, -2.25f, 1e20f};
  for (bool big : {false, true}) {
    Tensor t = parse(big ? ">f4" : "<f4", bytesOf(f, big), "(3,)");
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(t.data<float>()[i], f[i]) << big;
  }
  std::vector<int32_t> i4 = {1, -2, 0x12345678, INT32_MIN};
  for (bool big : {false, true}) {
    Tensor t = parse(big ? ">i4" : "<i4", bytesOf(i4, big), "(2, 2)");
    EXPECT_EQ(t.dtype(), DType::I32);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(t.data<int32_t>()[i], i4[i]) << big;
  }
  std::vector<int64_t> i8 = {1, -1, int64_t(1) << 40, INT64_MIN, INT64_MAX};
  for (bool big : {false, true}) {
    Tensor t = parse(big ? ">i8" : "<i8", bytesOf(i8, big), "(5,)");
    EXPECT_EQ(t.dtype(), DType::I64);
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(t.data<int64_t>()[i], i8[i]) << big;
  }
  std::vector<double> f8 = {0.1, -2.5, 3e38, -0.0};
  for (bool big : {false, true}) {
    Tensor t = parse(big ? ">f8" : "<f8", bytesOf(f8, big), "(4,)");
    EXPECT_EQ(t.dtype(), DType::F32);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(t.data<float>()[i], static_cast<float>(f8[i])) << big;
  }
  for (const char *descr : {"|i1", "<i1", ">i1"}) {
    Tensor t = parse(descr, std::string("\x80\x7f\xff", 3), "(3,)");
    EXPECT_EQ(t.dtype(), DType::I8);
    EXPECT_EQ(t.data<int8_t>()[0], -128);
    EXPECT_EQ(t.data<int8_t>()[2], -1);
  }
}

TEST(NpyTest, Float64CanBeRefused) {
  std::string img =
      makeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
              bytesOf<double>({1.0}));
  EXPECT_EQ(parseNpy(img, "x.npy", true).data<float>()[0], 1.0f);
  std::string msg = parseError(img, /*allowF64=*/false);
  EXPECT_CONTAINS(msg, "float64");
  EXPECT_CONTAINS(msg, "not accepted");
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

std::string f4Dict(const std::string &shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "}";
}

TEST(NpyTest, FileErrors) {
  std::string missing = "/nonexistent-dir-for-vai/none.npy";
  std::string msg = npyErrorOf([&] { (void)readNpy(missing); });
  EXPECT_EQ(msg.rfind(missing + ": ", 0), 0u) << msg;
  EXPECT_CONTAINS(msg, std::strerror(ENOENT));

  TempDir dir;
  msg = npyErrorOf([&] { (void)readNpy(dir.path()); });
  EXPECT_EQ(msg.rfind(dir.path() + ": ", 0), 0u) << msg;

  writeFileBytes(dir.file("text.npy"), "hello, world\n");
  msg = npyErrorOf([&] { (void)readNpy(dir.file("text.npy")); });
  EXPECT_CONTAINS(msg, dir.file("text.npy") + ": not an npy file");
}

TEST(NpyTest, MagicAndVersionErrors) {
  EXPECT_CONTAINS(parseError(""), "empty");
  EXPECT_CONTAINS(parseError("PK\x03\x04 zip file"), "not an npy file");
  EXPECT_CONTAINS(parseError(std::string("\x93NUMPX\x01\x00", 8)),
                  "not an npy file");
  std::string good = makeNpy(f4Dict("(1,)"), bytesOf<float>({1}));
  for (auto ver : {std::pair<int, int>{4, 0}, {0, 0}, {1, 1}, {2, 1}}) {
    std::string bad = good;
    bad[6] = static_cast<char>(ver.first);
    bad[7] = static_cast<char>(ver.second);
    std::string msg = parseError(bad);
    EXPECT_CONTAINS(msg, "unsupported npy format version " +
                             std::to_string(ver.first) + "." +
                             std::to_string(ver.second));
  }
}

TEST(NpyTest, TruncatedHeader) {
  std::string good = makeNpy(f4Dict("(1,)"), bytesOf<float>({1}));
  EXPECT_CONTAINS(parseError(good.substr(0, 4)), "truncated");
  EXPECT_CONTAINS(parseError(good.substr(0, 9)), "header truncated");
  EXPECT_CONTAINS(parseError(good.substr(0, 40)), "header truncated");
  // A 4-byte length far beyond the file.
  std::string v2 = makeNpy(f4Dict("(1,)"), bytesOf<float>({1}), 2);
  v2[8] = v2[9] = v2[10] = v2[11] = '\xff';
  EXPECT_CONTAINS(parseError(v2), "header truncated");
}

TEST(NpyTest, MalformedHeaders) {
  struct Case {
    std::string dict;
    std::string expected;
  } cases[] = {
      {"", "header is empty"},
      {"   ", "header is empty"},
      {"['descr', '<f4']", "does not start with '{'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}",
       "expected ':'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
       "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
       "malformed header"},
      {"{'descr': '<f4'", "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
       "after the closing '}'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}}",
       "after the closing '}'"},
      {"{descr: '<f4'}", "unexpected name"},
      {"{1: '<f4'}", "expected a string"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}",
       "unexpected name"},
      {"{'descr': '<f4',, 'shape': (1,)}", "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}",
       "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1x,)}",
       "invalid integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}",
       "expected digits"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2]}",
       "expected ')'"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
       "'fortran_order' is an integer"},
      {"{'descr': 4, 'fortran_order': False, 'shape': (1,)}",
       "'descr' is an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
       "'shape' is a list"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
       "'shape' is an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, '2')}",
       "shape dimension 1 is a string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}",
       "shape dimension 0 is a boolean"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
       "'x': '\\",
       "newline inside a string"},
      {std::string("{'descr': '<f4'") + '\0' + ", 'fortran_order': False}",
       "byte 0x00"},
  };
  for (const Case &c : cases) {
    std::string msg = parseError(makeNpy(c.dict, bytesOf<float>({1})));
    EXPECT_CONTAINS(msg, c.expected) << " for header " << c.dict;
  }
}

TEST(NpyTest, DeeplyNestedHeaderIsRejected) {
  // Deep enough to overflow the stack of a naive recursive parser.
  std::string deep = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,),"
                     " 'x': " +
                     std::string(1 << 20, '[') + "}";
  std::string msg = parseError(makeNpy(deep, bytesOf<float>({1}), 2));
  EXPECT_CONTAINS(msg, "nested too deeply");
}

TEST(NpyTest, MissingKeys) {
  std::string payload = bytesOf<float>({1});
  EXPECT_CONTAINS(
      parseError(makeNpy("{'fortran_order': False, 'shape': (1,)}", payload)),
      "missing the 'descr' key");
  EXPECT_CONTAINS(
      parseError(makeNpy("{'descr': '<f4', 'shape': (1,)}", payload)),
      "missing the 'fortran_order' key");
  EXPECT_CONTAINS(
      parseError(makeNpy("{'descr': '<f4', 'fortran_order': False}", payload)),
      "missing the 'shape' key");
  EXPECT_CONTAINS(parseError(makeNpy("{}", payload)), "missing");
}

TEST(NpyTest, UnsupportedDTypes) {
  for (const char *descr : {"<f2", "<u4", "<c8", "<U3", "|S4", "<M8[s]", "x",
                            "<f16", "<i2", "<u8", "|V8"}) {
    std::string msg =
        parseError(makeNpy(std::string("{'descr': '") + descr +
                               "', 'fortran_order': False, 'shape': (1,)}",
                           std::string(64, '\0')));
    EXPECT_CONTAINS(msg, std::string("unsupported dtype '") + descr + "'");
    EXPECT_CONTAINS(msg, "accepted: '<f4'");
  }
  std::string msg = parseError(
      makeNpy("{'descr': '', 'fortran_order': False, 'shape': (1,)}", "x"));
  EXPECT_CONTAINS(msg, "empty 'descr'");
  msg = parseError(
      makeNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (1,)}", "x"));
  EXPECT_CONTAINS(msg, "bool arrays ('|b1') are not supported");
  msg = parseError(
      makeNpy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", "x"));
  EXPECT_CONTAINS(msg, "object arrays");
  msg = parseError(makeNpy("{'descr': [('a', '<f4'), ('b', '<i4')], "
                           "'fortran_order': False, 'shape': (1,)}",
                           std::string(8, '\0')));
  EXPECT_CONTAINS(msg, "structured dtypes are not supported");
}

TEST(NpyTest, FortranOrderIsRejected) {
  std::string msg = parseError(
      makeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}",
              bytesOf<float>({1, 2, 3, 4, 5, 6})));
  EXPECT_CONTAINS(msg, "Fortran-order arrays are not supported; save with "
                       "np.ascontiguousarray");
}

TEST(NpyTest, BadShapes) {
  std::string tiny = bytesOf<float>({1, 2});
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("(-1,)"), tiny)),
                  "negative dimension -1");
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("(2, -3)"), tiny)),
                  "negative dimension -3");
  // Huge but representable: must be rejected by the payload size check
  // without trying to allocate anything.
  EXPECT_CONTAINS(
      parseError(makeNpy(f4Dict("(1099511627776, 1099511627776)"), tiny)),
      "absurd shape");
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("(1099511627776,)"), tiny)),
                  "truncated: expected 4398046511104 bytes of data");
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("(9223372036854775807,)"), tiny)),
                  "absurd shape");
  EXPECT_CONTAINS(
      parseError(makeNpy(f4Dict("(99999999999999999999999999,)"), tiny)),
      "does not fit in 64 bits");
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("(-9223372036854775808,)"), tiny)),
                  "negative dimension");
  // Overflow hidden behind a zero-sized dimension.
  EXPECT_CONTAINS(
      parseError(makeNpy(f4Dict("(4294967296, 4294967296, 0)"), "")),
      "absurd shape");
  // Too many dimensions.
  std::string many = "(";
  for (int i = 0; i < 65; ++i)
    many += "1, ";
  many += ")";
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict(many), bytesOf<float>({1}))),
                  "65 dimensions");
}

TEST(NpyTest, PayloadSizeMismatch) {
  std::string six = bytesOf<float>({1, 2, 3, 4, 5, 6});
  std::string good = makeNpy(f4Dict("(2, 3)"), six);
  EXPECT_NO_THROW((void)parseNpy(good, "x.npy"));
  EXPECT_CONTAINS(parseError(good.substr(0, good.size() - 4)),
                  "truncated: expected 24 bytes of data");
  EXPECT_CONTAINS(parseError(good.substr(0, good.size() - 4)), "found 20");
  EXPECT_CONTAINS(parseError(good + "garbage"),
                  "expected 24 bytes of data for shape (2, 3), found 31");
  EXPECT_CONTAINS(parseError(good + std::string(1, '\0')), "trailing data");
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("()"), "")), "truncated");
  EXPECT_CONTAINS(parseError(makeNpy(f4Dict("(0,)"), "x")), "trailing data");
}

TEST(NpyTest, EveryTruncationThrows) {
  std::vector<std::string> images = {
      serializeNpy(patternTensor(DType::F32, {2, 3})),
      serializeNpy(patternTensor(DType::I64, {})),
      makeNpy(f4Dict("(2,)"), bytesOf<float>({1, 2}), 2),
  };
  for (const std::string &img : images) {
    ASSERT_NO_THROW((void)parseNpy(img, "x.npy"));
    for (size_t len = 0; len < img.size(); ++len) {
      std::string msg =
          npyErrorOf([&] { (void)parseNpy(img.substr(0, len), "x.npy"); });
      ASSERT_EQ(msg.rfind("x.npy: ", 0), 0u) << "prefix " << len << ": " << msg;
    }
  }
}

TEST(NpyTest, FlippedHeaderBytesNeverCrash) {
  std::string img = serializeNpy(patternTensor(DType::I32, {2, 3}));
  size_t headerEnd = img.size() - 24;
  for (size_t pos = 0; pos < headerEnd; ++pos) {
    for (unsigned mask :
         {0x01u, 0x02u, 0x04u, 0x10u, 0x20u, 0x40u, 0x80u, 0xffu}) {
      std::string bad = img;
      bad[pos] = static_cast<char>(bad[pos] ^ mask);
      parseMustNotCrash(bad, "byte " + std::to_string(pos) + " ^ " +
                                 std::to_string(mask));
    }
  }
  // Specific flips must be diagnosed.
  std::string bad = img;
  bad[0] = 'X';
  EXPECT_CONTAINS(parseError(bad), "not an npy file");
  bad = img;
  size_t brace = img.find('{');
  bad[brace] = '(';
  EXPECT_CONTAINS(parseError(bad), "does not start with '{'");
  bad = img;
  bad[img.find('\n')] = '}';
  EXPECT_CONTAINS(parseError(bad), "after the closing '}'");
}

TEST(NpyTest, RandomMutationsNeverCrash) {
  std::mt19937 rng(12345);
  std::vector<std::string> seeds = {
      serializeNpy(patternTensor(DType::F32, {2, 3})),
      serializeNpy(patternTensor(DType::U8, {})),
      makeNpy("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), "
              "'x': [(1, 2), {'a': None}]}",
              std::string(16, '\x01'), 3),
  };
  for (int iter = 0; iter < 20000; ++iter) {
    std::string img = seeds[iter % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !img.empty(); ++e) {
      size_t pos = rng() % img.size();
      switch (rng() % 4) {
      case 0:
        img[pos] = static_cast<char>(rng());
        break;
      case 1:
        img.erase(pos, 1 + rng() % 8);
        break;
      case 2:
        img.insert(pos, 1 + rng() % 4, "(,'\"{}[]0-9 \x93"[rng() % 14]);
        break;
      case 3:
        img.resize(pos);
        break;
      }
    }
    parseMustNotCrash(img, "iteration " + std::to_string(iter));
    if (HasFailure())
      break;
  }
}

TEST(NpyTest, WriteIntoMissingDirectoryThrows) {
  TempDir dir;
  std::string path = dir.file("no/such/dir/out.npy");
  std::string msg =
      npyErrorOf([&] { writeNpy(path, patternTensor(DType::F32, {2})); });
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_TRUE(dir.entries().empty());
}

TEST(NpyTest, FailedRenameLeavesNoTemporary) {
  TempDir dir;
  // The destination is a non-empty directory: rename(2) must fail.
  std::string path = dir.file("target.npy");
  fs::create_directory(path);
  writeFileBytes(path + "/keep", "x");
  std::string msg =
      npyErrorOf([&] { writeNpy(path, patternTensor(DType::U8, {3})); });
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"target.npy"});
}

TEST(NpyTest, WriteReplacesExistingFile) {
  TempDir dir;
  std::string path = dir.file("out.npy");
  writeFileBytes(path, "old contents");
  Tensor t = patternTensor(DType::I64, {4, 2});
  writeNpy(path, t);
  EXPECT_EQ(readFileBytes(path), serializeNpy(t));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.npy"});
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  // Not the 0600 that mkstemp creates (unless the umask says so).
  mode_t mask = ::umask(022);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666u & ~mask);
}

//===----------------------------------------------------------------------===//
// Compatibility with NumPy
//===----------------------------------------------------------------------===//

bool runCommand(const std::string &cmd) {
  int status = std::system(cmd.c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class NpyNumpyTest : public ::testing::Test {
protected:
  void SetUp() override {
    static const bool available =
        runCommand(std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1");
    if (!available)
      GTEST_SKIP() << kPython << " cannot import numpy; install python3-numpy";
  }

  /// Runs a Python script with the scratch directory as argv[1].
  bool runPython(const std::string &script) {
    std::string file = dir_.file("script.py");
    writeFileBytes(file, script);
    return runCommand(std::string(kPython) + " " + file + " " + dir_.path());
  }

  TempDir dir_;
};

TEST_F(NpyNumpyTest, ReadsFilesWrittenByNumpy) {
  ASSERT_TRUE(runPython(R"PY(
import os, sys
import numpy as np
d = sys.argv[1]
def save(name, a, **kw):
    np.save(os.path.join(d, name + '.npy'), a, **kw)
base = np.arange(6, dtype=np.float64).reshape(2, 3) * 1.5 - 2
save('le_f4', base.astype('<f4'))
save('be_f4', base.astype('>f4'))
save('be_i4', np.array([[1, -2, 3], [4, 2**31 - 1, -2**31]], dtype='>i4'))
save('le_i8', np.array([1, -1, 2**40 + 5, -2**62], dtype='<i8'))
save('be_i8', np.array([1, -1, 2**40 + 5, -2**62], dtype='>i8'))
save('i1', np.array([-128, -1, 0, 127], dtype='i1'))
save('u1', np.array([[0, 1], [200, 255]], dtype='u1'))
save('le_f8', np.array([[0.1, -2.5], [1e30, 3.0]], dtype='<f8'))
save('be_f8', np.array([[0.1, -2.5], [1e30, 3.0]], dtype='>f8'))
save('scalar', np.array(3.25, dtype=np.float32))
save('scalar_i8', np.int64(-42))
save('vec', np.arange(5, dtype='<i4'))
save('empty', np.zeros((0, 3), dtype='<f4'))
save('rank5', np.arange(24, dtype='<i4').reshape(2, 3, 1, 2, 2))
save('fortran', np.asfortranarray(base.astype('<f4')))
save('bool', np.array([True, False]))
save('half', np.zeros(3, dtype='<f2'))
save('structured', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
save('object', np.array([1, 'a'], dtype=object), allow_pickle=True)
for v in [(2, 0), (3, 0)]:
    with open(os.path.join(d, 'v%d.npy' % v[0]), 'wb') as f:
        np.lib.format.write_array(f, base.astype('<f4'), version=v)
)PY"));
  auto path = [&](const char *name) {
    return dir_.file(std::string(name) + ".npy");
  };
  const float base[] = {-2, -0.5, 1, 2.5, 4, 5.5};
  for (const char *name : {"le_f4", "be_f4", "v2", "v3"}) {
    Tensor t = readNpy(path(name));
    EXPECT_EQ(t.dtype(), DType::F32) << name;
    ASSERT_EQ(t.shape(), (Shape{2, 3})) << name;
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(t.data<float>()[i], base[i]) << name << " " << i;
  }
  Tensor i4 = readNpy(path("be_i4"));
  ASSERT_EQ(i4.dtype(), DType::I32);
  EXPECT_EQ(i4.shape(), (Shape{2, 3}));
  const int32_t i4Want[] = {1, -2, 3, 4, INT32_MAX, INT32_MIN};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(i4.data<int32_t>()[i], i4Want[i]);
  for (const char *name : {"le_i8", "be_i8"}) {
    Tensor t = readNpy(path(name));
    ASSERT_EQ(t.dtype(), DType::I64) << name;
    const int64_t want[] = {1, -1, (int64_t(1) << 40) + 5, -(int64_t(1) << 62)};
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(t.data<int64_t>()[i], want[i]) << name;
  }
  Tensor i1 = readNpy(path("i1"));
  ASSERT_EQ(i1.dtype(), DType::I8);
  EXPECT_EQ(i1.data<int8_t>()[0], -128);
  EXPECT_EQ(i1.data<int8_t>()[3], 127);
  Tensor u1 = readNpy(path("u1"));
  ASSERT_EQ(u1.dtype(), DType::U8);
  EXPECT_EQ(u1.shape(), (Shape{2, 2}));
  EXPECT_EQ(u1.data<uint8_t>()[2], 200);
  for (const char *name : {"le_f8", "be_f8"}) {
    Tensor t = readNpy(path(name));
    ASSERT_EQ(t.dtype(), DType::F32) << name;
    EXPECT_EQ(t.shape(), (Shape{2, 2}));
    EXPECT_EQ(t.data<float>()[0], 0.1f) << name;
    EXPECT_EQ(t.data<float>()[1], -2.5f) << name;
    EXPECT_EQ(t.data<float>()[2], 1e30f) << name;
    std::string msg = npyErrorOf([&] { (void)readNpy(path(name), false); });
    EXPECT_CONTAINS(msg, "float64");
    EXPECT_CONTAINS(msg, "not accepted");
  }
  Tensor s = readNpy(path("scalar"));
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<float>()[0], 3.25f);
  Tensor si = readNpy(path("scalar_i8"));
  EXPECT_EQ(si.rank(), 0);
  EXPECT_EQ(si.data<int64_t>()[0], -42);
  Tensor vec = readNpy(path("vec"));
  EXPECT_EQ(vec.shape(), (Shape{5}));
  EXPECT_EQ(vec.data<int32_t>()[4], 4);
  EXPECT_EQ(readNpy(path("empty")).shape(), (Shape{0, 3}));
  Tensor r5 = readNpy(path("rank5"));
  EXPECT_EQ(r5.shape(), (Shape{2, 3, 1, 2, 2}));
  EXPECT_EQ(r5.data<int32_t>()[23], 23);

  std::string msg = npyErrorOf([&] { (void)readNpy(path("fortran")); });
  EXPECT_EQ(msg.rfind(path("fortran") + ": ", 0), 0u) << msg;
  EXPECT_CONTAINS(msg, "Fortran-order arrays are not supported; save with "
                       "np.ascontiguousarray");
  EXPECT_CONTAINS(npyErrorOf([&] { (void)readNpy(path("bool")); }),
                  "bool arrays");
  EXPECT_CONTAINS(npyErrorOf([&] { (void)readNpy(path("half")); }),
                  "unsupported dtype '<f2'");
  EXPECT_CONTAINS(npyErrorOf([&] { (void)readNpy(path("structured")); }),
                  "structured dtypes");
  EXPECT_CONTAINS(npyErrorOf([&] { (void)readNpy(path("object")); }),
                  "object arrays");
}

/// The tensors the writer tests save; the Python side rebuilds them with the
/// same formulas as patternTensor().
struct WriterCase {
  const char *name;
  DType dtype;
  Shape shape;
};
const WriterCase kWriterCases[] = {
    {"f32_2x3", DType::F32, {2, 3}},
    {"i8_7", DType::I8, {7}},
    {"u8_2x2x2", DType::U8, {2, 2, 2}},
    {"i32_scalar", DType::I32, {}},
    {"i64_rank5", DType::I64, {1, 2, 1, 3, 2}},
    {"f32_empty", DType::F32, {0, 4}},
    {"u8_long", DType::U8, {123456}},
    {"i32_wide", DType::I32, {3, 1000}},
};

const char *kPatternPy = R"PY(
import os, sys
import numpy as np
d = sys.argv[1]
def pattern(code, shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    if code == '<f4':
        a = (i * 0.25 - 3).astype('<f4')
    elif code == '|i1':
        a = ((i * 37) % 256 - 128).astype('i1')
    elif code == '|u1':
        a = ((i * 13) % 256).astype('u1')
    elif code == '<i4':
        a = (i * 100003 - 5000000).astype('<i4')
    else:
        a = (i * 2**33 + 7 - 2**40).astype('<i8')
    return a.reshape(shape)
cases = [
    ('f32_2x3', '<f4', (2, 3)),
    ('i8_7', '|i1', (7,)),
    ('u8_2x2x2', '|u1', (2, 2, 2)),
    ('i32_scalar', '<i4', ()),
    ('i64_rank5', '<i8', (1, 2, 1, 3, 2)),
    ('f32_empty', '<f4', (0, 4)),
    ('u8_long', '|u1', (123456,)),
    ('i32_wide', '<i4', (3, 1000)),
]
)PY";

TEST_F(NpyNumpyTest, WriterIsByteIdenticalToNumpy) {
  ASSERT_TRUE(runPython(std::string(kPatternPy) + R"PY(
for name, code, shape in cases:
    np.save(os.path.join(d, 'ref_' + name + '.npy'), pattern(code, shape))
)PY"));
  for (const WriterCase &c : kWriterCases) {
    std::string ref =
        readFileBytes(dir_.file(std::string("ref_") + c.name + ".npy"));
    ASSERT_FALSE(ref.empty()) << c.name;
    std::string ours = serializeNpy(patternTensor(c.dtype, c.shape));
    EXPECT_EQ(ours.size(), ref.size()) << c.name;
    EXPECT_TRUE(ours == ref)
        << c.name << ": header ours " << ours.substr(10, 118) << " numpy "
        << ref.substr(10, 118);
    expectSameTensor(patternTensor(c.dtype, c.shape), parseNpy(ref, c.name),
                     c.name);
  }
}

TEST_F(NpyNumpyTest, NumpyReadsOurFiles) {
  for (const WriterCase &c : kWriterCases)
    writeNpy(dir_.file(std::string(c.name) + ".npy"),
             patternTensor(c.dtype, c.shape));
  EXPECT_TRUE(runPython(std::string(kPatternPy) + R"PY(
for name, code, shape in cases:
    a = np.load(os.path.join(d, name + '.npy'))
    assert a.dtype == np.dtype(code), (name, a.dtype)
    assert a.shape == shape, (name, a.shape)
    assert a.flags.c_contiguous, name
    assert np.array_equal(a, pattern(code, shape)), name
)PY"));
}

} // namespace
