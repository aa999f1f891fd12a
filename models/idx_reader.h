// Reads IDX files (the MNIST / Fashion-MNIST container), gzip'd or plain.
//
// Layout (big-endian): two zero bytes, a type byte (0x08 = unsigned byte, the
// only type these datasets use and the only one read here), the number of
// dimensions, one uint32 size per dimension, then the values row-major.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace npusim {

struct IdxArray {
  std::vector<std::int64_t> dims;  // as declared; dims[0] is the item count
  std::vector<std::uint8_t> data;  // row-major, the first `dims[0]` items
};

// Reads `path` (gzip is detected by its magic, anything else is read as
// plain). `expected_rank` rejects a file of another rank. With `max_items`,
// only the first min(max_items, dims[0]) items are read and dims[0] says how
// many that is; without it the data must end exactly after the last item.
// Throws InputError naming the file and what was expected for a missing file,
// a bad magic, a type other than unsigned byte, a zero dimension, a corrupt
// gzip stream or data that ends early (or runs on).
IdxArray read_idx(const std::string& path, std::optional<int> expected_rank = std::nullopt,
                  std::optional<std::int64_t> max_items = std::nullopt);

// Grayscale images: a rank-3 file, {count, rows, cols}.
IdxArray read_idx_images(const std::string& path, std::optional<std::int64_t> max_items = std::nullopt);

// Class labels: a rank-1 file, each below `classes`.
IdxArray read_idx_labels(const std::string& path, int classes, std::optional<std::int64_t> max_items = std::nullopt);

}  // namespace npusim
