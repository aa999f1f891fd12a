#include "sim/commands/accuracy_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "models/reference/fp32_executor.h"
#include "models/idx_reader.h"
#include "models/input_error.h"
#include "sim/report/output_paths.h"
#include "models/layer_weights.h"
#include "models/model_loader.h"
#include "models/quant/quant_metrics.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/report/atomic_file.h"
#include "sim/mapper/memory_plan.h"
#include "sim/run/memory_system.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "sim/commands/run_command.h"
#include "sim/energy/run_energy.h"
#include "sim/report/text_table.h"

namespace npusim {
namespace {

// The format name of the row that runs a model file's own quantization.
constexpr const char* kFileFormat = "file";

// x = pixel * scale + offset, from the model's sidecar.
struct Preprocess {
  double scale = 1.0;
  double offset = 0.0;
  std::optional<double> torch_fp32_accuracy;  // the training script's, on the whole test set
  std::optional<double> torch_int8_accuracy;  // torch's own quantized model (an export script's), whole test set
};

Preprocess read_preprocess(const std::string& path, const std::string& model_path) {
  std::ifstream file(path);
  if (!file) {
    throw InputError(path + ": cannot open the preprocessing sidecar of " + model_path +
                     " (expected a JSON file with \"scale\" and \"offset\": x = pixel * scale + offset)");
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(file);
  } catch (const nlohmann::json::parse_error& error) {
    throw InputError(path + ": not valid JSON (" + std::string(error.what()) + ")");
  }
  if (!doc.is_object() || doc.value("schema", "") != "npusim.preprocess/1") {
    throw InputError(path + ": $.schema: expected \"npusim.preprocess/1\"");
  }
  Preprocess p;
  for (const char* key : {"scale", "offset"}) {
    if (!doc.contains(key) || !doc[key].is_number() || !std::isfinite(doc[key].get<double>())) {
      throw InputError(path + ": $." + key + ": expected a finite number");
    }
  }
  p.scale = doc["scale"].get<double>();
  p.offset = doc["offset"].get<double>();
  if (!(p.scale != 0.0)) throw InputError(path + ": $.scale: expected a non-zero number");
  if (doc.contains("torch") && doc["torch"].is_object() && doc["torch"].contains("fp32_test_accuracy") &&
      doc["torch"]["fp32_test_accuracy"].is_number()) {
    p.torch_fp32_accuracy = doc["torch"]["fp32_test_accuracy"].get<double>();
  }
  if (doc.contains("torch") && doc["torch"].is_object() && doc["torch"].contains("int8_test_accuracy") &&
      doc["torch"]["int8_test_accuracy"].is_number()) {
    p.torch_int8_accuracy = doc["torch"]["int8_test_accuracy"].get<double>();
  }
  return p;
}

// The images as fp32 graph inputs {1, rows, cols}.
std::vector<Tensor> image_tensors(const IdxArray& images, const Preprocess& p, const Graph& graph,
                                  const std::string& images_path, const std::string& model_path) {
  const std::vector<std::int64_t> dims{1, images.dims[1], images.dims[2]};
  if (graph.input_dims != dims) {
    std::string want;
    for (const auto d : graph.input_dims) {
      if (!want.empty()) want += 'x';
      want += std::to_string(d);
    }
    throw InputError(images_path + ": images are 1x" + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                     " but " + model_path + " expects an input of " + want);
  }
  const auto pixels = static_cast<std::size_t>(dims[1] * dims[2]);
  std::vector<Tensor> tensors(static_cast<std::size_t>(images.dims[0]));
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    Tensor& t = tensors[i];
    t.dims = dims;
    t.format = NumberFormat::fp32;
    t.f.resize(pixels);
    for (std::size_t j = 0; j < pixels; ++j) {
      t.f[j] = static_cast<float>(static_cast<double>(images.data[i * pixels + j]) * p.scale + p.offset);
    }
  }
  return tensors;
}

// Runs body(thread, begin, end) over [0, count) in contiguous chunks, one per
// thread; results must go to per-index slots, so they do not depend on the
// thread count. The first exception is rethrown.
void parallel_chunks(std::size_t count, int threads, const std::function<void(std::size_t, std::size_t)>& body) {
  const std::size_t n = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads), count));
  if (n == 1) {
    body(0, count);
    return;
  }
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < n; ++t) {
    workers.emplace_back([&, t] {
      try {
        body(count * t / n, count * (t + 1) / n);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// The fp32 golden run of every image: the network output and its top-1.
struct Golden {
  std::vector<std::vector<double>> outputs;
  std::vector<std::size_t> top1;
};

Golden golden_runs(const Graph& graph, const std::vector<Tensor>& images, int threads) {
  const Fp32Executor fp32(graph);
  Golden golden;
  golden.outputs.resize(images.size());
  golden.top1.resize(images.size());
  parallel_chunks(images.size(), threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const Tensor out = fp32.run(images[i]).back();
      golden.outputs[i] = dequantize(out);
      golden.top1[i] = top1_index(out);
    }
  });
  return golden;
}

struct FormatRow {
  std::string format;   // as asked: "int8"
  std::string mac;      // the config's MacFormat label: "W8A8"
  std::string mixed;    // compute layers not in `mac`, e.g. "2/3 layers at W8A8"
  std::vector<std::size_t> top1;
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
  std::vector<std::size_t> fp32_top1;
  std::vector<FormatRow> rows;
};

std::int64_t weight_bytes_of(const QuantizedGraph& qgraph) {
  std::int64_t bytes = 0;
  for (std::size_t i = 0; i < qgraph.graph.layers.size(); ++i) {
    const Layer& layer = qgraph.graph.layers[i];
    if (!is_compute_layer(layer)) continue;
    bytes += packed_bytes_of(static_cast<std::int64_t>(layer.weights.size()), storage_bits(qgraph.mac_of(i).weight));
  }
  return bytes;
}

std::string mixed_note(const QuantizedGraph& qgraph) {
  int compute = 0, other = 0;
  std::string other_label;
  for (std::size_t i = 0; i < qgraph.graph.layers.size(); ++i) {
    if (!is_compute_layer(qgraph.graph.layers[i])) continue;
    ++compute;
    const MacFormat mac = qgraph.mac_of(i);
    if (mac.label() != qgraph.mac.label()) {
      ++other;
      other_label = mac.label();
    }
  }
  if (other == 0) return "";
  return std::to_string(other) + "/" + std::to_string(compute) + " layers at " + other_label;
}

AcceleratorConfig format_config(const AccuracyOptions& options, const std::string& asked) {
  // The file's own quantization is W8A8 (int8 operands, int32 accumulation).
  const std::string format = asked == kFileFormat ? "int8" : asked;
  const auto parsed = parse_number_format(format);
  if (!parsed) {
    throw InputError("--formats: unknown format '" + format +
                     "' (expected fp32, fp16, bf16, int8, int4, binary, or file: the model file's own quantization)");
  }
  auto overrides = options.set_overrides;
  overrides.push_back("formats.weight=" + format);
  overrides.push_back("formats.activation=" + format);
  overrides.push_back("formats.accumulator=" + std::string(to_string(default_accumulator(*parsed, *parsed))));
  AcceleratorConfig config = load_accelerator_config(options.config_path, overrides);
  if (config.fidelity == Fidelity::pe) {
    throw InputError(options.config_path + ": $.array.fidelity: accuracy runs thousands of images on several "
                     "threads, so it needs tile fidelity");
  }
  return config;
}

// One row: `qgraph` (npusim's quantization of `graph` at `format`, or the
// file's own) run on every image.
FormatRow run_quantized(const AcceleratorConfig& config, const std::string& format, const Graph& graph,
                        const QuantizedGraph& qgraph, const std::vector<Tensor>& images,
                        const std::vector<std::uint8_t>& labels, const Golden& golden, int threads) {
  const EnergyTable table = load_config_energy_table(config);
  FormatRow row;
  row.format = format;
  row.mac = config.array.mac.label();
  row.mixed = mixed_note(qgraph);
  row.macs = graph.total_macs();
  row.weight_bytes = weight_bytes_of(qgraph);

  // The first image with the config's memory system: the reference check, energy and latency.
  {
    const auto engine = make_tile_engine(config.array);
    const Tensor input = quantize_input(qgraph, images.front());
    const NetworkRun run = run_network(qgraph, input, *engine, config);
    const ReferenceResult reference = run_reference(qgraph, input, reference_reduction_chunk(config.array));
    const std::vector<LayerCheck> checks = check_against_reference(run, reference);
    row.bit_exact = all_bit_exact(checks);
    for (std::size_t i = 0; i < checks.size() && row.mismatch.empty(); ++i) {
      if (!checks[i].bit_exact) row.mismatch = graph.layers[i].name + ": " + checks[i].detail;
    }
    const RunEnergy energy = estimate_run_energy(config, qgraph, run, table);
    row.energy_uj = energy.total.total_pj / 1e6;
    row.latency_us = static_cast<double>(run.total_cycles) / config.clock_mhz;
  }

  // Every image on the datapath alone: the memory system changes timing, not values.
  AcceleratorConfig datapath = config;
  datapath.memory.modeled = false;
  row.top1.resize(images.size());
  std::vector<double> signal(images.size()), noise(images.size());
  parallel_chunks(images.size(), threads, [&](std::size_t begin, std::size_t end) {
    const auto engine = make_tile_engine(datapath.array);
    for (std::size_t i = begin; i < end; ++i) {
      const NetworkRun run = run_network(qgraph, quantize_input(qgraph, images[i]), *engine, datapath);
      const Tensor& out = run.layers.back().output;
      row.top1[i] = top1_index(out);
      const std::vector<double> values = dequantize(out);
      const std::vector<double>& reference = golden.outputs[i];
      if (values.size() != reference.size()) throw std::logic_error("accuracy: output sizes differ from fp32");
      for (std::size_t j = 0; j < values.size(); ++j) {
        signal[i] += reference[j] * reference[j];
        noise[i] += (reference[j] - values[j]) * (reference[j] - values[j]);
      }
    }
  });
  double signal_sum = 0.0, noise_sum = 0.0;  // in image order: the same sum for any thread count
  for (std::size_t i = 0; i < images.size(); ++i) {
    signal_sum += signal[i];
    noise_sum += noise[i];
    row.correct += row.top1[i] == labels[i];
    row.agree += row.top1[i] == golden.top1[i];
  }
  row.sqnr_db = noise_sum == 0.0 ? INFINITY : 10.0 * std::log10(signal_sum / noise_sum);
  return row;
}

FormatRow run_format(const AccuracyOptions& options, const std::string& format, const LoadedModel& model,
                     const std::vector<Tensor>& calibration, const std::vector<Tensor>& images,
                     const std::vector<std::uint8_t>& labels, const Golden& golden, int threads) {
  const AcceleratorConfig config = format_config(options, format);
  check_memory_fits(config, model.graph, options.config_path);
  if (format == kFileFormat) {
    FormatRow row = run_quantized(config, format, model.graph, *model.quantized, images, labels, golden, threads);
    row.source = "file";
    return row;
  }
  QuantizedGraph qgraph;
  try {
    qgraph = quantize_graph(model.graph, config.array.mac, calibration, options.quantization);
  } catch (const std::invalid_argument& error) {
    throw InputError(std::string(error.what()));
  }
  return run_quantized(config, format, model.graph, qgraph, images, labels, golden, threads);
}

// The formats a model runs at: a model carrying its own quantization gets the
// `file` row first unless --formats places it; asking for `file` of a model
// without one is an error.
std::vector<std::string> formats_for(const AccuracyOptions& options, const LoadedModel& model,
                                     const std::string& model_path) {
  const bool asked = std::find(options.formats.begin(), options.formats.end(), kFileFormat) != options.formats.end();
  if (asked && !model.quantized) {
    throw InputError("--formats: " + model_path + " carries no quantization of its own, so it has no '" +
                     std::string(kFileFormat) + "' row (only ONNX QDQ / QOperator files do)");
  }
  std::vector<std::string> formats;
  if (model.quantized && !asked) formats.push_back(kFileFormat);
  formats.insert(formats.end(), options.formats.begin(), options.formats.end());
  return formats;
}

// What a reader should know about a row's accuracy against the fp32 golden run.
std::string accuracy_note(const FormatRow& row, std::int64_t fp32_correct, std::int64_t images, std::size_t classes) {
  std::string note = row.mixed;
  if (row.source == "file") note = "the file's own scales and zero points";
  const double accuracy = static_cast<double>(row.correct) / static_cast<double>(images);
  const double fp32 = static_cast<double>(fp32_correct) / static_cast<double>(images);
  const double chance = 1.0 / static_cast<double>(classes);
  // Collapsed: less than half of fp32's margin over guessing is left.
  std::string verdict;
  if (accuracy - chance < 0.5 * (fp32 - chance)) {
    verdict = "PTQ collapses: " + fixed(100.0 * (fp32 - accuracy), 1) + " pp below fp32, chance is " +
              fixed(100.0 * chance, 0) + " %";
  } else if (fp32 - accuracy > 0.03) {
    verdict = "PTQ loses " + fixed(100.0 * (fp32 - accuracy), 1) + " pp";
  }
  if (!verdict.empty()) note += (note.empty() ? "" : "; ") + verdict;
  if (!row.bit_exact) note += (note.empty() ? "" : "; ") + std::string("reference MISMATCH: ") + row.mismatch;
  return note;
}

std::string model_name(const std::string& path) { return std::filesystem::path(path).stem().string(); }

std::string sqnr_text(double db) {
  return std::isinf(db) ? std::string(db > 0 ? "inf" : "-inf") : fixed(db, 1);
}

bool classes_fit_digits(const std::vector<std::size_t>& top1) {
  return std::all_of(top1.begin(), top1.end(), [](std::size_t c) { return c < 10; });
}

std::string predictions_text(const std::vector<std::size_t>& top1) {
  std::string text;
  text.reserve(top1.size());
  for (const std::size_t c : top1) text.push_back(static_cast<char>('0' + c));
  return text;
}

}  // namespace

std::string preprocess_path_for(const std::string& model_path) {
  std::filesystem::path path(model_path);
  return (path.parent_path() / (path.stem().string() + ".preprocess.json")).string();
}

int accuracy_command(const AccuracyOptions& options, std::ostream& out, std::ostream& progress) {
  if (options.model_paths.empty()) throw InputError("accuracy needs at least one --model");
  {
    // Before thousands of images are run: no output over an input or another output, each creatable.
    std::vector<NamedPath> inputs{{"--config", options.config_path},
                                  {"--images", options.images_path},
                                  {"--labels", options.labels_path},
                                  {"--calibration-images", options.calibration_images_path}};
    for (const auto& path : options.model_paths) inputs.push_back({"--model", path});
    std::vector<NamedPath> outputs;
    if (options.json_path) outputs.push_back({"--json", *options.json_path});
    if (options.csv_path) outputs.push_back({"--csv", *options.csv_path});
    check_output_paths(inputs, outputs);
  }
  if (options.formats.empty()) throw InputError("--formats: expected at least one format");
  if (options.calibration_count < 1) throw InputError("--calibration-count: expected a positive count");
  if (options.limit && *options.limit < 1) throw InputError("--limit: expected a positive count");
  const int threads = options.threads > 0 ? options.threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto started = std::chrono::steady_clock::now();
  // Every format's config loads up front, so a bad config or format fails before the long runs.
  std::string config_name;
  for (const auto& format : options.formats) config_name = format_config(options, format).name;

  const IdxArray images = read_idx_images(options.images_path, options.limit);
  const IdxArray calibration_images = read_idx_images(options.calibration_images_path, options.calibration_count);
  const IdxArray labels = read_idx_labels(options.labels_path, 256, images.dims[0]);
  if (labels.dims[0] != images.dims[0]) {
    throw InputError(options.labels_path + ": holds " + std::to_string(labels.dims[0]) + " labels (expected one per image, " +
                     std::to_string(images.dims[0]) + " from " + options.images_path + ")");
  }
  const auto count = static_cast<std::size_t>(images.dims[0]);

  std::vector<ModelResult> results;
  for (const auto& model_path : options.model_paths) {
    const std::vector<LoadedModel> loaded = load_models(model_path);
    if (loaded.size() != 1) {
      throw InputError(model_path + ": accuracy needs one network, the file holds " + std::to_string(loaded.size()));
    }
    const LoadedModel& model = loaded.front();
    const Graph& graph = model.graph;
    ModelResult result;
    result.name = model_name(model_path);
    result.path = model_path;
    result.macs = graph.total_macs();
    result.preprocess = read_preprocess(preprocess_path_for(model_path), model_path);
    const std::vector<Tensor> tests = image_tensors(images, result.preprocess, graph, options.images_path, model_path);
    const std::vector<Tensor> calibration =
        image_tensors(calibration_images, result.preprocess, graph, options.calibration_images_path, model_path);
    const std::size_t classes = static_cast<std::size_t>(graph.layers.back().output_dims.at(0));
    for (std::size_t i = 0; i < count; ++i) {
      if (labels.data[i] >= classes) {
        throw InputError(options.labels_path + ": label " + std::to_string(i) + " is " + std::to_string(labels.data[i]) +
                         " but " + model_path + " has " + std::to_string(classes) + " classes");
      }
    }
    if (options.show_progress) progress << "npusim: " << result.name << ": fp32 golden runs of " << count << " images" << std::endl;
    const Golden golden = golden_runs(graph, tests, threads);
    result.fp32_top1 = golden.top1;
    for (std::size_t i = 0; i < count; ++i) result.fp32_correct += golden.top1[i] == labels.data[i];
    for (const auto& format : formats_for(options, model, model_path)) {
      if (options.show_progress) progress << "npusim: " << result.name << ": " << format << std::endl;
      FormatRow row = run_format(options, format, model, calibration, tests, labels.data, golden, threads);
      row.note = accuracy_note(row, result.fp32_correct, static_cast<std::int64_t>(count), classes);
      result.rows.push_back(std::move(row));
    }
    results.push_back(std::move(result));
  }

  const auto pct = [&](std::int64_t n) { return fixed(100.0 * static_cast<double>(n) / static_cast<double>(count), 2); };
  out << "npusim accuracy: " << count << " test images (" << options.images_path << "), calibration on the first "
      << calibration_images.dims[0] << " of " << options.calibration_images_path << " ("
      << to_string(options.quantization.method) << "), config " << config_name << "\n";
  for (const auto& r : results) {
    out << r.name << ": " << r.macs << " MACs; fp32 reference executor top-1 " << pct(r.fp32_correct) << " %";
    if (r.preprocess.torch_fp32_accuracy && !options.limit) {
      out << " (torch, from the training script: " << fixed(100.0 * *r.preprocess.torch_fp32_accuracy, 2) << " %)";
    }
    if (r.preprocess.torch_int8_accuracy && !options.limit) {
      out << "; torch's own int8 model " << fixed(100.0 * *r.preprocess.torch_int8_accuracy, 2) << " %";
    }
    out << "\n";
  }
  out << "\n";
  const std::vector<std::string> titles{"model",   "format",      "mac",        "top1_pct", "correct",
                                        "agree_fp32_pct", "sqnr_db", "weight_bytes", "energy_uj", "latency_us",
                                        "check",   "note"};
  std::vector<std::vector<std::string>> table;
  for (const auto& r : results) {
    for (const auto& row : r.rows) {
      table.push_back({r.name, row.format, row.mac, pct(row.correct), std::to_string(row.correct), pct(row.agree),
                       sqnr_text(row.sqnr_db), std::to_string(row.weight_bytes), fixed(row.energy_uj, 4),
                       fixed(row.latency_us, 3), row.bit_exact ? "bit-exact" : "MISMATCH", row.note});
    }
  }
  auto columns = table_columns(titles, 3);
  columns[10].numeric = false;
  columns[11].numeric = false;
  print_table(out, columns, table);
  out << "\nagree_fp32_pct: top-1 equal to the fp32 reference executor's; sqnr_db: network output against fp32, "
         "over all images; energy_uj, latency_us: one inference (the first image, with the config's memory); "
         "check: that run against the reference executor\n";
  out.flush();

  if (options.json_path) {
    nlohmann::ordered_json json;
    json["schema"] = "npusim.accuracy/1";
    json["config"] = config_name;
    json["test_images"] = {{"images", options.images_path}, {"labels", options.labels_path}, {"count", count}};
    json["calibration"] = {{"images", options.calibration_images_path},
                           {"count", calibration_images.dims[0]},
                           {"method", std::string(to_string(options.quantization.method))},
                           {"per_channel_weights", options.quantization.per_channel}};
    auto models = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json m;
      m["name"] = r.name;
      m["file"] = r.path;
      m["macs"] = r.macs;
      m["preprocess"] = {{"scale", r.preprocess.scale}, {"offset", r.preprocess.offset}};
      m["fp32_reference_correct"] = r.fp32_correct;
      if (classes_fit_digits(r.fp32_top1)) m["fp32_reference_predictions"] = predictions_text(r.fp32_top1);
      auto rows = nlohmann::ordered_json::array();
      for (const auto& row : r.rows) {
        nlohmann::ordered_json j;
        j["format"] = row.format;
        j["mac"] = row.mac;
        j["quantization"] = row.source;
        j["correct"] = row.correct;
        j["top1_accuracy"] = rounded(static_cast<double>(row.correct) / static_cast<double>(count), 6);
        j["agree_fp32"] = row.agree;
        j["network_sqnr_db"] = std::isfinite(row.sqnr_db) ? nlohmann::ordered_json(rounded(row.sqnr_db, 4))
                                                          : nlohmann::ordered_json(nullptr);
        j["macs"] = row.macs;
        j["weight_bytes"] = row.weight_bytes;
        j["energy_uj"] = rounded(row.energy_uj, 6);
        j["latency_us"] = rounded(row.latency_us, 6);
        j["bit_exact"] = row.bit_exact;
        j["note"] = row.note;
        // One digit per image (classes below 10), in test-set order.
        if (classes_fit_digits(row.top1)) j["predictions"] = predictions_text(row.top1);
        rows.push_back(j);
      }
      m["rows"] = rows;
      models.push_back(m);
    }
    json["models"] = models;
    write_file_atomically(*options.json_path, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  if (options.csv_path) {
    std::string csv = "model,format,mac,top1_pct,correct,images,agree_fp32_pct,sqnr_db,macs,weight_bytes,energy_uj,"
                      "latency_us,bit_exact,note\n";
    for (const auto& r : results) {
      for (const auto& row : r.rows) {
        csv += r.name + "," + row.format + "," + row.mac + "," + pct(row.correct) + "," + std::to_string(row.correct) +
               "," + std::to_string(count) + "," + pct(row.agree) + "," +
               (std::isfinite(row.sqnr_db) ? fixed(row.sqnr_db, 4) : std::string()) + "," + std::to_string(row.macs) +
               "," + std::to_string(row.weight_bytes) + "," + fixed(row.energy_uj, 6) + "," + fixed(row.latency_us, 6) +
               "," + (row.bit_exact ? "true" : "false") + ",\"" + row.note + "\"\n";
      }
    }
    write_file_atomically(*options.csv_path, csv);
  }
  if (options.show_progress) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    progress << "npusim: accuracy took " << fixed(seconds, 1) << " s on " << threads << " threads" << std::endl;
  }
  for (const auto& r : results) {
    for (const auto& row : r.rows) {
      if (!row.bit_exact) return kRunMismatch;
    }
  }
  return kRunOk;
}

}  // namespace npusim
