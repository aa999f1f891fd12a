// The IDX reader against hand-made files (plain and gzip'd, good and broken)
// and the header and label counts of Debian's Fashion-MNIST test set.
#include "models/idx_reader.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/input_error.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

using Bytes = std::vector<std::uint8_t>;

// An unsigned-byte IDX file: magic 00 00 08 <rank>, big-endian dims, values.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& values, std::uint8_t type = 0x08) {
  Bytes bytes{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  bytes.insert(bytes.end(), values.begin(), values.end());
  return bytes;
}

Bytes counting(std::size_t n) {
  Bytes values(n);
  std::iota(values.begin(), values.end(), std::uint8_t{1});
  return values;
}

class IdxReaderTest : public testing::TempDirTest {
 protected:
  std::string write_plain(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  std::string write_gzip(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    gzFile file = gzopen(path.c_str(), "wb9");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }

  // The message of the InputError `read` throws (fails the test when none is thrown).
  template <typename Read>
  static std::string error_of(Read read) {
    try {
      read();
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "expected an InputError";
    return "";
  }
};

TEST_F(IdxReaderTest, ReadsPlainAndGzipFilesAlike) {
  const Bytes values = counting(2 * 2 * 3);
  const Bytes file = idx_bytes({2, 2, 3}, values);
  for (const std::string& path : {write_plain("a.idx", file), write_gzip("a.idx.gz", file)}) {
    const IdxArray array = read_idx_images(path);
    EXPECT_EQ(array.dims, (std::vector<std::int64_t>{2, 2, 3})) << path;
    EXPECT_EQ(array.data, values) << path;
  }
}

TEST_F(IdxReaderTest, MaxItemsReadsOnlyTheFirstItems) {
  const Bytes values = counting(3 * 2 * 2);
  const std::string path = write_gzip("a.gz", idx_bytes({3, 2, 2}, values));
  const IdxArray two = read_idx_images(path, 2);
  EXPECT_EQ(two.dims, (std::vector<std::int64_t>{2, 2, 2}));
  EXPECT_EQ(two.data, Bytes(values.begin(), values.begin() + 8));
  // More than the file holds: all of them.
  EXPECT_EQ(read_idx_images(path, 50).dims[0], 3);
}

TEST_F(IdxReaderTest, LabelsAreCheckedAgainstTheClassCount) {
  const std::string path = write_plain("l.idx", idx_bytes({3}, {0, 9, 3}));
  EXPECT_EQ(read_idx_labels(path, 10).data, (Bytes{0, 9, 3}));
  const std::string bad = write_plain("bad.idx", idx_bytes({3}, {0, 10, 3}));
  const std::string message = error_of([&] { read_idx_labels(bad, 10); });
  EXPECT_NE(message.find(bad), std::string::npos) << message;
  EXPECT_NE(message.find("label 1 is 10 (expected a class below 10)"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, BadHeadersNameTheFileAndWhatWasExpected) {
  Bytes bad_magic = idx_bytes({1, 1, 1}, {7});
  bad_magic[0] = 0x1f;
  const std::string magic_path = write_plain("magic.idx", bad_magic);
  std::string message = error_of([&] { read_idx_images(magic_path); });
  EXPECT_NE(message.find(magic_path + ": not an IDX file"), std::string::npos) << message;
  EXPECT_NE(message.find("0x1f"), std::string::npos) << message;

  const std::string float_path = write_plain("float.idx", idx_bytes({1, 1, 1}, {0, 0, 0, 0}, 0x0d));
  message = error_of([&] { read_idx_images(float_path); });
  EXPECT_NE(message.find("value type 0x0d is not supported (expected 0x08, unsigned byte)"), std::string::npos)
      << message;

  const std::string labels_path = write_plain("labels.idx", idx_bytes({4}, {1, 2, 3, 4}));
  message = error_of([&] { read_idx_images(labels_path); });
  EXPECT_NE(message.find(labels_path + ": IDX file has 1 dimensions (expected 3)"), std::string::npos) << message;

  const std::string zero_path = write_plain("zero.idx", idx_bytes({2, 0, 3}, {}));
  message = error_of([&] { read_idx_images(zero_path); });
  EXPECT_NE(message.find("dimension 1 is 0"), std::string::npos) << message;

  const std::string short_header = write_plain("short.idx", {0, 0, 8, 3, 0, 0});
  message = error_of([&] { read_idx_images(short_header); });
  EXPECT_NE(message.find(short_header + ": file ends early in the IDX dimensions (expected 12 bytes, found 2)"),
            std::string::npos)
      << message;

  const std::string missing = (dir_ / "missing.gz").string();
  message = error_of([&] { read_idx_images(missing); });
  EXPECT_NE(message.find(missing + ": cannot open"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, TruncatedOrOverlongDataIsAnError) {
  const Bytes file = idx_bytes({2, 2, 3}, counting(12));
  const std::string short_path = write_plain("short.idx", Bytes(file.begin(), file.end() - 5));
  std::string message = error_of([&] { read_idx_images(short_path); });
  EXPECT_NE(message.find(short_path + ": file ends early in the data of the 2 items its header declares "
                                      "(expected 12 bytes, found 7)"),
            std::string::npos)
      << message;

  Bytes longer = file;
  longer.push_back(0);
  const std::string long_path = write_gzip("long.gz", longer);
  message = error_of([&] { read_idx_images(long_path); });
  EXPECT_NE(message.find(long_path + ": data runs on after the 2 items"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, TruncatedGzipStreamIsAnError) {
  // Incompressible-ish values, so that the cut falls inside the deflate data.
  Bytes values(4 * 16 * 16);
  std::uint32_t state = 12345;
  for (auto& v : values) v = static_cast<std::uint8_t>((state = state * 1103515245u + 12345u) >> 24);
  const std::string whole = write_gzip("whole.gz", idx_bytes({4, 16, 16}, values));
  Bytes compressed;
  {
    std::ifstream in(whole, std::ios::binary);
    compressed.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(compressed.size(), 200u);
  for (const std::size_t cut : {compressed.size() / 2, compressed.size() - 4}) {
    const std::string path =
        write_plain("cut" + std::to_string(cut) + ".gz", Bytes(compressed.begin(), compressed.begin() + cut));
    const std::string message = error_of([&] { read_idx_images(path); });
    EXPECT_NE(message.find(path + ": "), std::string::npos) << message;
    const bool says_truncated =
        message.find("ends early") != std::string::npos || message.find("truncated") != std::string::npos;
    EXPECT_TRUE(says_truncated) << message;
  }
}

TEST(IdxReaderDataset, FashionMnistTestSetHeaderAndLabels) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const IdxArray images = read_idx_images(dir + "t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(images.dims, (std::vector<std::int64_t>{10000, 28, 28}));
  ASSERT_EQ(images.data.size(), 10000u * 28 * 28);
  // The first image's pixel sum and brightest pixel, from numpy on the same file.
  EXPECT_EQ(std::accumulate(images.data.begin(), images.data.begin() + 784, 0), 33456);
  EXPECT_EQ(std::max_element(images.data.begin(), images.data.begin() + 784) - images.data.begin(), 577);

  const IdxArray labels = read_idx_labels(dir + "t10k-labels-idx1-ubyte.gz", 10);
  EXPECT_EQ(labels.dims, (std::vector<std::int64_t>{10000}));
  EXPECT_EQ(Bytes(labels.data.begin(), labels.data.begin() + 10), (Bytes{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  std::vector<int> per_class(10, 0);
  for (const auto label : labels.data) ++per_class[label];
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));  // the test set is balanced
}

}  // namespace
}  // namespace npusim
