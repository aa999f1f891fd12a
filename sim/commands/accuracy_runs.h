// `npusim accuracy`, one model: the fp32 golden run of every test image, then
// one row per number format (sim/commands/accuracy_command.h says what a row
// measures). The results are independent of the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/model_loader.h"
#include "models/tensor.h"
#include "sim/commands/accuracy_command.h"
#include "sim/commands/accuracy_preprocess.h"
#include "sim/config/accelerator_config.h"

namespace npusim {

// The format name of the row that runs a model file's own quantization.
inline constexpr const char* kFileFormat = "file";

// The fp32 golden run of every image: the network output and its top-1.
struct Golden {
  std::vector<std::vector<double>> outputs;  // fp32 values, exact in double
  std::vector<std::size_t> top1;
};

struct FormatRow {
  std::string format;  // as asked: "int8"
  std::string mac;     // the config's MacFormat label: "W8A8"
  std::string mixed;   // compute layers not in `mac`, e.g. "2/3 layers at W8A8"
  std::vector<std::size_t> top1;
  std::vector<std::vector<float>> logits;  // per image, when AccuracyOptions::logits
  std::int64_t correct = 0;
  std::int64_t agree = 0;  // top-1 equal to the fp32 golden run's
  double sqnr_db = 0.0;
  std::int64_t macs = 0;
  std::int64_t weight_bytes = 0;
  double energy_uj = 0.0;
  double latency_us = 0.0;
  bool bit_exact = false;
  std::string mismatch;  // the first layer that differed from the reference
  std::string note;
  std::string source = "npusim";  // whose quantization: "npusim" (calibrated here) or "file" (the model's own)
};

struct ModelResult {
  std::string name;
  std::string path;
  std::int64_t macs = 0;
  Preprocess preprocess;
  std::int64_t fp32_correct = 0;  // the fp32 golden run (reference executor)
  Golden golden;
  std::vector<FormatRow> rows;
};

// What every row of one model runs on.
struct RowInputs {
  const AccuracyOptions& options;
  const std::vector<Tensor>& images;        // fp32 graph inputs, test-set order
  const std::vector<Tensor>& calibration;   // fp32 graph inputs
  const std::vector<std::int64_t>& labels;  // one per image, each below the class count
  const Golden& golden;
  int threads;
};

// Runs body(begin, end) over [0, count) in contiguous chunks, one per thread;
// results must go to per-index slots. The first exception is rethrown.
void parallel_chunks(std::size_t count, int threads, const std::function<void(std::size_t, std::size_t)>& body);

Golden golden_runs(const Graph& graph, const std::vector<Tensor>& images, int threads);

// The config of a row: options.config_path with --set, at `format` (weight =
// activation; `file` is W8A8). InputError for an unknown format or pe fidelity.
AcceleratorConfig format_config(const AccuracyOptions& options, const std::string& format);

// The formats a model runs at: a model carrying its own quantization gets the
// `file` row first unless --formats places it; asking for `file` of a model
// without one is an error.
std::vector<std::string> formats_for(const AccuracyOptions& options, const LoadedModel& model,
                                     const std::string& model_path);

// One row: `model` at `format`, every image.
FormatRow run_format(const RowInputs& inputs, const std::string& format, const LoadedModel& model);

// What a reader should know about a row's accuracy against the fp32 golden run.
std::string accuracy_note(const FormatRow& row, std::int64_t fp32_correct, std::int64_t images, std::size_t classes);

}  // namespace npusim
