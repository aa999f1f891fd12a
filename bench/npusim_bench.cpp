// Simulation speed, printed as figures (not a timed test: these machines are
// noisy). Figures:
//  - tile fidelity: simulated MACs per wall-clock second over a whole network,
//    values included (lowering, GEMM kernel, post-processing), per format;
//  - pe fidelity: PE-register updates per second of the SystemC model
//    (R*C per clock), on the network's GEMMs until a time budget is spent.
// Usage: npusim_bench [--model M.json] [--rows R] [--cols C] [--pe-seconds S]
//                     [--formats fp32,fp16,bf16,int8,int4,binary]
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "accel/array/gemm_engine.h"
#include "accel/array/pe_array_module.h"
#include "accel/memory/dram_presets.h"
#include "models/network_json.h"
#include "models/quant/quantize.h"
#include "sim/config/accelerator_config.h"
#include "sim/mapper/lowering.h"
#include "sim/run/network_runner.h"

namespace {

using Clock = std::chrono::steady_clock;
using npusim::NumberFormat;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

npusim::MacFormat mac_for(const std::string& name) {
  npusim::MacFormat mac;
  const auto format = npusim::parse_number_format(name);
  if (!format) throw std::runtime_error("unknown format " + name);
  mac.weight = mac.activation = *format;
  mac.accumulator = npusim::default_accumulator(*format, *format);
  return mac;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

struct TimedRun {
  double wall_s;
  npusim::NetworkRun run;
};

// Quantizes outside the timed region, then times run_network alone.
TimedRun time_tile_run(const npusim::Graph& graph, const npusim::Tensor& input,
                       const npusim::AcceleratorConfig& config) {
  const npusim::QuantizedGraph qgraph = npusim::quantize_graph(graph, config.array.mac, input);
  const npusim::Tensor qinput = npusim::quantize_input(qgraph, input);
  auto engine = npusim::make_tile_engine(config.array);
  const auto start = Clock::now();
  npusim::NetworkRun run = npusim::run_network(qgraph, qinput, *engine, config);
  return {seconds_since(start), std::move(run)};
}

npusim::AcceleratorConfig bench_config(int rows, int cols, const std::string& format) {
  npusim::AcceleratorConfig config;
  config.name = "bench";
  config.clock_mhz = 1000;
  config.array.rows = rows;
  config.array.cols = cols;
  config.array.mac = mac_for(format);
  return config;
}

struct BenchOptions {
  std::string model = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/resnet18.json";
  int rows = 32, cols = 32;
  double pe_seconds = 10.0;
  std::string formats = "int8,int4,binary,fp16,bf16,fp32";
};

// Parses the command line; returns an exit status when the program should stop
// (--help: 0, a bad option: 2).
std::optional<int> parse_options(int argc, char** argv, BenchOptions& o) {
  namespace po = boost::program_options;
  po::options_description options(
      "npusim_bench: simulated MAC/s per format (tile fidelity) and PE updates/s (pe fidelity)");
  options.add_options()("help,h", "print this help")("model", po::value(&o.model),
                                                     "network JSON (default: the zoo's ResNet-18)")(
      "rows", po::value(&o.rows), "array rows (default 32)")("cols", po::value(&o.cols), "array columns (default 32)")(
      "pe-seconds", po::value(&o.pe_seconds), "wall-time budget of the pe-fidelity run (default 10)")(
      "formats", po::value(&o.formats), "comma-separated formats (default int8,int4,binary,fp16,bf16,fp32)");
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << options << "\n";
      return 0;
    }
  } catch (const po::error& e) {
    std::fprintf(stderr, "npusim_bench: %s\n", e.what());
    return 2;
  }
  if (o.rows < 1 || o.cols < 1 || !(o.pe_seconds > 0)) {
    std::fprintf(stderr, "npusim_bench: --rows and --cols must be >= 1 and --pe-seconds > 0\n");
    return 2;
  }
  return std::nullopt;
}

// Tile fidelity: the memory model's cost (int8 with no memory model, the ideal
// memory, DDR4-3200 and LPDDR4-4266), then every format without memory.
void bench_tile(const npusim::Graph& graph, const npusim::Tensor& input, const BenchOptions& o) {
  for (const std::string memory : {"none", "ideal", "ddr4-3200", "lpddr4-4266"}) {
    npusim::AcceleratorConfig config = bench_config(o.rows, o.cols, "int8");
    if (memory != "none") {
      config.memory.modeled = true;
      config.memory.dram = *npusim::dram_preset(memory);
    }
    const TimedRun t = time_tile_run(graph, input, config);
    std::printf("%-8s %-9s %12.3f %14.3e %12s   memory %s, %lld simulated cycles\n", "int8", "tile", t.wall_s,
                t.run.total_macs / t.wall_s, "-", memory.c_str(), static_cast<long long>(t.run.total_cycles));
    std::fflush(stdout);
  }
  for (const std::string& name : split(o.formats)) {
    const TimedRun t = time_tile_run(graph, input, bench_config(o.rows, o.cols, name));
    std::printf("%-8s %-9s %12.3f %14.3e %12s\n", name.c_str(), "tile", t.wall_s, t.run.total_macs / t.wall_s, "-");
    std::fflush(stdout);
  }
}

// The pe fidelity: the int8 network's GEMMs, in order, through the SystemC
// module, until the time budget is spent (a whole ResNet-18 is ~3e9 PE updates).
void bench_pe(const npusim::Graph& graph, const npusim::Tensor& input, const BenchOptions& o, npusim::GemmEngine& pe) {
  npusim::ArrayConfig array;
  array.rows = o.rows;
  array.cols = o.cols;
  array.mac = mac_for("int8");
  const npusim::QuantizedGraph qgraph = npusim::quantize_graph(graph, array.mac, input);
  const npusim::Tensor qinput = npusim::quantize_input(qgraph, input);
  std::vector<npusim::LoweredGemm> gemms;
  for (std::size_t i = 0; i < graph.layers.size() && gemms.size() < 64; ++i) {
    const auto& layer = graph.layers[i];
    // Layer inputs are not needed for timing speed: lower every layer from a
    // tensor of the right shape (the sample input has values in range).
    if (layer.type != npusim::LayerType::conv2d) continue;
    std::vector<std::int64_t> in_dims = graph.input_dims;
    for (std::size_t j = 0; j < i; ++j) {
      if (graph.layers[j].name == layer.inputs[0]) in_dims = graph.layers[j].output_dims;
    }
    npusim::Tensor layer_input = qinput;
    layer_input.dims = in_dims;
    layer_input.q.assign(static_cast<std::size_t>(layer_input.elements()), 1);
    gemms.push_back(npusim::lower_conv2d_group(layer.conv, layer_input, qgraph.layers[i].weights, 0));
  }
  const auto start = Clock::now();
  std::int64_t pe_updates = 0, macs = 0;
  std::size_t ran = 0;
  for (const auto& gemm : gemms) {
    const auto result = pe.run(gemm.operands());
    pe_updates += result.cycles * o.rows * o.cols;
    macs += gemm.shape.m * gemm.shape.n * gemm.shape.k;
    ++ran;
    if (seconds_since(start) > o.pe_seconds) break;
  }
  const double wall = seconds_since(start);
  std::printf("%-8s %-9s %12.3f %14.3e %12.3e   (%zu GEMMs)\n", "int8", "pe", wall, macs / wall, pe_updates / wall,
              ran);
}

}  // namespace

int main(int argc, char** argv) {
  setenv("SYSC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  BenchOptions options;
  if (const auto status = parse_options(argc, argv, options)) return *status;
  const npusim::Graph graph = npusim::load_network_json(options.model);
  const npusim::Tensor input = npusim::make_sample_input(graph);
  std::printf("network %s: %.3f GMAC per inference, array %dx%d WS, lanes 1\n", graph.name.c_str(),
              graph.total_macs() / 1e9, options.rows, options.cols);
  std::printf("%-8s %-9s %12s %14s %12s\n", "format", "fidelity", "wall_s", "sim_mac_per_s", "pe_upd_per_s");
  // The pe run goes first, in a child process: its engine elaborates SystemC
  // modules, which cannot be built once the tile runs with memory have
  // started the kernel, and its clock must not tick during the tile runs.
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    npusim::ArrayConfig pe_array;
    pe_array.rows = options.rows;
    pe_array.cols = options.cols;
    pe_array.mac = mac_for("int8");
    const auto pe = npusim::make_pe_engine(pe_array, 1000.0);
    bench_pe(graph, input, options, *pe);
    std::fflush(stdout);
    _exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "npusim_bench: the pe-fidelity run failed\n");
    return 1;
  }
  bench_tile(graph, input, options);
  return 0;
}
