#include "models/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <string>

#include "models/bounded_read.h"
#include "models/input_error.h"

namespace npusim {
namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
// More would not be a dataset this reader is meant for (and would not fit in memory).
constexpr std::int64_t kMaxElements = std::int64_t{1} << 32;

// One open file; zlib reads plain files transparently, so one path serves both.
class IdxStream {
 public:
  explicit IdxStream(const std::string& path) : path_(path), file_(open(path)) {
    if (file_ == nullptr) throw InputError(path + ": cannot open the IDX file");
    gzbuffer(file_, 1 << 18);
  }
  ~IdxStream() {
    if (file_ != nullptr) gzclose_r(file_);
  }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;

  // Appends exactly `size` bytes to `out`, growing it only as bytes arrive: a
  // header that declares gigabytes in a short file fails at its end, having
  // held no more than the file's bytes.
  void read_appending(std::vector<std::uint8_t>& out, std::size_t size, const std::string& what) {
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    const std::size_t start = out.size();
    while (out.size() - start < size) {
      const std::size_t done = out.size() - start;
      const std::size_t step = std::min(size - done, kChunk);
      out.resize(out.size() + step);
      const std::size_t got = read_upto(out.data() + start + done, step, what);
      if (got < step) fail_short(what, size, done + got);
    }
  }

  // Fills `out` or throws naming `what` was being read.
  void read_exact(std::uint8_t* out, std::size_t size, const std::string& what) {
    const std::size_t got = read_upto(out, size, what);
    if (got < size) fail_short(what, size, got);
  }

  // Throws unless the data ends here (and a gzip stream ends intact).
  void expect_end(const std::string& after) {
    std::uint8_t extra = 0;
    const int got = gzread(file_, &extra, 1);
    if (got < 0) throw_stream_error(after);
    if (got > 0) throw InputError(path_ + ": data runs on after " + after + " (expected the file to end there)");
    check_stream(after);
  }

 private:
  // Reads up to `size` bytes, fewer only at the end of the data.
  std::size_t read_upto(std::uint8_t* out, std::size_t size, const std::string& what) {
    std::size_t done = 0;
    while (done < size) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1u << 30));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) throw_stream_error(what);
      if (got == 0) {
        check_stream(what);
        break;
      }
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  [[noreturn]] void fail_short(const std::string& what, std::size_t size, std::size_t found) {
    throw InputError(path_ + ": file ends early in " + what + " (expected " + std::to_string(size) + " bytes, found " +
                     std::to_string(found) + ")");
  }

  void check_stream(const std::string& what) {
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK) throw_stream_error(what);
  }

  [[noreturn]] void throw_stream_error(const std::string& what) {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code == Z_BUF_ERROR) {
      throw InputError(path_ + ": gzip stream ends early in " + what + " (truncated .gz file)");
    }
    throw InputError(path_ + ": corrupt gzip data in " + what + " (" + (message ? message : "zlib error") + ")");
  }

  static gzFile open(const std::string& path) {
    check_input_file(path, "IDX");
    return gzopen(path.c_str(), "rb");
  }

  std::string path_;
  gzFile file_;
};

std::uint32_t big_endian_u32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
         std::uint32_t{bytes[3]};
}

std::string hex_byte(std::uint8_t value) {
  constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 15];
}

}  // namespace

IdxArray read_idx(const std::string& path, std::optional<int> expected_rank, std::optional<std::int64_t> max_items) {
  IdxStream stream(path);
  std::uint8_t magic[4] = {};
  stream.read_exact(magic, 4, "the IDX magic number");
  if (magic[0] != 0 || magic[1] != 0) {
    throw InputError(path + ": not an IDX file (expected the magic number to start with two zero bytes, got " +
                     hex_byte(magic[0]) + " " + hex_byte(magic[1]) + ")");
  }
  if (magic[2] != kUnsignedByteType) {
    throw InputError(path + ": IDX value type " + hex_byte(magic[2]) +
                     " is not supported (expected 0x08, unsigned byte)");
  }
  const int rank = magic[3];
  if (rank == 0 || (expected_rank && rank != *expected_rank)) {
    throw InputError(path + ": IDX file has " + std::to_string(rank) + " dimensions (expected " +
                     (expected_rank ? std::to_string(*expected_rank) : std::string("at least 1")) + ")");
  }
  std::vector<std::uint8_t> header(static_cast<std::size_t>(rank) * 4);
  stream.read_exact(header.data(), header.size(), "the IDX dimensions");

  IdxArray array;
  std::int64_t item_elements = 1;
  for (int d = 0; d < rank; ++d) {
    const std::int64_t size = big_endian_u32(header.data() + 4 * d);
    if (size == 0) throw InputError(path + ": IDX dimension " + std::to_string(d) + " is 0 (expected a positive size)");
    array.dims.push_back(size);
    // Each factor is below 2^32 and the running product at most 2^32, so
    // the product fits int64; checked anyway, as every declared size is.
    if (d > 0) item_elements = checked_mul(item_elements, size).value_or(kMaxElements + 1);
    if (item_elements > kMaxElements) throw InputError(path + ": IDX items are implausibly large (over 2^32 values)");
  }
  const std::int64_t declared = array.dims[0];
  const std::int64_t items = max_items ? std::min(declared, std::max<std::int64_t>(*max_items, 0)) : declared;
  if (checked_mul(items, item_elements).value_or(kMaxElements + 1) > kMaxElements) {
    throw InputError(path + ": IDX file declares over 2^32 values (expected a dataset that fits in memory)");
  }
  array.dims[0] = items;
  stream.read_appending(array.data, static_cast<std::size_t>(items * item_elements),
                        "the data of the " + std::to_string(items) + " items its header declares");
  if (items == declared) stream.expect_end("the " + std::to_string(declared) + " items its header declares");
  return array;
}

IdxArray read_idx_images(const std::string& path, std::optional<std::int64_t> max_items) {
  return read_idx(path, 3, max_items);
}

IdxArray read_idx_labels(const std::string& path, int classes, std::optional<std::int64_t> max_items) {
  IdxArray labels = read_idx(path, 1, max_items);
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= classes) {
      throw InputError(path + ": label " + std::to_string(i) + " is " + std::to_string(labels.data[i]) +
                       " (expected a class below " + std::to_string(classes) + ")");
    }
  }
  return labels;
}

}  // namespace npusim
