// Hostile and careless file inputs (issue 14): each is a one-line InputError
// naming the file, found before the input's declared sizes are allocated.
#include "models/bounded_read.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "models/idx_reader.h"
#include "models/input_error.h"
#include "models/json_reader.h"
#include "models/scalesim_csv.h"
#include "sim/config/set_override.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

class BoundedRead : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("npusim_bounded_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  fs::path dir_;
};

TEST_F(BoundedRead, DirectoryAndDeviceAreNamedAsSuch) {
  // Before: "invalid JSON: unexpected end of input" and a 126 s, 4.2 GB read of /dev/zero.
  EXPECT_EQ(error_of([&] { read_json_file(dir_.string()); }), dir_.string() + ": is a directory, expected a JSON file");
  EXPECT_EQ(error_of([&] { read_json_file("/dev/zero"); }), "/dev/zero: is a device, expected a JSON file");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir_.string()); }), "is a directory, expected an IDX file");
}

TEST_F(BoundedRead, FileOverTheCapIsRefusedBeforeReading) {
  const std::string path = write("big.json", std::string(100, ' '));
  // 100 bytes against a 64-byte cap: the size comes from stat, the message from read_file_bounded.
  EXPECT_CONTAINS(error_of([&] { read_file_bounded(path, 64, "JSON"); }),
                  "is 100 bytes, over the 64-byte limit for a JSON file");
  EXPECT_EQ(read_file_bounded(path, 100, "JSON").size(), 100u);
}

TEST_F(BoundedRead, DeepJsonIsRefusedWithItsPosition) {
  // 100,000 levels crashed the error printer (stack overflow, SIGSEGV).
  const std::string path = write("deep.json", std::string(100000, '[') + std::string(100000, ']'));
  // The 65th '[' (column 65) is the first beyond the 64-level cap.
  EXPECT_EQ(error_of([&] { read_json_file(path); }),
            path + ":1:65: JSON nested deeper than 64 levels (expected a flatter document)");
  // Brackets inside strings are text, not nesting.
  const std::string quoted = write("quoted.json", "{\"a\": \"" + std::string(1000, '[') + "\"}");
  EXPECT_EQ(read_json_file(quoted)["a"].get<std::string>().size(), 1000u);
}

TEST_F(BoundedRead, InvalidUtf8IsReportedWithItsByteOffset) {
  EXPECT_EQ(first_invalid_utf8("abc"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("a\xC3\xA9z"), std::nullopt);  // é
  EXPECT_EQ(first_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0u);       // overlong '/'
  EXPECT_EQ(first_invalid_utf8("x\xED\xA0\x80"), 1u);  // a UTF-16 surrogate
  // --set used to exit 4 from inside the error printer (json type_error 316).
  EXPECT_EQ(error_of([] { parse_set_override("name=ab\xFF"); }), "--set: invalid UTF-8 at byte 7 (0xff)");
  // A SCALE-Sim layer name with 0xFF did the same when the report was written.
  const std::string csv = write("t.csv",
                                "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                                "Channels, Num Filter, Strides,\nc\xFF, 8, 8, 3, 3, 4, 4, 1,\n");
  EXPECT_EQ(error_of([&] { load_scalesim_csv(csv, 1); }), csv + ":2: invalid UTF-8 at byte 1 (0xff)");
}

TEST_F(BoundedRead, DeepSetValueIsRefused) {
  EXPECT_CONTAINS(error_of([] { parse_set_override("array.rows=" + std::string(1000, '[')); }),
                  "--set array.rows:1:65: JSON nested deeper than 64 levels");
}

TEST(CheckedArithmetic, OverflowIsNullopt) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(checked_mul(1 << 20, 1 << 20), std::int64_t{1} << 40);
  // (2^32-1)^2 = 1.8e19 > 2^63-1: the IDX case that used to wrap.
  EXPECT_EQ(checked_mul(std::int64_t{0xFFFFFFFF}, std::int64_t{0xFFFFFFFF}), std::nullopt);
  EXPECT_EQ(checked_mul(std::int64_t{0xFFFFFFFF}, 2), std::int64_t{0x1FFFFFFFE});
  EXPECT_EQ(checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 31), std::nullopt);
  EXPECT_EQ(checked_mul(-1, 2), std::nullopt);
  EXPECT_EQ(checked_add(kMax, 1), std::nullopt);
}

// IDX: a 28-byte file declaring [2^31-1, 1, 1] zero-filled 2.1 GB before noticing it was short.
TEST_F(BoundedRead, IdxShortFileFailsWithoutAllocatingItsDeclaredSize) {
  std::string bytes = {0, 0, 8, 3, 0x7F, char(0xFF), char(0xFF), char(0xFF), 0, 0, 0, 1, 0, 0, 0, 1};
  bytes += std::string(12, '\x01');
  const std::string path = write("short.idx", bytes);
  EXPECT_EQ(error_of([&] { read_idx_images(path); }),
            path +
                ": file ends early in the data of the 2147483647 items its header declares "
                "(expected 2147483647 bytes, found 12)");
  // 0xFFFFFFFF x 0xFFFFFFFF overflowed a signed product and passed the size check.
  const std::string huge = write("huge.idx", std::string{0, 0, 8, 3, 0, 0, 0, 1, char(0xFF), char(0xFF), char(0xFF),
                                                         char(0xFF), char(0xFF), char(0xFF), char(0xFF), char(0xFF)});
  EXPECT_EQ(error_of([&] { read_idx_images(huge); }), huge + ": IDX items are implausibly large (over 2^32 values)");
}

}  // namespace
}  // namespace npusim
