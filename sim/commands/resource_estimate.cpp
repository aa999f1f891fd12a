#include "sim/commands/resource_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "models/input_error.h"

namespace npusim {
namespace {

// Bytes per element of what a run holds (measured: docs/robustness.md).
// Weights: fp32 master, quantized integers and the engine's packed copy.
constexpr double kBytesPerWeight = 14.0;
// Activations: the fp32 golden run, the quantized run and the simulated run
// each keep every layer's output (the bit-exact check compares them).
constexpr double kBytesPerActivation = 12.0;
// im2col of the largest conv: integer operands and their float image.
constexpr double kBytesPerIm2colElement = 8.0;
// One calibration input (fp32) per sample, all held; percentile and mse keep
// every sample's activations to choose their ranges.
constexpr double kBytesPerCalibrationValue = 4.0;
// pe fidelity: one SystemC module with its signals per processing element.
constexpr double kBytesPerPe = 64.0;
// One buffered trace event (traces/trace_spill.h: 64-byte records), in the
// recorder and the spill store's sort buffer.
constexpr double kBytesPerTraceEvent = 128.0;
// The process itself (binary, SystemC kernel, allocator slack).
constexpr double kBaseBytes = 32.0 * 1024 * 1024;
// Throughput (measured: docs/robustness.md). Tile fidelity with the fp32
// reference and calibration: vgg16, 15.5 G MACs, in 80 s on this machine's
// core; pe fidelity: tiny_mixed on a 256x256 array in 7.7 s.
constexpr double kMacsPerSecond = 2e8;
constexpr double kPeUpdatesPerSecond = 7e7;

// In double: declared dimensions may multiply past int64 before the estimate refuses them.
double elements_as_double(const std::vector<std::int64_t>& dims) {
  double n = 1;
  for (const auto d : dims) n *= static_cast<double>(d);
  return n;
}

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

std::string gigabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GB", bytes / 1e9);
  return text;
}

std::string duration(double seconds) {
  char text[48];
  if (seconds < 120)
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  else if (seconds < 7200)
    std::snprintf(text, sizeof text, "%.0f minutes", seconds / 60);
  else
    std::snprintf(text, sizeof text, "%.3g hours", seconds / 3600);
  return text;
}

struct Tally {
  ResourceEstimate estimate;
  ResourceItem largest_im2col;  // transient: only the largest is held at once
  int rows = 1, cols = 1;
  void add(std::string what, double bytes) {
    estimate.peak_bytes += bytes;
    if (bytes > estimate.largest.bytes) estimate.largest = ResourceItem{std::move(what), bytes};
  }
  // A GEMM of M rows, K deep, N wide (per group) on the pe engine: each fold
  // of the array streams M rows plus the fill and drain of the array.
  void add_pe_work(double m, double k, double n, double groups) {
    const double folds = std::ceil(k / rows) * std::ceil(n / cols) * groups;
    estimate.pe_updates += folds * (m + rows + cols) * rows * cols;
  }
};

// Weights, activations and im2col of one graph; returns its activation elements.
double add_graph(Tally& tally, const Graph& graph) {
  std::map<std::string, const std::vector<std::int64_t>*> dims{{graph.input_name, &graph.input_dims}};
  double activations = elements_as_double(graph.input_dims);
  for (const Layer& layer : graph.layers) {
    dims[layer.name] = &layer.output_dims;
    const double out = elements_as_double(layer.output_dims);
    activations += out;
    tally.add(
        "layer " + quoted(layer.name) + " (its output, " + std::to_string(static_cast<long long>(out)) + " values)",
        out * kBytesPerActivation);
    if (layer.type == LayerType::constant) {
      tally.add("layer " + quoted(layer.name) + " (constant values)", out * kBytesPerWeight);
      continue;
    }
    if (layer.type != LayerType::conv2d && layer.type != LayerType::fc) continue;
    const auto input = layer.inputs.empty() ? dims.end() : dims.find(layer.inputs[0]);
    if (input == dims.end()) continue;
    const double in = elements_as_double(*input->second);
    if (layer.type == LayerType::fc) {
      tally.add("layer " + quoted(layer.name) + " (" + std::to_string(layer.fc.out_features) + " x " +
                    std::to_string(static_cast<long long>(in)) + " weights)",
                static_cast<double>(layer.fc.out_features) * in * kBytesPerWeight);
      tally.estimate.macs += static_cast<double>(layer.fc.out_features) * in;
      tally.add_pe_work(1, in, static_cast<double>(layer.fc.out_features), 1);
      continue;
    }
    const Conv2dParams& c = layer.conv;
    const double window = static_cast<double>(c.kernel_h) * c.kernel_w;
    const double k = static_cast<double>((*input->second)[0]) / std::max(c.groups, 1) * window;
    const double pixels =
        layer.output_dims.size() == 3 ? elements_as_double(layer.output_dims) / layer.output_dims[0] : 0;
    tally.add("layer " + quoted(layer.name) + " (weights)", static_cast<double>(c.out_channels) * k * kBytesPerWeight);
    const double im2col = k * pixels * kBytesPerIm2colElement;
    if (im2col > tally.largest_im2col.bytes) {
      tally.largest_im2col = {"layer " + quoted(layer.name) + " (im2col, " +
                                  std::to_string(static_cast<long long>(k * pixels)) + " values)",
                              im2col};
    }
    tally.estimate.macs += static_cast<double>(c.out_channels) * k * pixels;
    tally.add_pe_work(pixels, k, static_cast<double>(c.out_channels) / std::max(c.groups, 1), std::max(c.groups, 1));
  }
  return activations;
}

}  // namespace

std::uint64_t default_max_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::uint64_t{8} << 30;  // unknown: assume a small machine
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2;
}

ResourceEstimate estimate_resources(const AcceleratorConfig& config, const std::vector<const Graph*>& graphs,
                                    const ResourceOptions& options) {
  Tally tally;
  tally.rows = std::max(config.array.rows, 1);
  tally.cols = std::max(config.array.cols, 1);
  tally.add("the process", kBaseBytes);
  double largest_input = 0, largest_activations = 0;
  for (const Graph* graph : graphs) {
    const double activations = add_graph(tally, *graph);
    largest_input = std::max(largest_input, elements_as_double(graph->input_dims));
    largest_activations = std::max(largest_activations, activations);
  }
  if (tally.largest_im2col.bytes > 0) tally.add(tally.largest_im2col.what, tally.largest_im2col.bytes);
  const double samples = options.quantization.calibration_samples;
  // The fp32 reference and the simulated run, plus one fp32 pass per calibration sample.
  double passes = 2;
  if (config.array.mac.integer() && samples > 1) {
    const bool keeps_values = options.quantization.method != CalibrationMethod::min_max;
    const double values = samples * (largest_input + (keeps_values ? largest_activations : 0.0));
    tally.add("--calibration-samples " + std::to_string(options.quantization.calibration_samples),
              values * kBytesPerCalibrationValue);
    passes += samples;
  }
  tally.estimate.seconds = tally.estimate.macs * passes / kMacsPerSecond;
  tally.estimate.slowest =
      passes > 2 ? "--calibration-samples " + std::to_string(options.quantization.calibration_samples)
                 : "the network's " + std::to_string(static_cast<long long>(tally.estimate.macs)) + " MACs";
  if (config.fidelity == Fidelity::pe) {
    const double pes = static_cast<double>(config.array.rows) * config.array.cols;
    tally.add("pe fidelity on a " + std::to_string(config.array.rows) + "x" + std::to_string(config.array.cols) +
                  " array (one SystemC module per PE)",
              pes * kBytesPerPe);
    const double pe_seconds = tally.estimate.pe_updates / kPeUpdatesPerSecond;
    if (pe_seconds > tally.estimate.seconds) {
      tally.estimate.slowest =
          "pe fidelity on a " + std::to_string(config.array.rows) + "x" + std::to_string(config.array.cols) + " array";
    }
    tally.estimate.seconds += pe_seconds;
  }
  if (options.tracing) {
    tally.add("--trace (its event buffer)", static_cast<double>(options.trace_flush_events) * kBytesPerTraceEvent);
  }
  return tally.estimate;
}

void check_resources(const AcceleratorConfig& config, const std::vector<const Graph*>& graphs,
                     const ResourceOptions& options) {
  const ResourceEstimate estimate = estimate_resources(config, graphs, options);
  const bool defaulted = options.max_memory_bytes == 0;
  const double limit = static_cast<double>(defaulted ? default_max_memory_bytes() : options.max_memory_bytes);
  if (estimate.peak_bytes > limit) {
    throw InputError("resource estimate: the run needs about " + gigabytes(estimate.peak_bytes) +
                     " of memory, over the " + std::to_string(static_cast<long long>(limit / (1 << 20))) +
                     " MB of --max-memory-mb" + (defaulted ? " (default: half the physical memory)" : "") +
                     "; the most is " + estimate.largest.what + " at " + gigabytes(estimate.largest.bytes));
  }
  if (estimate.seconds > options.max_seconds) {
    throw InputError("resource estimate: the run is expected to take about " + duration(estimate.seconds) +
                     ", over the " + duration(options.max_seconds) + " of --max-sim-minutes" +
                     (options.max_seconds == kDefaultMaxSimSeconds ? " (default: an hour)" : "") +
                     "; the time goes to " + estimate.slowest);
  }
}

}  // namespace npusim
