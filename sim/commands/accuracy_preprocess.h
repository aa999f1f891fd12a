// The preprocessing sidecar of an `npusim accuracy` model (M.onnx ->
// M.preprocess.json, schema npusim.preprocess/1): how a stored pixel becomes
// the model's input value,
//
//   x = (pixel * scale + offset - mean[c]) / std[c]
//
// in double, rounded once to fp32, c the pixel's channel. scale and offset
// are required (1/255 and 0 map uint8 pixels to [0, 1], like torchvision's
// ToTensor); mean and std, optional, hold one number per input channel
// (torchvision's Normalize; default 0 and 1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace npusim {

struct Preprocess {
  double scale = 1.0;
  double offset = 0.0;
  std::vector<double> mean;                   // one per channel, or empty (0)
  std::vector<double> stddev;                 // $.std: one per channel, each > 0, or empty (1)
  std::optional<double> torch_fp32_accuracy;  // the training script's, on the whole test set
  std::optional<double> torch_int8_accuracy;  // torch's own quantized model (an export script's), whole test set

  // The model input value of `pixel` in channel `c`.
  float apply(double pixel, std::size_t c) const;
};

// The sidecar of a model file: "<dir>/<stem>.preprocess.json".
std::string preprocess_path_for(const std::string& model_path);

// Reads the sidecar at `path` of `model_path`, whose input has `channels`
// channels. Throws InputError "PATH: $.key: expected ..." (one line) for a
// missing file, bad JSON, a wrong schema, a scale or offset that is not a
// finite number (or a zero scale), and a mean or std that is not a list of
// `channels` finite numbers (std: positive).
Preprocess read_preprocess(const std::string& path, const std::string& model_path, std::int64_t channels);

}  // namespace npusim
