#include "sim/run/network_runner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include "accel/array/fold_timing.h"
#include "models/input_error.h"
#include "models/quant/layer_ops.h"
#include "sim/mapper/lowering.h"

namespace npusim {
namespace {

bool runs_on_array(LayerType type) { return type == LayerType::conv2d || type == LayerType::fc; }

// Sums what the GEMMs of one array layer did.
class ArrayLayerTally {
 public:
  explicit ArrayLayerTally(const ArrayConfig& array) : array_(array) {}

  void add(const GemmShape& shape, const GemmRun& run) {
    const GemmTiming timing = gemm_timing(shape, array_);
    const std::int64_t macs = shape.m * shape.n * shape.k;
    shape_ = shape;
    gemm_count_ += 1;
    macs_ += macs;
    cycles_ += run.cycles;
    folds_ += timing.folds;
    overflow_outputs_ += run.output.overflow_outputs;
    weighted_efficiency_ += timing.mapping_efficiency * static_cast<double>(macs);
  }

  // Writes the totals into `record` (name, type and output are the caller's).
  void finish(LayerRecord& record) const {
    record.unit = ExecutionUnit::array;
    record.gemm = shape_;
    record.gemm_count = gemm_count_;
    record.macs = macs_;
    record.cycles = cycles_;
    record.folds = folds_;
    record.overflow_outputs = overflow_outputs_;
    record.utilization = array_utilization(macs_, cycles_, array_);
    record.mapping_efficiency = macs_ > 0 ? weighted_efficiency_ / static_cast<double>(macs_) : 0.0;
  }

 private:
  const ArrayConfig& array_;
  GemmShape shape_;
  std::int64_t gemm_count_ = 0;
  std::int64_t macs_ = 0;
  std::int64_t cycles_ = 0;
  std::int64_t folds_ = 0;
  std::int64_t overflow_outputs_ = 0;
  double weighted_efficiency_ = 0.0;
};

void run_array_layer(const QuantizedGraph& qgraph, std::size_t index, const Tensor& input, GemmEngine& engine,
                     const ArrayConfig& array, LayerRecord& record) {
  const Layer& layer = qgraph.graph.layers[index];
  const Tensor& weights = qgraph.layers[index].weights;
  const MacFormat mac = qgraph.mac_of(index);
  const bool integer = mac.integer();
  ArrayLayerTally tally(array);
  std::vector<std::int32_t> acc_int;
  std::vector<float> acc_float;
  // Weights with a zero point (imported graphs): the PPU also needs each A
  // row's sum (models/quant/quantized_graph.h). It reduces the rows as they stream
  // to the array, alongside the GEMM, so they cost no extra cycles here.
  const bool row_sums_needed = integer && has_weight_zero_points(weights.quant);
  std::vector<std::int64_t> row_sums;
  auto run_gemm = [&](const LoweredGemm& lowered, std::int64_t first_channel) {
    if (row_sums_needed) {
      const auto k = static_cast<std::size_t>(lowered.shape.k);
      for (std::int64_t m = 0; m < lowered.shape.m; ++m) {
        std::int64_t sum = 0;
        for (std::size_t j = 0; j < k; ++j) sum += lowered.a_int[static_cast<std::size_t>(m) * k + j];
        row_sums.push_back(sum);
      }
    }
    const GemmRun run = engine.run(lowered.operands());
    scatter_gemm_output(run.output, lowered.shape, first_channel, acc_int, acc_float);
    tally.add(lowered.shape, run);
  };
  auto size_accumulators = [&](std::int64_t count) {
    if (integer)
      acc_int.assign(static_cast<std::size_t>(count), 0);
    else
      acc_float.assign(static_cast<std::size_t>(count), 0.0f);
  };

  if (layer.type == LayerType::conv2d) {
    const ConvGeometry geo = conv_geometry(layer.conv, input.dims);
    size_accumulators(layer.conv.out_channels * geo.gemm.m);
    // One group's im2col at a time keeps memory at one GEMM's operands.
    for (std::int64_t g = 0; g < geo.groups; ++g) {
      run_gemm(lower_conv2d_group(layer.conv, input, weights, g), g * geo.filters_per_group);
    }
  } else {
    size_accumulators(weights.dims.at(0));
    run_gemm(lower_fc(input, weights), 0);
  }
  tally.finish(record);
  record.format = mac.label();
  record.output = finish_compute_layer(qgraph, index, acc_int, acc_float, row_sums);
}

// --values off: the layer's GEMM shapes and closed-form cycles (what the tile
// engine reports, accel/array/gemm_engine.cpp), no operand or sum. The output
// is a tensor of dims and format only: what timing, memory and energy read.
void time_array_layer(const QuantizedGraph& qgraph, std::size_t index, const Tensor& input, const ArrayConfig& array,
                      LayerRecord& record) {
  const Layer& layer = qgraph.graph.layers[index];
  GemmShape shape;
  std::int64_t count = 1;
  if (layer.type == LayerType::conv2d) {
    const ConvGeometry geo = conv_geometry(layer.conv, input.dims);
    shape = geo.gemm;
    count = geo.groups;
  } else {
    shape = GemmShape{1, layer.fc.out_features, input.elements()};
  }
  GemmRun run;
  run.cycles = gemm_timing(shape, array).cycles;
  ArrayLayerTally tally(array);
  for (std::int64_t g = 0; g < count; ++g) tally.add(shape, run);
  tally.finish(record);
  record.format = qgraph.mac_of(index).label();
  record.output.dims = layer.output_dims;
  record.output.format = qgraph.output_format_of(index);
}

// The engine for each compute layer's MacFormat: the caller's for the
// config's format, tile engines (built on first use) for the others, as when a
// binary network keeps its first and last layers at W8A8. The pe engine is the
// process's one SystemC design, so pe fidelity takes one format only.
class EngineSet {
 public:
  EngineSet(GemmEngine& configured, const AcceleratorConfig& config) : configured_(configured), config_(config) {}

  void check_formats(const QuantizedGraph& qgraph) const {
    if (config_.fidelity != Fidelity::pe) return;
    for (std::size_t i = 0; i < qgraph.layers.size(); ++i) {
      if (!runs_on_array(qgraph.graph.layers[i].type)) continue;
      const MacFormat mac = qgraph.mac_of(i);
      if (!same_mac_format(mac, config_.array.mac)) {
        throw InputError("pe fidelity runs one MAC format per process, but layer " + qgraph.graph.layers[i].name +
                         " runs in " + mac.label() + " and the array in " + config_.array.mac.label() +
                         " (use tile fidelity for mixed-format networks)");
      }
    }
  }

  GemmEngine& engine_for(const MacFormat& mac) {
    if (same_mac_format(mac, config_.array.mac)) return configured_;
    for (auto& [format, engine] : others_) {
      if (same_mac_format(format, mac)) return *engine;
    }
    ArrayConfig array = config_.array;
    array.mac = mac;
    others_.emplace_back(mac, make_tile_engine(array));
    return *others_.back().second;
  }

 private:
  GemmEngine& configured_;
  const AcceleratorConfig& config_;
  std::vector<std::pair<MacFormat, std::unique_ptr<GemmEngine>>> others_;
};

// What the memory side needs of layer `i`: shapes, formats and, for an array
// layer, how far its engine's cycles strayed from the closed form.
LayerMemoryShape memory_shape(const QuantizedGraph& qgraph, std::size_t i, const std::vector<const Tensor*>& inputs,
                              const LayerRecord& record, const AcceleratorConfig& config) {
  const Layer& layer = qgraph.graph.layers[i];
  LayerMemoryShape shape;
  std::int64_t output_elements = 1;
  for (auto d : layer.output_dims) output_elements *= d;
  if (runs_on_array(layer.type)) {
    const MacFormat mac = qgraph.mac_of(i);
    shape.on_array = true;
    shape.input_dims = inputs[0]->dims;
    shape.macs = layer_macs(layer, inputs[0]->dims);
    shape.activation_bits = storage_bits(inputs[0]->format);
    shape.weight_bits = storage_bits(mac.weight);
    shape.output_bits = storage_bits(qgraph.output_format_of(i));
    shape.lanes = mac.lanes;
    ArrayConfig array = config.array;
    array.mac = mac;
    shape.engine_extra_cycles = record.cycles - record.gemm_count * gemm_timing(record.gemm, array).cycles;
    return shape;
  }
  // An add may write a format other than its inputs' (binary inputs, int8 output).
  for (const Tensor* t : inputs) shape.input_bytes.push_back(packed_bytes_of(t->elements(), storage_bits(t->format)));
  shape.output_bytes = packed_bytes_of(output_elements, storage_bits(qgraph.output_format_of(i)));
  shape.ppu_cycles = record.cycles;
  return shape;
}

// Times the whole network on the accelerator model and puts each layer's
// memory record and cycles in place.
void time_on_memory(MemorySystem& memory, const std::vector<LayerMemoryShape>& shapes, const AcceleratorConfig& config,
                    const QuantizedGraph& qgraph, NetworkRun& run) {
  std::vector<LayerMemoryRecord> timed = memory.run(shapes);
  run.total_cycles = 0;
  for (std::size_t i = 0; i < run.layers.size(); ++i) {
    LayerRecord& record = run.layers[i];
    record.memory = std::move(timed[i]);
    record.cycles = record.memory->total_cycles;
    if (record.unit == ExecutionUnit::array) {
      ArrayConfig layer_array = config.array;
      layer_array.mac = qgraph.mac_of(i);
      record.utilization = array_utilization(record.macs, record.cycles, layer_array);
    }
    run.total_cycles += record.cycles;
  }
}

}  // namespace

std::string_view to_string(ExecutionUnit unit) { return unit == ExecutionUnit::array ? "array" : "ppu"; }

// The PPU is a vector unit of `elements_per_cycle` lanes. Each lane produces one
// output element per cycle per input tensor it reads: a pooling window reduces
// through a pipelined comparator/adder tree at one output per cycle, and an add
// of two tensors streams both operands, so it takes twice the cycles of a
// one-input layer of the same size.
std::int64_t ppu_cycles(std::int64_t output_elements, std::int64_t input_tensors, const PpuConfig& ppu) {
  const std::int64_t work = output_elements * input_tensors;
  const std::int64_t lanes = ppu.elements_per_cycle;
  return (work + lanes - 1) / lanes;
}

// Element operations per layer type, in units of one lane-cycle:
//  - flatten and reshape change no byte of the row-major tensor: the next
//    layer reads the same bytes under new dims, a free address remap (no PPU
//    work; sim/run/memory_system.cpp aliases their output to their input);
//  - concat streams every output element once (copied, or rescaled when its
//    input's quantization differs from the output's), whatever the number of
//    inputs: it is not free, since the producers wrote their outputs to their
//    own buffers and an input may need rescaling;
//  - softmax makes three passes over its tensor (max; exp and sum; scale by
//    the reciprocal), each at one element per lane per cycle;
//  - clip is one pass (a clamp), like relu; scale (per-channel affine) is
//    one pass too: a multiply-add per element, its two per-channel operands
//    held in lane registers for the channel;
//  - sigmoid is one pass through a lookup-table activation unit (one element
//    per lane per cycle), hard_sigmoid one pass of a multiply-add and clamp;
//  - mul reads two tensors like add (two passes; a per-channel second
//    operand is counted at full size, an upper bound), and so do sub and div
//    (a divide through the reciprocal table and a multiply, pipelined);
//  - tanh and gelu are one pass through the lookup-table activation unit,
//    like sigmoid; leaky_relu, prelu (slope per channel in a lane register)
//    and hard_swish one pass of compare/multiply-add; log_softmax three
//    passes like softmax (max; exp and sum; subtract the log of the sum);
//  - reduce produces one output per lane-cycle through the comparator/adder
//    tree, like a global pool; transpose and slice stream every output
//    element once (a copy to new addresses), like concat;
//  - a constant computes nothing: its tensor was written to DRAM with the
//    weights before the run (sim/run/memory_system.cpp), and the layers that read
//    it load it from there;
//  - the other layers: one pass per input tensor (add reads two).
std::int64_t ppu_element_ops(LayerType type, std::int64_t output_elements, std::int64_t input_tensors) {
  switch (type) {
    case LayerType::flatten:
    case LayerType::reshape:
    case LayerType::constant: return 0;
    case LayerType::concat: return output_elements;
    case LayerType::softmax:
    case LayerType::log_softmax: return 3 * output_elements;
    case LayerType::conv2d:
    case LayerType::fc:
    case LayerType::maxpool:
    case LayerType::avgpool:
    case LayerType::add:
    case LayerType::relu:
    case LayerType::relu6:
    case LayerType::clip:
    case LayerType::scale:
    case LayerType::sigmoid:
    case LayerType::hard_sigmoid:
    case LayerType::mul:
    case LayerType::tanh:
    case LayerType::gelu:
    case LayerType::leaky_relu:
    case LayerType::prelu:
    case LayerType::hard_swish:
    case LayerType::sub:
    case LayerType::div:
    case LayerType::reduce:
    case LayerType::transpose:
    case LayerType::slice: break;
  }
  return output_elements * input_tensors;
}

namespace {

// What one layer computes: its values (run_network) or its shapes and cycles
// only (run_network_timing). Fills the record's unit, format, cycles, MACs and
// output (whose dims and format the following layers and the memory side read).
using LayerStep = std::function<void(std::size_t, const std::vector<const Tensor*>&, LayerRecord&)>;

// The layer loop both modes share: inputs by name, the memory shapes, the
// trace and the totals.
NetworkRun run_layers(const QuantizedGraph& qgraph, const Tensor& input, const AcceleratorConfig& config,
                      const LayerStep& step, const LayerProgress& progress, TraceRecorder* trace) {
  const auto& layers = qgraph.graph.layers;
  if (qgraph.layers.size() != layers.size()) {
    throw std::invalid_argument("run_network: quantized layers do not match the graph");
  }
  NetworkRun run;
  std::optional<MemorySystem> memory;
  if (config.memory.modeled) memory.emplace(config, qgraph.graph, trace);
  const double ps_per_cycle = 1.0e6 / config.clock_mhz;
  run.layers.reserve(layers.size());  // outputs are referenced by address below
  std::map<std::string, const Tensor*> tensors{{qgraph.graph.input_name, &input}};
  std::vector<LayerMemoryShape> shapes;

  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = layers[i];
    std::vector<const Tensor*> inputs;
    for (const auto& name : layer.inputs) {
      const auto found = tensors.find(name);
      if (found == tensors.end()) {
        throw std::invalid_argument("run_network: layer " + layer.name + " reads unknown tensor " + name);
      }
      inputs.push_back(found->second);
    }
    if (inputs.empty() && layer.type != LayerType::constant)
      throw std::invalid_argument("run_network: layer " + layer.name + " has no input");

    LayerRecord& record = run.layers.emplace_back();
    record.name = layer.name;
    record.type = layer.type;
    step(i, inputs, record);
    if (memory) shapes.push_back(memory_shape(qgraph, i, inputs, record, config));
    // Without a memory system the trace holds one interval per layer.
    if (trace && !memory && trace->accepting()) {
      trace->set_current_layer(layer.name);
      const auto at = [&](std::int64_t cycles) { return std::llround(static_cast<double>(cycles) * ps_per_cycle); };
      trace->record(ComputeEvent{layer.name, 0,
                                 record.unit == ExecutionUnit::array ? ComputeUnit::array : ComputeUnit::ppu,
                                 at(run.total_cycles), at(run.total_cycles + record.cycles)});
    }
    run.total_cycles += record.cycles;
    run.total_macs += record.macs;
    tensors[layer.name] = &record.output;
    if (progress && !memory) progress(i, layers.size(), record);
  }
  // With a memory model the layers' timing comes from one simulation of the
  // whole network, after their values: layers overlap, so no layer's cycles
  // are known before the run ends.
  if (memory) {
    time_on_memory(*memory, shapes, config, qgraph, run);
    if (progress) {
      for (std::size_t i = 0; i < layers.size(); ++i) progress(i, layers.size(), run.layers[i]);
    }
  }
  return run;
}

// The PPU layer's cycles from its output's size, which `record.output` holds.
void set_ppu_cycles(const Layer& layer, std::size_t inputs, const PpuConfig& ppu, LayerRecord& record) {
  record.unit = ExecutionUnit::ppu;
  record.format = std::string(to_string(record.output.format));
  record.cycles =
      ppu_cycles(ppu_element_ops(layer.type, record.output.elements(), static_cast<std::int64_t>(inputs)), 1, ppu);
}

}  // namespace

NetworkRun run_network(const QuantizedGraph& qgraph, const Tensor& input, GemmEngine& engine,
                       const AcceleratorConfig& config, const LayerProgress& progress, TraceRecorder* trace) {
  EngineSet engines(engine, config);
  engines.check_formats(qgraph);
  const LayerStep step = [&](std::size_t i, const std::vector<const Tensor*>& inputs, LayerRecord& record) {
    const Layer& layer = qgraph.graph.layers[i];
    if (runs_on_array(layer.type)) {
      // The layer's MacFormat (its lanes) on the config's array: utilization is
      // against what the PEs can do in the layer's own format.
      ArrayConfig layer_array = config.array;
      layer_array.mac = qgraph.mac_of(i);
      run_array_layer(qgraph, i, *inputs[0], engines.engine_for(layer_array.mac), layer_array, record);
      return;
    }
    record.output = run_elementwise_layer(qgraph, i, inputs);
    set_ppu_cycles(layer, inputs.size(), config.ppu, record);
  };
  return run_layers(qgraph, input, config, step, progress, trace);
}

NetworkRun run_network_timing(const QuantizedGraph& qgraph, const AcceleratorConfig& config,
                              const LayerProgress& progress, TraceRecorder* trace) {
  if (config.fidelity == Fidelity::pe) {
    throw InputError(
        "--values off times every GEMM in closed form (tile fidelity); pe fidelity steps the values "
        "through the PE registers, so it needs --values on");
  }
  Tensor input;
  input.dims = qgraph.graph.input_dims;
  input.format = qgraph.graph_input_format();
  const LayerStep step = [&](std::size_t i, const std::vector<const Tensor*>& inputs, LayerRecord& record) {
    const Layer& layer = qgraph.graph.layers[i];
    if (runs_on_array(layer.type)) {
      ArrayConfig layer_array = config.array;
      layer_array.mac = qgraph.mac_of(i);
      time_array_layer(qgraph, i, *inputs[0], layer_array, record);
      return;
    }
    record.output.dims = layer.output_dims;
    record.output.format = qgraph.output_format_of(i);
    set_ppu_cycles(layer, inputs.size(), config.ppu, record);
  };
  return run_layers(qgraph, input, config, step, progress, trace);
}

}  // namespace npusim
