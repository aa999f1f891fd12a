#include "sim/commands/accuracy_runs.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <thread>

#include "models/input_error.h"
#include "models/layer_weights.h"
#include "models/quant/quant_metrics.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "sim/commands/run_command.h"
#include "sim/commands/tensor_io.h"
#include "sim/energy/run_energy.h"
#include "sim/mapper/memory_plan.h"
#include "sim/report/text_table.h"
#include "sim/run/memory_system.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

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

// The first image with the config's memory system: the reference check, energy and latency.
void first_image_run(FormatRow& row, const AcceleratorConfig& config, const QuantizedGraph& qgraph,
                     const Tensor& image) {
  const EnergyTable table = load_config_energy_table(config);
  const auto engine = make_tile_engine(config.array);
  const Tensor input = quantize_input(qgraph, image);
  const NetworkRun run = run_network(qgraph, input, *engine, config);
  const ReferenceResult reference = run_reference(qgraph, input, reference_reduction_chunk(config.array));
  const std::vector<LayerCheck> checks = check_against_reference(run, reference);
  row.bit_exact = all_bit_exact(checks);
  for (std::size_t i = 0; i < checks.size() && row.mismatch.empty(); ++i) {
    if (!checks[i].bit_exact) row.mismatch = qgraph.graph.layers[i].name + ": " + checks[i].detail;
  }
  const RunEnergy energy = estimate_run_energy(config, qgraph, run, table);
  row.energy_uj = energy.total.total_pj / 1e6;
  row.latency_us = static_cast<double>(run.total_cycles) / config.clock_mhz;
}

// Every image on the datapath alone (the memory system changes timing, not
// values): top-1, the counts and the network SQNR against fp32.
void all_images_run(FormatRow& row, const AcceleratorConfig& config, const QuantizedGraph& qgraph,
                    const RowInputs& in) {
  AcceleratorConfig datapath = config;
  datapath.memory.modeled = false;
  const std::size_t count = in.images.size();
  row.top1.resize(count);
  if (in.options.logits) row.logits.resize(count);
  std::vector<double> signal(count), noise(count);
  parallel_chunks(count, in.threads, [&](std::size_t begin, std::size_t end) {
    const auto engine = make_tile_engine(datapath.array);
    for (std::size_t i = begin; i < end; ++i) {
      const NetworkRun run = run_network(qgraph, quantize_input(qgraph, in.images[i]), *engine, datapath);
      const Tensor& out = run.layers.back().output;
      row.top1[i] = top1_index(out);
      if (in.options.logits) row.logits[i] = output_values_fp32(out);
      const std::vector<double> values = dequantize(out);
      const std::vector<double>& reference = in.golden.outputs[i];
      if (values.size() != reference.size()) throw std::logic_error("accuracy: output sizes differ from fp32");
      for (std::size_t j = 0; j < values.size(); ++j) {
        signal[i] += reference[j] * reference[j];
        noise[i] += (reference[j] - values[j]) * (reference[j] - values[j]);
      }
    }
  });
  double signal_sum = 0.0, noise_sum = 0.0;  // in image order: the same sum for any thread count
  for (std::size_t i = 0; i < count; ++i) {
    signal_sum += signal[i];
    noise_sum += noise[i];
    row.correct += static_cast<std::int64_t>(row.top1[i]) == in.labels[i];
    row.agree += row.top1[i] == in.golden.top1[i];
  }
  row.sqnr_db = noise_sum == 0.0 ? INFINITY : 10.0 * std::log10(signal_sum / noise_sum);
}

// One row: `qgraph` (npusim's quantization of the model at `format`, or the file's own).
FormatRow run_quantized(const AcceleratorConfig& config, const std::string& format, const QuantizedGraph& qgraph,
                        const RowInputs& in) {
  FormatRow row;
  row.format = format;
  row.mac = config.array.mac.label();
  row.mixed = mixed_note(qgraph);
  row.macs = qgraph.graph.total_macs();
  row.weight_bytes = weight_bytes_of(qgraph);
  first_image_run(row, config, qgraph, in.images.front());
  all_images_run(row, config, qgraph, in);
  return row;
}

}  // namespace

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
    throw InputError(options.config_path +
                     ": $.array.fidelity: accuracy runs thousands of images on several "
                     "threads, so it needs tile fidelity");
  }
  return config;
}

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

FormatRow run_format(const RowInputs& in, const std::string& format, const LoadedModel& model) {
  const AcceleratorConfig config = format_config(in.options, format);
  check_memory_fits(config, model.graph, in.options.config_path);
  if (format == kFileFormat) {
    FormatRow row = run_quantized(config, format, *model.quantized, in);
    row.source = "file";
    return row;
  }
  QuantizedGraph qgraph;
  try {
    qgraph = quantize_graph(model.graph, config.array.mac, in.calibration, in.options.quantization);
  } catch (const std::invalid_argument& error) {
    throw InputError(std::string(error.what()));
  }
  return run_quantized(config, format, qgraph, in);
}

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

}  // namespace npusim
