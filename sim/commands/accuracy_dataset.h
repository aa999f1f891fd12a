// Labelled image sets for `npusim accuracy`: IDX files (the MNIST
// container, gzip'd or plain; models/idx_reader.h) or NumPy .npy files
// (models/npy_io.h), told apart by the .npy magic at the start of the file.
//
// Images: IDX unsigned bytes {N, H, W} (one channel); .npy uint8 or float32
// {N, C, H, W}, {N, H, W, C} or {N, H, W} (one channel). Labels: IDX
// unsigned bytes {N}, or .npy int8, uint8, int32 or int64 {N}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/tensor.h"
#include "sim/commands/accuracy_preprocess.h"

namespace npusim {

struct ImageFile {
  std::string path;
  // As stored; shape[0] is the number of images read (at most the limit).
  std::vector<std::int64_t> shape;
  // The stored values of those images, C order (uint8 and float32 are exact in float).
  std::vector<float> pixels;
};

// The first `limit` images of `path` (all without one). Throws InputError
// "PATH: ..." for a file that is neither IDX nor .npy, a .npy of another
// dtype or rank (or big-endian, Fortran order, truncated), or no images.
ImageFile read_images(const std::string& path, std::optional<std::int64_t> limit = std::nullopt);

// The first `limit` labels of `path`, each >= 0. Throws InputError
// "PATH: ..." for a rank other than 1, a non-integer .npy or a negative label.
std::vector<std::int64_t> read_labels(const std::string& path, std::optional<std::int64_t> limit = std::nullopt);

// The images as fp32 inputs of a graph whose input is `input_dims`
// {C, H, W}, through `preprocess`. A rank-4 file is {N, C, H, W} when its
// image dims equal `input_dims`, else {N, H, W, C} when they equal
// {H, W, C}; a rank-3 file needs C = 1. Throws InputError naming both files
// when the images fit neither layout.
// Throws the InputError of image_tensors when the images fit neither layout.
void check_image_layout(const ImageFile& images, const std::vector<std::int64_t>& input_dims,
                        const std::string& model_path);

std::vector<Tensor> image_tensors(const ImageFile& images, const Preprocess& preprocess,
                                  const std::vector<std::int64_t>& input_dims, const std::string& model_path);

}  // namespace npusim
