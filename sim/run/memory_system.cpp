#include "sim/run/memory_system.h"

#include <algorithm>
#include <map>
#include <vector>

#include "accel/formats/integer_math.h"
#include "accel/memory/kernel_time.h"
#include "accel/npu/process_hardware.h"
#include "models/input_error.h"
#include "models/tensor.h"
#include "sim/mapper/lowering.h"

namespace npusim {
namespace {

constexpr std::uint64_t kAlignBytes = 4096;

std::uint64_t align(std::uint64_t v) { return (v + kAlignBytes - 1) / kAlignBytes * kAlignBytes; }

bool is_address_remap(const Layer& layer) {
  return layer.type == LayerType::flatten || layer.type == LayerType::reshape;
}

// Words of a layer's weight region. conv2d, fc and constants are sized from
// their dims, not from Layer::weights, so that a graph loaded without its
// parameters (--values off) gets the DRAM addresses, and with them the row
// hits and cycles, of the same graph with values. Other layers hold what they
// hold (a PRelu slope, say).
std::uint64_t weight_words(const Layer& layer, const std::vector<std::int64_t>& input_dims) {
  std::int64_t count = 0;
  switch (layer.type) {
    case LayerType::constant: count = elements(layer.output_dims); break;
    case LayerType::fc: count = layer.fc.out_features * elements(input_dims); break;
    case LayerType::conv2d:
      count =
          layer.conv.out_channels * (input_dims.at(0) / layer.conv.groups) * layer.conv.kernel_h * layer.conv.kernel_w;
      break;
    default: count = static_cast<std::int64_t>(layer.weights.size());
  }
  return static_cast<std::uint64_t>(count);
}

}  // namespace

// Footprints count every element as 4 bytes, as the address map sizes the
// tensors: a producer and a consumer of different widths still agree on them.
ByteRange element_range(std::int64_t first, std::int64_t end) {
  return {static_cast<std::uint64_t>(first) * 4, static_cast<std::uint64_t>(end) * 4};
}

namespace {

double gbps(std::int64_t bytes, std::int64_t ps) {
  return ps > 0 ? static_cast<double>(bytes) / (static_cast<double>(ps) / 1000.0) : 0.0;
}

// Input lines (rows or columns, of `length`) that outputs [o0, o1] of a conv
// axis read: every line of the span when the kernel's taps cover the stride's
// gaps (stride <= kernel, no dilation), else the taps of each output counted
// once (a 1x1 stride-2 conv reads every other line).
std::int64_t touched_lines(std::int64_t o0, std::int64_t o1, std::int64_t stride, std::int64_t pad, std::int64_t kernel,
                           std::int64_t dilation, std::int64_t length) {
  const std::int64_t first = std::max<std::int64_t>(0, o0 * stride - pad);
  const std::int64_t last = std::min<std::int64_t>(length - 1, o1 * stride - pad + dilation * (kernel - 1));
  if (last < first) return 0;
  if (dilation == 1 && stride <= kernel) return last - first + 1;
  if (dilation == 1) {  // disjoint windows of `kernel` lines, clipped at the edges
    std::int64_t lines = 0;
    for (std::int64_t o = o0; o <= o1; ++o) {
      lines += std::max<std::int64_t>(
          0, std::min(last, o * stride - pad + kernel - 1) - std::max(first, o * stride - pad) + 1);
    }
    return lines;
  }
  std::vector<bool> read(static_cast<std::size_t>(last - first + 1), false);
  std::int64_t lines = 0;
  for (std::int64_t o = o0; o <= o1; ++o) {
    for (std::int64_t r = 0; r < kernel; ++r) {
      const std::int64_t i = o * stride - pad + r * dilation;
      if (i < first || i > last || read[static_cast<std::size_t>(i - first)]) continue;
      read[static_cast<std::size_t>(i - first)] = true;
      ++lines;
    }
  }
  return lines;
}

}  // namespace

// What each GEMM of an array layer needs from memory, with addresses relative
// to the layer's tensors (the caller adds the bases).
std::vector<GemmMemoryNeeds> layer_gemm_needs(const Layer& layer, const std::vector<std::int64_t>& input_dims,
                                              int activation_bits, int weight_bits, int output_bits) {
  std::vector<GemmMemoryNeeds> gemms;
  GemmMemoryNeeds base;
  base.activation_bits = activation_bits;
  base.weight_bits = weight_bits;
  base.output_bits = output_bits;
  base.psum_bits = 32;

  if (layer.type == LayerType::conv2d) {
    const ConvGeometry geo = conv_geometry(layer.conv, input_dims);
    const Conv2dParams conv = layer.conv;
    const std::int64_t out_channels = geo.filters_per_group * geo.groups;
    base.shape = geo.gemm;
    base.m_per_output_row = geo.out_w;
    // The input rows, columns and channels behind im2col rows [m0, m1) and
    // reduction [k0, k1): the stored tensor, never the duplicated im2col
    // matrix, and of a strided conv only the rows and columns it touches (a
    // 2D-strided DMA skips the rest).
    const std::int64_t cols =
        touched_lines(0, geo.out_w - 1, conv.stride_w, conv.pad_left, conv.kernel_w, conv.dilation_w, geo.in_w);
    base.input_bytes = [geo, conv, cols, activation_bits](std::int64_t m0, std::int64_t m1, std::int64_t k0,
                                                          std::int64_t k1) {
      if (m1 <= m0 || k1 <= k0) return std::int64_t{0};
      const std::int64_t taps = std::int64_t{conv.kernel_h} * conv.kernel_w;
      const std::int64_t channels = (k1 + taps - 1) / taps - k0 / taps;
      const std::int64_t rows = touched_lines(m0 / geo.out_w, (m1 - 1) / geo.out_w, conv.stride_h, conv.pad_top,
                                              conv.kernel_h, conv.dilation_h, geo.in_h);
      return packed_bytes_of(rows * cols * channels, activation_bits);
    };
    for (std::int64_t g = 0; g < geo.groups; ++g) {
      GemmMemoryNeeds needs = base;
      const std::uint64_t group_offset = static_cast<std::uint64_t>(g);
      needs.input_address += group_offset * static_cast<std::uint64_t>(packed_bytes_of(
                                                geo.channels_per_group * geo.in_h * geo.in_w, activation_bits));
      needs.weight_address +=
          group_offset * static_cast<std::uint64_t>(packed_bytes_of(geo.gemm.k * geo.gemm.n, weight_bits));
      needs.output_address +=
          group_offset * static_cast<std::uint64_t>(packed_bytes_of(geo.gemm.m * geo.gemm.n, output_bits));
      // Footprints in the stored order (rows, columns, channels): the input
      // rows the output rows read, over the channels of the K range; the
      // outputs' pixels over the group's channels.
      needs.input_footprint = [geo, conv, g](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
        const std::int64_t taps = std::int64_t{conv.kernel_h} * conv.kernel_w;
        const std::int64_t first = std::max<std::int64_t>(0, m0 / geo.out_w * conv.stride_h - conv.pad_top);
        const std::int64_t last = std::min<std::int64_t>(
            geo.in_h - 1, (m1 - 1) / geo.out_w * conv.stride_h - conv.pad_top + conv.dilation_h * (conv.kernel_h - 1));
        const std::int64_t c0 = g * geo.channels_per_group + k0 / taps,
                           c1 = g * geo.channels_per_group + ceil_div(k1, taps);
        if (last < first) return ByteRange{};
        return element_range((first * geo.in_w) * geo.in_channels + c0,
                             (last * geo.in_w + geo.in_w - 1) * geo.in_channels + c1);
      };
      needs.output_footprint = [geo, g, out_channels](std::int64_t m0, std::int64_t m1, std::int64_t n0,
                                                      std::int64_t n1) {
        const std::int64_t c = g * geo.filters_per_group;
        return element_range(m0 * out_channels + c + n0, (m1 - 1) * out_channels + c + n1);
      };
      gemms.push_back(std::move(needs));
    }
  } else {
    base.shape = {1, layer.fc.out_features, elements(input_dims)};
    base.input_bytes = [activation_bits](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
      return packed_bytes_of((m1 - m0) * (k1 - k0), activation_bits);
    };
    // A flattened input's order is not the producer's stored one: the whole tensor.
    const std::int64_t features = elements(input_dims);
    base.input_footprint = [features](std::int64_t, std::int64_t, std::int64_t, std::int64_t) {
      return element_range(0, features);
    };
    base.output_footprint = [](std::int64_t, std::int64_t, std::int64_t n0, std::int64_t n1) {
      return element_range(n0, n1);
    };
    gemms.push_back(base);
  }

  return gemms;
}

MemorySystem::MemorySystem(const AcceleratorConfig& config, const Graph& graph, TraceRecorder* trace)
    : config_(config), graph_(graph), trace_(trace) {
  process_hardware();  // elaborated before any kernel run (pe fidelity starts the kernel)
  data_bus_ = std::make_unique<DataBusWindows>(config.memory.peak_window_ns * 1000);
  if (trace_) {
    for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
      trace_->declare_buffer(to_string(kind));
    }
    trace_->declare_dram_channels(config.memory.dram.channels);
  }

  // Address map: the input, then every layer's weights, then every output;
  // 32-bit-element sizes bound every format's bytes.
  std::uint64_t next = 0;
  tensor_address_[graph.input_name] = next;
  tensor_elements_[graph.input_name] = elements(graph.input_dims);
  for (const Layer& layer : graph.layers) tensor_elements_[layer.name] = elements(layer.output_dims);
  next = align(next + static_cast<std::uint64_t>(elements(graph.input_dims)) * 4);
  const std::size_t n = graph.layers.size();
  weight_address_.resize(n);
  output_address_.resize(n);
  std::map<std::string, const std::vector<std::int64_t>*> dims{{graph.input_name, &graph.input_dims}};
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& layer = graph.layers[i];
    const std::vector<std::int64_t>& input_dims = layer.inputs.empty() ? graph.input_dims : *dims.at(layer.inputs[0]);
    weight_address_[i] = next;
    next = align(next + weight_words(layer, input_dims) * 4);
    dims[layer.name] = &layer.output_dims;
  }
  for (std::size_t i = 0; i < n; ++i) {
    output_address_[i] = next;
    tensor_address_[graph.layers[i].name] = next;
    next = align(next + static_cast<std::uint64_t>(elements(graph.layers[i].output_dims)) * 4);
  }

  // A layer's output stays in the ifmap buffer when the next layer is its only
  // reader and it fits in half that buffer (the other half takes the next
  // output); anything read later, or by more than one layer, goes to DRAM.
  std::map<std::string, std::vector<std::size_t>> readers;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& input : graph.layers[i].inputs) readers[input].push_back(i);
  }
  output_on_chip_.assign(n, false);
  const int activation_bits = storage_bits(config.array.mac.activation);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const auto& r = readers[graph.layers[i].name];
    const std::int64_t bytes = packed_bytes_of(elements(graph.layers[i].output_dims), activation_bits);
    output_on_chip_[i] = r.size() == 1 && r[0] == i + 1 && graph.layers[i + 1].inputs.size() == 1 &&
                         bytes <= config.memory.sram.ifmap.capacity_bytes / 2;
  }

  // A constant's tensor sits in DRAM at its weight address from the start
  // (written there with the weights, like them): its readers load it from
  // there, it never stays on chip, and the layer itself moves no data.
  for (std::size_t i = 0; i < n; ++i) {
    if (graph.layers[i].type != LayerType::constant) continue;
    output_on_chip_[i] = false;
    tensor_address_[graph.layers[i].name] = weight_address_[i];
    output_address_[i] = weight_address_[i];
  }

  // flatten and reshape are address remaps (sim/run/network_runner.cpp): an
  // input in DRAM is their output at the same address, never on chip; an
  // input on chip stays there when the rule above keeps the output on chip,
  // else the layer writes it to its own output address.
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_address_remap(graph.layers[i])) continue;
    const bool input_on_chip = i > 0 && output_on_chip_[i - 1];
    if (!input_on_chip) {
      output_on_chip_[i] = false;
      tensor_address_[graph.layers[i].name] = tensor_address_.at(graph.layers[i].inputs.at(0));
      output_address_[i] = tensor_address_[graph.layers[i].name];
    }
  }
  map_dram_writers();
}

// Who puts each tensor in DRAM, for the loads that must wait for it.
void MemorySystem::map_dram_writers() {
  const std::size_t n = graph_.layers.size();
  const Graph& graph = graph_;
  // The graph input and constants are there before the run; an aliased remap's
  // output is its input's bytes; an output kept on chip is never loaded.
  writer_[graph.input_name] = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& layer = graph.layers[i];
    const bool input_on_chip = i > 0 && output_on_chip_[i - 1];
    if (layer.type == LayerType::constant || output_on_chip_[i]) {
      writer_[layer.name] = -1;
    } else if (is_address_remap(layer) && !input_on_chip) {
      writer_[layer.name] = writer_.count(layer.inputs.at(0)) ? writer_.at(layer.inputs.at(0)) : -1;
    } else {
      writer_[layer.name] = static_cast<std::int64_t>(i);
    }
  }
}

std::vector<std::size_t> MemorySystem::dram_writers(std::size_t index, std::size_t first_input) const {
  std::vector<std::size_t> writers;
  const Layer& layer = graph_.layers[index];
  for (std::size_t k = first_input; k < layer.inputs.size(); ++k) {
    const auto found = writer_.find(layer.inputs[k]);
    if (found != writer_.end() && found->second >= 0) writers.push_back(static_cast<std::size_t>(found->second));
  }
  return writers;
}

LayerProgram MemorySystem::array_program(std::size_t index, const LayerMemoryShape& shape, LayerMemoryRecord& record) {
  const Layer& layer = graph_.layers[index];
  const bool input_on_chip = index > 0 && output_on_chip_[index - 1];
  std::vector<GemmMemoryNeeds> gemms =
      layer_gemm_needs(layer, shape.input_dims, shape.activation_bits, shape.weight_bits, shape.output_bits);
  for (auto& needs : gemms) {
    needs.input_on_chip = input_on_chip;
    needs.output_on_chip = output_on_chip_[index];
    needs.input_address += tensor_address_.at(layer.inputs[0]);
    needs.weight_address += weight_address_[index];
    needs.output_address += output_address_[index];
    needs.input_tensor_address = tensor_address_.at(layer.inputs[0]);
    needs.output_tensor_address = output_address_[index];
  }
  LayerProgram program;
  program.name = layer.name;
  program.unit = ComputeUnit::array;
  if (input_on_chip)
    program.chip_inputs_from.push_back(index - 1);
  else
    program.dram_inputs_from = dram_writers(index, 0);
  ArrayConfig array = config_.array;
  array.mac.lanes = shape.lanes;
  for (const auto& needs : gemms) {
    GemmMemoryPlan plan = plan_gemm_memory(needs, array, config_.memory.sram);
    record.fold_order = std::string(to_string(plan.order));
    record.temporal_tiles = std::max(record.temporal_tiles, plan.temporal_tiles);
    // Groups of a conv are equal GEMMs with equal tilings: the last one stands for all.
    record.tile_m = plan.tiling.tile_m;
    record.tile_n = plan.tiling.tile_n;
    record.tile_k = plan.tiling.tile_k;
    record.loop_order = loop_order_name(plan.tiling.order);
    record.psum_spill = record.psum_spill || plan.tiling.spill_psums;
    record.compulsory_dram_bytes += plan.compulsory_dram_bytes;
    for (int b = 0; b < kBufferKinds; ++b) {
      record.dram_read_bytes_by_buffer[b] += plan.dram_read_bytes[b];
      record.sram_read_bytes[b] += plan.sram_read_bytes[b];
      record.sram_write_bytes[b] += plan.sram_write_bytes[b];
    }
    const auto first_step = static_cast<std::int64_t>(program.steps.size());
    for (FoldStep& step : plan.steps) {
      for (Transfer& t : step.loads) {
        if (t.after_step >= 0) t.after_step += first_step;
      }
    }
    std::move(plan.steps.begin(), plan.steps.end(), std::back_inserter(program.steps));
  }
  if (!program.steps.empty()) {
    program.steps.back().compute_cycles =
        std::max<std::int64_t>(0, program.steps.back().compute_cycles + shape.engine_extra_cycles);
  }
  record.input_on_chip = input_on_chip;
  record.output_on_chip = output_on_chip_[index];
  return program;
}

namespace {

// Piece `c` of `chunks` equal pieces of `total` (the first ones one larger).
std::int64_t piece(std::int64_t total, std::int64_t chunks, std::int64_t c) {
  return total / chunks + (c < total % chunks ? 1 : 0);
}
std::int64_t piece_offset(std::int64_t total, std::int64_t chunks, std::int64_t c) {
  return c * (total / chunks) + std::min(c, total % chunks);
}

}  // namespace

// A post-processing layer streams its tensors through the buffers in chunks
// of at most half the ifmap buffer in and half the write-back space out, so
// the loads of chunk c+1 and the write-back of chunk c-1 overlap chunk c.
LayerProgram MemorySystem::ppu_program(std::size_t index, const LayerMemoryShape& shape, LayerMemoryRecord& record) {
  const Layer& layer = graph_.layers[index];
  const bool first_on_chip = index > 0 && output_on_chip_[index - 1];
  const bool remap = is_address_remap(layer);
  const bool constant = layer.type == LayerType::constant;
  // A remap moves data only when its input is on chip and its output is not.
  const bool remap_store = remap && first_on_chip && !output_on_chip_[index];
  const bool stores = remap_store || (!remap && !constant && !output_on_chip_[index]);
  struct Load {
    std::uint64_t address;
    std::int64_t bytes, elements;
  };
  std::vector<Load> loads;
  for (std::size_t i = 0; i < shape.input_bytes.size() && !remap; ++i) {
    if (i == 0 && first_on_chip) continue;
    loads.push_back({tensor_address_.at(layer.inputs[i]), shape.input_bytes[i], tensor_elements_.at(layer.inputs[i])});
  }
  std::int64_t load_total = 0;
  for (const auto& l : loads) load_total += l.bytes;
  const std::int64_t output_elements = elements(layer.output_dims);
  const std::int64_t load_room = std::max<std::int64_t>(1, config_.memory.sram.ifmap.capacity_bytes / 2);
  const std::int64_t store_room = std::max<std::int64_t>(1, writeback_capacity_bytes(config_.memory.sram) / 2);
  const std::int64_t chunks = std::max<std::int64_t>(
      {1, ceil_div(load_total, load_room), stores ? ceil_div(shape.output_bytes, store_room) : 1});

  LayerProgram program;
  program.name = layer.name;
  program.unit = ComputeUnit::ppu;
  if (first_on_chip) program.chip_inputs_from.push_back(index - 1);
  program.dram_inputs_from = dram_writers(index, first_on_chip ? 1 : 0);
  if (!remap && !constant) program.steps.resize(static_cast<std::size_t>(chunks));
  if (remap_store) program.steps.resize(1);
  for (std::int64_t c = 0; c < static_cast<std::int64_t>(program.steps.size()); ++c) {
    FoldStep& step = program.steps[static_cast<std::size_t>(c)];
    const std::int64_t n = static_cast<std::int64_t>(program.steps.size());
    step.compute_cycles = piece(shape.ppu_cycles, n, c);
    // Chunk c of each tensor: its bytes, and as footprint its elements.
    const auto chunk = [&](std::uint64_t base, std::int64_t elements) {
      const ByteRange r =
          element_range(piece_offset(elements, n, c), piece_offset(elements, n, c) + piece(elements, n, c));
      return ByteRange{base + r.begin, base + r.end};
    };
    for (const Load& load : loads) {
      const std::int64_t part = piece(load.bytes, n, c);
      if (part > 0) {
        step.loads.push_back(Transfer{BufferKind::ifmap,
                                      load.address + static_cast<std::uint64_t>(piece_offset(load.bytes, n, c)), part,
                                      false, TransferRole::operand, chunk(load.address, load.elements)});
      }
    }
    const std::int64_t out = piece(shape.output_bytes, n, c);
    if (stores && out > 0) {
      step.stores.push_back(
          Transfer{BufferKind::ofmap,
                   output_address_[index] + static_cast<std::uint64_t>(piece_offset(shape.output_bytes, n, c)), out,
                   true, TransferRole::output, chunk(output_address_[index], output_elements)});
    }
  }
  std::int64_t in_total = 0;
  for (auto b : shape.input_bytes) in_total += b;
  record.sram_read_bytes[0] = remap ? (remap_store ? shape.output_bytes : 0) : in_total;
  record.sram_write_bytes[2] = remap || constant ? 0 : shape.output_bytes;
  record.input_on_chip = first_on_chip;
  record.output_on_chip = output_on_chip_[index];
  record.dram_read_bytes_by_buffer[0] = load_total;
  // A post-processing layer reads each input and writes its output once: what it moves is compulsory.
  record.compulsory_dram_bytes = load_total + (stores ? shape.output_bytes : 0);
  return program;
}

double MemorySystem::dram_peak_gbps() const { return config_.memory.dram.peak_bandwidth_gbps(); }

std::vector<LayerMemoryRecord> MemorySystem::run(const std::vector<LayerMemoryShape>& shapes) {
  ProcessHardware& hw = process_hardware();
  const std::int64_t origin_ps = kernel_now_ps();
  hw.dram.reset(config_.memory.dram, origin_ps);
  hw.dma.configure(config_.memory.dma_burst_bytes, config_.memory.dram.peak_bandwidth_gbps());
  hw.dram.model().observe_data_bus(data_bus_.get());
  auto* controller = dynamic_cast<DramController*>(&hw.dram.model());
  if (trace_ && controller) controller->set_command_log(&command_log_);

  const std::size_t n = graph_.layers.size();
  std::vector<LayerMemoryRecord> records(n);
  stats_at_results_.assign(n, DramStats{});
  const ProgramSource source = [&](std::size_t i) {
    if (trace_) trace_->set_current_layer(graph_.layers[i].name);
    return shapes[i].on_array ? array_program(i, shapes[i], records[i]) : ppu_program(i, shapes[i], records[i]);
  };
  const NpuNetlist::LayerDone on_done = [&](std::size_t i, std::int64_t) {
    stats_at_results_[i] = hw.dram.model().stats();
    flush_dram_commands();
  };
  NpuParams params;
  params.clock_mhz = config_.clock_mhz;
  params.sram = config_.memory.sram;
  params.ppu_elements_per_cycle = config_.ppu.elements_per_cycle;
  std::vector<LayerTiming> timings;
  try {
    timings = hw.netlist.run(params, hw.dma, n, source, trace_, on_done);
  } catch (const std::runtime_error& error) {
    throw InputError(error.what());
  }
  flush_dram_commands();
  hw.dram.model().observe_data_bus(nullptr);
  if (controller) controller->set_command_log(nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    finish(i, timings[i], records[i]);
    const std::int64_t bytes = records[i].dram_read_bytes + records[i].dram_write_bytes;
    records[i].macs_per_dram_byte = bytes > 0 ? static_cast<double>(shapes[i].macs) / static_cast<double>(bytes) : 0.0;
  }
  return records;
}

// The DRAM commands so far, as trace events (cycles of tCK to ps).
void MemorySystem::flush_dram_commands() {
  if (!trace_) return;
  const DramConfig& dram = config_.memory.dram;
  for (const DramCommandRecord& r : command_log_) {
    if (!trace_->accepting()) break;
    DramCommandEvent e;
    e.channel = r.where.channel;
    e.rank = r.where.rank;
    e.bank_group = r.where.bank_group;
    e.bank = r.where.bank;
    e.row = r.where.row;
    e.time_ps = r.cycle * dram.tCK_ps;
    switch (r.command) {
      case DramCommand::act: e.command = DramCommandKind::act; break;
      case DramCommand::pre: e.command = DramCommandKind::pre; break;
      case DramCommand::rd:
        e.command = DramCommandKind::rd;
        e.data_bytes = dram.burst_bytes();
        break;
      case DramCommand::wr:
        e.command = DramCommandKind::wr;
        e.data_bytes = dram.burst_bytes();
        break;
      case DramCommand::ref: e.command = DramCommandKind::ref; break;
      case DramCommand::ref_pb: e.command = DramCommandKind::ref_pb; break;
    }
    trace_->record(e);
  }
  command_log_.clear();
}

// Bandwidths over the layer's span; DRAM counters between the previous
// layer's last result and this one's (requests are counted when issued, and
// layers overlap, so a prefetch for the next layer counts in this one).
void MemorySystem::finish(std::size_t i, const LayerTiming& timing, LayerMemoryRecord& r) const {
  const std::int64_t ps = timing.end_ps - timing.start_ps;
  r.dram_read_bytes = timing.dram_read_bytes;
  r.dram_write_bytes = timing.dram_write_bytes;
  r.compute_cycles = timing.compute_cycles;
  r.stalls = timing.stalls;
  r.total_cycles = timing.cycles;
  r.dram_read_gbps = gbps(timing.dram_read_bytes, ps);
  r.dram_write_gbps = gbps(timing.dram_write_bytes, ps);
  const std::int64_t window_ps = data_bus_->window_ps();
  r.dram_peak_gbps = gbps(std::llround(data_bus_->peak_window_bytes(timing.start_ps, timing.end_ps)), window_ps);
  const double peak = config_.memory.dram.peak_bandwidth_gbps();
  r.dram_peak_share_pct = peak > 0 ? 100.0 * (r.dram_read_gbps + r.dram_write_gbps) / peak : 0.0;
  const DramStats before = i > 0 ? stats_at_results_[i - 1] : DramStats{};
  const DramStats& after = stats_at_results_[i];
  const std::uint64_t hits = after.row_hits - before.row_hits;
  const std::uint64_t all =
      hits + (after.row_misses - before.row_misses) + (after.row_conflicts - before.row_conflicts);
  r.row_hit_pct = all > 0 ? 100.0 * static_cast<double>(hits) / static_cast<double>(all) : 0.0;
  r.dram_activations = after.activations - before.activations;
  const std::int64_t bytes = timing.dram_read_bytes + timing.dram_write_bytes;
  const double compute_ps = static_cast<double>(timing.compute_cycles) * 1.0e6 / config_.clock_mhz;
  r.required_gbps = compute_ps > 0 ? static_cast<double>(bytes) / (compute_ps / 1000.0) : 0.0;
  r.memory_bound = 4 * timing.stalls.memory() >= timing.cycles && timing.stalls.memory() > 0;
  for (int b = 0; b < kBufferKinds; ++b) {
    r.sram_read_gbps[b] = gbps(r.sram_read_bytes[b], ps);
    r.sram_write_gbps[b] = gbps(r.sram_write_bytes[b], ps);
  }
}
}  // namespace npusim

namespace npusim {

void check_memory_fits(const AcceleratorConfig& config, const Graph& graph, const std::string& config_file) {
  if (!config.memory.modeled) return;
  std::map<std::string, std::vector<std::int64_t>> dims{{graph.input_name, graph.input_dims}};
  const int activation_bits = storage_bits(config.array.mac.activation);
  const int weight_bits = storage_bits(config.array.mac.weight);
  for (const Layer& layer : graph.layers) {
    dims[layer.name] = layer.output_dims;
    if (layer.type != LayerType::conv2d && layer.type != LayerType::fc) continue;
    for (const auto& needs :
         layer_gemm_needs(layer, dims.at(layer.inputs.at(0)), activation_bits, weight_bits, activation_bits)) {
      try {
        plan_gemm_memory(needs, config.array, config.memory.sram);
      } catch (const InputError& error) {
        throw InputError(config_file + ": " + error.what() + " (layer " + layer.name + ")");
      }
    }
  }
}

}  // namespace npusim
