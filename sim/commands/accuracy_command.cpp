#include "sim/commands/accuracy_command.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "models/input_error.h"
#include "models/model_loader.h"
#include "sim/commands/accuracy_dataset.h"
#include "sim/commands/accuracy_report.h"
#include "sim/commands/accuracy_runs.h"
#include "sim/commands/run_command.h"
#include "sim/report/atomic_file.h"
#include "sim/report/output_paths.h"
#include "sim/report/text_table.h"

namespace npusim {
namespace {

// Before thousands of images are run: options in range, no output over an
// input or another output, each output creatable, every format's config good.
std::string check_options(const AccuracyOptions& options) {
  if (options.model_paths.empty()) throw InputError("accuracy needs at least one --model");
  std::vector<NamedPath> inputs{{"--config", options.config_path},
                                {"--images", options.images_path},
                                {"--labels", options.labels_path},
                                {"--calibration-images", options.calibration_images_path}};
  for (const auto& path : options.model_paths) inputs.push_back({"--model", path});
  std::vector<NamedPath> outputs;
  if (options.json_path) outputs.push_back({"--json", *options.json_path});
  if (options.csv_path) outputs.push_back({"--csv", *options.csv_path});
  check_output_paths(inputs, outputs);
  if (options.formats.empty()) throw InputError("--formats: expected at least one format");
  if (options.calibration_count < 1) throw InputError("--calibration-count: expected a positive count");
  if (options.limit && *options.limit < 1) throw InputError("--limit: expected a positive count");
  if (options.logits && !options.json_path) throw InputError("--logits: the logits go in the JSON; give --json FILE");
  std::string config_name;
  for (const auto& format : options.formats) config_name = format_config(options, format).name;
  return config_name;
}

// The test and calibration images, and one label per test image.
struct Dataset {
  ImageFile images;
  ImageFile calibration;
  std::vector<std::int64_t> labels;
};

Dataset read_dataset(const AccuracyOptions& options) {
  Dataset d;
  d.images = read_images(options.images_path, options.limit);
  d.calibration = read_images(options.calibration_images_path, options.calibration_count);
  d.labels = read_labels(options.labels_path, d.images.shape[0]);
  if (static_cast<std::int64_t>(d.labels.size()) != d.images.shape[0]) {
    throw InputError(options.labels_path + ": holds " + std::to_string(d.labels.size()) +
                     " labels (expected one per image, " + std::to_string(d.images.shape[0]) + " from " +
                     options.images_path + ")");
  }
  return d;
}

LoadedModel load_one_model(const std::string& model_path) {
  std::vector<LoadedModel> loaded = load_models(model_path);
  if (loaded.size() != 1) {
    throw InputError(model_path + ": accuracy needs one network, the file holds " + std::to_string(loaded.size()));
  }
  return std::move(loaded.front());
}

std::size_t check_labels(const Graph& graph, const Dataset& data, const AccuracyOptions& options,
                         const std::string& model_path) {
  const std::vector<std::int64_t>& out = graph.layers.back().output_dims;
  const auto classes = static_cast<std::size_t>(out.at(0) * out.at(1) * out.at(2));
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    if (static_cast<std::size_t>(data.labels[i]) >= classes) {
      throw InputError(options.labels_path + ": label " + std::to_string(i) + " is " + std::to_string(data.labels[i]) +
                       " but " + model_path + " has " + std::to_string(classes) + " classes");
    }
  }
  return classes;
}

// A model with everything it needs checked: read before any image runs, so
// that bad input in the last model fails before the first model's runs.
struct PreparedModel {
  std::string path;
  LoadedModel model;
  Preprocess preprocess;
  std::size_t classes = 0;
  std::vector<std::string> formats;
};

PreparedModel prepare_model(const AccuracyOptions& options, const std::string& model_path, const Dataset& data) {
  PreparedModel p{model_path, load_one_model(model_path), {}, 0, {}};
  const Graph& graph = p.model.graph;
  p.preprocess = read_preprocess(preprocess_path_for(model_path), model_path, graph.input_dims.at(0));
  check_image_layout(data.images, graph.input_dims, model_path);
  check_image_layout(data.calibration, graph.input_dims, model_path);
  p.classes = check_labels(graph, data, options, model_path);
  p.formats = formats_for(options, p.model, model_path);
  return p;
}

// Every row of one model: the fp32 golden runs, then each format.
ModelResult evaluate_model(const AccuracyOptions& options, const PreparedModel& p, const Dataset& data, int threads,
                           std::ostream& progress) {
  const Graph& graph = p.model.graph;
  ModelResult result;
  result.name = std::filesystem::path(p.path).stem().string();
  result.path = p.path;
  result.macs = graph.total_macs();
  result.preprocess = p.preprocess;
  const std::vector<Tensor> tests = image_tensors(data.images, p.preprocess, graph.input_dims, p.path);
  const std::vector<Tensor> calibration = image_tensors(data.calibration, p.preprocess, graph.input_dims, p.path);
  const auto count = static_cast<std::int64_t>(tests.size());
  if (options.show_progress)
    progress << "npusim: " << result.name << ": fp32 golden runs of " << count << " images" << std::endl;
  result.golden = golden_runs(graph, tests, threads);
  for (std::size_t i = 0; i < tests.size(); ++i) {
    result.fp32_correct += static_cast<std::int64_t>(result.golden.top1[i]) == data.labels[i];
  }
  const RowInputs inputs{options, tests, calibration, data.labels, result.golden, threads};
  for (const auto& format : p.formats) {
    if (options.show_progress) progress << "npusim: " << result.name << ": " << format << std::endl;
    FormatRow row = run_format(inputs, format, p.model);
    row.note = accuracy_note(row, result.fp32_correct, count, p.classes);
    result.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace

int accuracy_command(const AccuracyOptions& options, std::ostream& out, std::ostream& progress) {
  AccuracySummary summary;
  summary.config_name = check_options(options);
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto started = std::chrono::steady_clock::now();
  const Dataset data = read_dataset(options);
  summary.images = data.images.shape[0];
  summary.calibration_images = data.calibration.shape[0];
  std::vector<PreparedModel> models;
  for (const auto& model_path : options.model_paths) models.push_back(prepare_model(options, model_path, data));
  for (const auto& model : models) summary.models.push_back(evaluate_model(options, model, data, threads, progress));
  print_accuracy_report(out, options, summary);
  if (options.json_path) write_file_atomically(*options.json_path, accuracy_json(options, summary));
  if (options.csv_path) write_file_atomically(*options.csv_path, accuracy_csv(summary));
  if (options.show_progress) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    progress << "npusim: accuracy took " << fixed(seconds, 1) << " s on " << threads << " threads" << std::endl;
  }
  for (const auto& r : summary.models) {
    for (const auto& row : r.rows) {
      if (!row.bit_exact) return kRunMismatch;
    }
  }
  return kRunOk;
}

}  // namespace npusim
