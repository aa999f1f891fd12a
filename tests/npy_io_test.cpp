// models/npy_io against files laid out byte by byte from NumPy's format
// description (numpy/lib/format.py, "Format Version 1.0"), and against
// numpy itself: what npusim writes, numpy loads, and the other way round.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "models/input_error.h"
#include "models/npy_io.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

class NpyIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("npusim_npy_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A version 1.0 file: magic, version, header length, header padded so the
  // payload starts at a multiple of 64, payload.
  std::string write_raw(const std::string& name, const std::string& dict, const std::string& payload) {
    std::string header = dict;
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    bytes += header + payload;
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string error_of(const std::string& path) {
    try {
      read_npy(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(NpyIo, ReadsLittleEndianFloat32) {
  // 1.0f = 00 00 80 3f, -2.5f = 00 00 20 c0 (IEEE 754 binary32, little-endian).
  const std::string path = write_raw("a.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                                     std::string("\x00\x00\x80\x3f\x00\x00\x20\xc0", 8));
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.type, NpyType::f32);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(a.as_double(), (std::vector<double>{1.0, -2.5}));
}

TEST_F(NpyIo, BadFilesGiveOneLineNamingTheFile) {
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  std::string message = error_of(write_raw("short.npy", f4, std::string(7, '\0')));
  EXPECT_NE(message.find("short.npy: the shape (2,) of float32 needs more than 7 payload bytes, the file has 7"),
            std::string::npos)
      << message;
  message = error_of(write_raw("long.npy", f4, std::string(9, '\0')));
  EXPECT_NE(message.find("needs 8 payload bytes, the file has 9"), std::string::npos) << message;
  message =
      error_of(write_raw("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", std::string(8, '\0')));
  EXPECT_NE(message.find("big.npy: big-endian dtype '>f4'"), std::string::npos) << message;
  message =
      error_of(write_raw("f.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", std::string(8, '\0')));
  EXPECT_NE(message.find("f.npy: expected a C-order array (fortran_order False)"), std::string::npos) << message;
  message =
      error_of(write_raw("c.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", std::string(16, '\0')));
  EXPECT_NE(message.find("unsupported dtype '<c8'"), std::string::npos) << message;
  // A declared size of 2^60 elements is refused before any allocation.
  message = error_of(
      write_raw("huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }", ""));
  EXPECT_NE(message.find("huge.npy: the shape"), std::string::npos) << message;
  message = error_of((dir_ / "missing.npy").string());
  EXPECT_NE(message.find("missing.npy: cannot read the file"), std::string::npos) << message;
  const std::string not_npy = (dir_ / "text.npy").string();
  std::ofstream(not_npy) << "hello world";
  EXPECT_NE(error_of(not_npy).find("text.npy: expected a NumPy .npy file"), std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(NpyIo, WriteIsAtomicAndReadsBack) {
  const std::string path = (dir_ / "out.npy").string();
  write_npy(path, npy_int8({3}, {-1, 0, 127}));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.type, NpyType::i8);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(a.as_double(), (std::vector<double>{-1, 0, 127}));
  // The payload starts at a multiple of 64 (the format's alignment rule).
  EXPECT_EQ(fs::file_size(path) % 64, 3u);
  // A directory that does not exist: an error naming the path, no file.
  const std::string bad = (dir_ / "no" / "such" / "x.npy").string();
  try {
    write_npy(bad, npy_int8({1}, {1}));
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ": cannot write the file"), std::string::npos) << e.what();
  }
}

// numpy (Debian python3-numpy) loads what npusim writes and writes what
// npusim reads; skipped where /usr/bin/python3 has no numpy.
TEST_F(NpyIo, RoundTripWithNumpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) GTEST_SKIP() << "no numpy";
  const std::string ours = (dir_ / "ours.npy").string();
  write_npy(ours, npy_float32({2, 1, 3}, {0.5f, -1.0f, 3.25f, 1e-7f, 0.0f, 65504.0f}));
  const std::string theirs = (dir_ / "theirs.npy").string();
  const std::string script = "import numpy as np; a = np.load('" + ours +
                             "'); "
                             "assert a.dtype == np.float32 and a.shape == (2, 1, 3), (a.dtype, a.shape); "
                             "assert a.ravel().tolist() == [0.5, -1.0, 3.25, float(np.float32(1e-7)), 0.0, 65504.0]; "
                             "np.save('" +
                             theirs + "', (a * 2).astype(np.int64))";
  ASSERT_EQ(std::system(("/usr/bin/python3 -c \"" + script + "\"").c_str()), 0);
  const NpyArray back = read_npy(theirs);
  EXPECT_EQ(back.type, NpyType::i64);
  EXPECT_EQ(back.shape, (std::vector<std::int64_t>{2, 1, 3}));
  EXPECT_EQ(back.as_double(), (std::vector<double>{1, -2, 6, 0, 0, 131008}));
}

}  // namespace
}  // namespace npusim
