#include "sim/commands/accuracy_dataset.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "models/idx_reader.h"
#include "models/input_error.h"
#include "models/npy_io.h"

namespace npusim {
namespace {

bool is_npy_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char magic[6] = {};
  file.read(magic, sizeof magic);
  return file.gcount() == 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text;
  for (const auto d : shape) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

// How many of the array's rows (its first dimension) to keep.
std::int64_t rows_to_read(const NpyArray& array, std::optional<std::int64_t> limit) {
  return limit ? std::min(*limit, array.shape[0]) : array.shape[0];
}

ImageFile read_npy_images(const std::string& path, std::optional<std::int64_t> limit) {
  const NpyArray array = read_npy(path);
  const bool type_ok = array.type == NpyType::u8 || array.type == NpyType::f32;
  if (!type_ok || array.shape.size() < 3 || array.shape.size() > 4) {
    throw InputError(path +
                     ": expected uint8 or float32 images of shape (N, C, H, W), (N, H, W, C) or (N, H, W), got " +
                     to_string(array.type) + " of shape (" + shape_text(array.shape) + ")");
  }
  ImageFile images{path, array.shape, {}};
  images.shape[0] = rows_to_read(array, limit);
  const auto kept = static_cast<std::size_t>(elements(images.shape));
  images.pixels.resize(kept);
  if (array.type == NpyType::u8) {
    std::copy(array.bytes.begin(), array.bytes.begin() + static_cast<std::ptrdiff_t>(kept), images.pixels.begin());
  } else {
    std::memcpy(images.pixels.data(), array.bytes.data(), kept * sizeof(float));  // little-endian, as the host
  }
  return images;
}

std::vector<std::int64_t> read_npy_labels(const std::string& path, std::optional<std::int64_t> limit) {
  const NpyArray array = read_npy(path);
  const bool integer = array.type == NpyType::i8 || array.type == NpyType::u8 || array.type == NpyType::i32 ||
                       array.type == NpyType::i64;
  if (!integer || array.shape.size() != 1) {
    throw InputError(path + ": expected integer labels (int8, uint8, int32 or int64) of shape (N,), got " +
                     to_string(array.type) + " of shape (" + shape_text(array.shape) + ")");
  }
  const std::vector<double> values = array.as_double();
  std::vector<std::int64_t> labels(values.begin(), values.begin() + rows_to_read(array, limit));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      throw InputError(path + ": label " + std::to_string(i) + " is " + std::to_string(labels[i]) +
                       " (expected a class index >= 0)");
    }
  }
  return labels;
}

// Whether the stored image dims are H x W x C rather than C x H x W (or H x W).
bool stored_hwc(const ImageFile& images, const std::vector<std::int64_t>& input_dims, const std::string& model_path) {
  const std::vector<std::int64_t> stored(images.shape.begin() + 1, images.shape.end());
  const std::int64_t c = input_dims.at(0), h = input_dims.at(1), w = input_dims.at(2);
  const bool chw = stored == input_dims || (stored.size() == 2 && c == 1 && stored[0] == h && stored[1] == w);
  const bool hwc = !chw && stored == std::vector<std::int64_t>{h, w, c};
  if (!chw && !hwc) {
    throw InputError(images.path + ": images are " + shape_text(stored) + " but " + model_path + " expects " +
                     shape_text(input_dims) + " (C x H x W, stored N x C x H x W or N x H x W x C)");
  }
  return hwc;
}

}  // namespace

ImageFile read_images(const std::string& path, std::optional<std::int64_t> limit) {
  ImageFile images;
  if (is_npy_file(path)) {
    images = read_npy_images(path, limit);
  } else {
    const IdxArray idx = read_idx_images(path, limit);
    images = ImageFile{path, idx.dims, std::vector<float>(idx.data.begin(), idx.data.end())};
  }
  if (images.shape[0] < 1) throw InputError(path + ": holds no images");
  return images;
}

std::vector<std::int64_t> read_labels(const std::string& path, std::optional<std::int64_t> limit) {
  if (is_npy_file(path)) return read_npy_labels(path, limit);
  const IdxArray idx = read_idx_labels(path, 256, limit);
  return std::vector<std::int64_t>(idx.data.begin(), idx.data.end());
}

void check_image_layout(const ImageFile& images, const std::vector<std::int64_t>& input_dims,
                        const std::string& model_path) {
  stored_hwc(images, input_dims, model_path);
}

std::vector<Tensor> image_tensors(const ImageFile& images, const Preprocess& preprocess,
                                  const std::vector<std::int64_t>& input_dims, const std::string& model_path) {
  const bool hwc = stored_hwc(images, input_dims, model_path);
  const std::int64_t c = input_dims[0], h = input_dims[1], w = input_dims[2];
  const auto pixels = static_cast<std::size_t>(c * h * w);
  std::vector<Tensor> tensors(static_cast<std::size_t>(images.shape[0]));
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    Tensor& t = tensors[i];
    t.dims = input_dims;
    t.format = NumberFormat::fp32;
    t.f.resize(pixels);
    const float* image = images.pixels.data() + i * pixels;
    for (std::size_t j = 0; j < pixels; ++j) {
      // j = (ch * h + y) * w + x in the tensor; an H x W x C image stores it at (y * w + x) * c + ch.
      const std::size_t ch = j / static_cast<std::size_t>(h * w);
      const std::size_t from = hwc ? (j % static_cast<std::size_t>(h * w)) * static_cast<std::size_t>(c) + ch : j;
      t.f[j] = preprocess.apply(image[from], ch);
    }
  }
  return tensors;
}

}  // namespace npusim
