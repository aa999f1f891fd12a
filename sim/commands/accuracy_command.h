// `npusim accuracy`: top-1 accuracy of an image classifier (any C x H x W
// input) on a labelled test set (Fashion-MNIST by default; IDX or .npy,
// sim/commands/accuracy_dataset.h), each image run through the modeled NPU's
// datapath at each number format, beside what the format costs and saves
// (network SQNR against fp32, MACs, weight bytes, energy and latency of one
// inference).
//
// Per model and format: the fp32 graph is quantized by npusim's post-training
// quantizer with calibration images from the training set, then every test
// image runs layer by layer on tile engines (sim/run/network_runner.h). The first
// test image also runs with the config's memory system and is checked bit for
// bit against the reference executor; its run prices energy and latency.
//
// A model file that carries its own quantization (ONNX QDQ / QOperator) also
// gets a row of format `file` (first, unless --formats places it): the file's
// own scales and zero points, not calibrated, at W8A8. Its other rows are its
// fp32 view quantized by npusim per format, like any other model.
//
// Preprocessing comes from a sidecar next to the model (M.onnx ->
// M.preprocess.json; sim/commands/accuracy_preprocess.h):
// x = (pixel * scale + offset - mean[c]) / std[c].
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "models/quant/quantize.h"
#include "sim/commands/accuracy_preprocess.h"

namespace npusim {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct AccuracyOptions {
  std::string config_path;
  std::vector<std::string> model_paths;  // at least one; one table row per model and format
  std::string images_path = std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz";
  std::string labels_path = std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz";
  std::string calibration_images_path = std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz";
  std::int64_t calibration_count = 256;  // the first N training images
  std::optional<std::int64_t> limit;     // the first N test images (default all)
  // weight = activation; "file": the model file's own quantization (an error for a model without one)
  std::vector<std::string> formats{"fp32", "fp16", "int8", "int4", "binary"};
  std::vector<std::string> set_overrides;  // applied to the config before the format
  QuantizationOptions quantization;        // calibration_samples is unused (calibration_count is)
  int threads = 0;                         // 0: one per hardware thread
  std::optional<std::string> json_path;    // schema npusim.accuracy/1, with per-image predictions
  bool logits = false;                     // the JSON also holds every image's logits, per row (needs json_path)
  std::optional<std::string> csv_path;     // one row per model and format
  bool show_progress = false;
};

// Prints the table on `out`. Bad input throws InputError; returns kRunOk, or
// kRunMismatch when a first-image run differs from the reference executor.
int accuracy_command(const AccuracyOptions& options, std::ostream& out, std::ostream& progress);

}  // namespace npusim
