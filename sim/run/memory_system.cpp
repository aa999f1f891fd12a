#include "sim/run/memory_system.h"

#include <algorithm>
#include <map>
#include <vector>

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

double gbps(std::int64_t bytes, std::int64_t ps) {
  return ps > 0 ? static_cast<double>(bytes) / (static_cast<double>(ps) / 1000.0) : 0.0;
}

// Input lines (rows or columns, of `length`) that outputs [o0, o1] of a conv
// axis read: every line of the span when the kernel's taps cover the stride's
// gaps (stride <= kernel, no dilation), else the taps of each output counted
// once (a 1x1 stride-2 conv reads every other line).
std::int64_t touched_lines(std::int64_t o0, std::int64_t o1, std::int64_t stride, std::int64_t pad,
                           std::int64_t kernel, std::int64_t dilation, std::int64_t length) {
  const std::int64_t first = std::max<std::int64_t>(0, o0 * stride - pad);
  const std::int64_t last = std::min<std::int64_t>(length - 1, o1 * stride - pad + dilation * (kernel - 1));
  if (last < first) return 0;
  if (dilation == 1 && stride <= kernel) return last - first + 1;
  if (dilation == 1) {  // disjoint windows of `kernel` lines, clipped at the edges
    std::int64_t lines = 0;
    for (std::int64_t o = o0; o <= o1; ++o) {
      lines += std::max<std::int64_t>(0, std::min(last, o * stride - pad + kernel - 1) - std::max(first, o * stride - pad) + 1);
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
    base.shape = geo.gemm;
    base.m_per_output_row = geo.out_w;
    // The input rows, columns and channels behind im2col rows [m0, m1) and
    // reduction [k0, k1): the stored tensor, never the duplicated im2col
    // matrix, and of a strided conv only the rows and columns it touches (a
    // 2D-strided DMA skips the rest).
    const std::int64_t cols = touched_lines(0, geo.out_w - 1, conv.stride_w, conv.pad_left, conv.kernel_w,
                                            conv.dilation_w, geo.in_w);
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
      needs.input_address += group_offset * static_cast<std::uint64_t>(packed_bytes_of(geo.channels_per_group * geo.in_h * geo.in_w, activation_bits));
      needs.weight_address += group_offset * static_cast<std::uint64_t>(packed_bytes_of(geo.gemm.k * geo.gemm.n, weight_bits));
      needs.output_address += group_offset * static_cast<std::uint64_t>(packed_bytes_of(geo.gemm.m * geo.gemm.n, output_bits));
      gemms.push_back(std::move(needs));
    }
  } else {
    base.shape = {1, layer.fc.out_features, elements(input_dims)};
    base.input_bytes = [activation_bits](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
      return packed_bytes_of((m1 - m0) * (k1 - k0), activation_bits);
    };
    gemms.push_back(base);
  }

  return gemms;
}


MemorySystem::MemorySystem(const AcceleratorConfig& config, const Graph& graph, TraceRecorder* trace)
    : config_(config), graph_(graph), trace_(trace) {
  dram_ = std::make_unique<DramTarget>(sc_core::sc_gen_unique_name("dram"), config.memory.dram);
  dma_ = std::make_unique<DmaEngine>(sc_core::sc_gen_unique_name("dma"), config.memory.dma_burst_bytes,
                                     config.memory.dram.peak_bandwidth_gbps());
  dma_->socket.bind(dram_->socket);
  schedule_ = std::make_unique<MemorySchedule>(*dma_, config.clock_mhz, config.memory.peak_window_ns * 1000);
  // The peak-bandwidth figure counts bytes when the memory's data bus carries them.
  data_bus_ = std::make_unique<DataBusWindows>(schedule_->window_ps());
  dram_->model().observe_data_bus(data_bus_.get());
  schedule_->measure_data_bus(data_bus_.get());
  if (trace_) {
    for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
      trace_->declare_buffer(to_string(kind));
    }
    trace_->declare_dram_channels(config.memory.dram.channels);
    if (auto* controller = dynamic_cast<DramController*>(&dram_->model())) controller->set_command_log(&command_log_);
  }

  // Address map: the input, then every layer's weights, then every output;
  // 32-bit-element sizes bound every format's bytes.
  std::uint64_t next = 0;
  tensor_address_[graph.input_name] = next;
  next = align(next + static_cast<std::uint64_t>(elements(graph.input_dims)) * 4);
  const std::size_t n = graph.layers.size();
  weight_address_.resize(n);
  output_address_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    weight_address_[i] = next;
    next = align(next + graph.layers[i].weights.size() * 4);
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
    output_on_chip_[i] = r.size() == 1 && r[0] == i + 1 &&
                         graph.layers[i + 1].inputs.size() == 1 &&
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
}

LayerMemoryRecord MemorySystem::run_array_layer(std::size_t index, const std::vector<std::int64_t>& input_dims,
                                                std::int64_t macs, int activation_bits,
                                                int weight_bits, int output_bits, int lanes) {
  const Layer& layer = graph_.layers[index];
  const bool input_on_chip = index > 0 && output_on_chip_[index - 1];
  const DramStats before = dram_->model().stats();
  begin_trace(index, ComputeUnit::array);
  std::vector<GemmMemoryNeeds> gemms =
      layer_gemm_needs(layer, input_dims, activation_bits, weight_bits, output_bits);
  for (auto& needs : gemms) {
    needs.input_on_chip = input_on_chip;
    needs.output_on_chip = output_on_chip_[index];
    needs.input_address += tensor_address_.at(layer.inputs[0]);
    needs.weight_address += weight_address_[index];
    needs.output_address += output_address_[index];
  }

  std::vector<FoldStep> steps;
  LayerMemoryRecord record;
  ArrayConfig array = config_.array;
  array.mac.lanes = lanes;
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
    std::move(plan.steps.begin(), plan.steps.end(), std::back_inserter(steps));
  }
  const TimedSpan span = schedule_->run_steps(steps, config_.memory.sram);
  flush_dram_commands();
  LayerMemoryRecord timed = finish(span, before, macs);
  timed.fold_order = record.fold_order;
  timed.temporal_tiles = record.temporal_tiles;
  timed.tile_m = record.tile_m;
  timed.tile_n = record.tile_n;
  timed.tile_k = record.tile_k;
  timed.loop_order = record.loop_order;
  timed.psum_spill = record.psum_spill;
  timed.compulsory_dram_bytes = record.compulsory_dram_bytes;
  for (int b = 0; b < kBufferKinds; ++b) {
    timed.dram_read_bytes_by_buffer[b] = record.dram_read_bytes_by_buffer[b];
    timed.sram_read_bytes[b] = record.sram_read_bytes[b];
    timed.sram_write_bytes[b] = record.sram_write_bytes[b];
    const std::int64_t ps = span.end_ps - span.start_ps;
    timed.sram_read_gbps[b] = gbps(record.sram_read_bytes[b], ps);
    timed.sram_write_gbps[b] = gbps(record.sram_write_bytes[b], ps);
  }
  timed.input_on_chip = input_on_chip;
  timed.output_on_chip = output_on_chip_[index];
  return timed;
}

LayerMemoryRecord MemorySystem::run_ppu_layer(std::size_t index, const std::vector<std::int64_t>& input_bytes,
                                              std::int64_t output_bytes, std::int64_t ppu_cycles) {
  const Layer& layer = graph_.layers[index];
  const DramStats before = dram_->model().stats();
  begin_trace(index, ComputeUnit::ppu);
  FoldStep step;
  step.compute_cycles = ppu_cycles;
  const bool first_on_chip = index > 0 && output_on_chip_[index - 1];
  const bool remap = is_address_remap(layer);
  const bool constant = layer.type == LayerType::constant;
  // A remap moves data only when its input is on chip and its output is not.
  const bool remap_store = remap && first_on_chip && !output_on_chip_[index];
  for (std::size_t i = 0; i < input_bytes.size() && !remap; ++i) {
    if (i == 0 && first_on_chip) continue;
    step.loads.push_back(Transfer{BufferKind::ifmap, tensor_address_.at(layer.inputs[i]), input_bytes[i], false});
  }
  if (remap_store || (!remap && !constant && !output_on_chip_[index])) {
    step.stores.push_back(Transfer{BufferKind::ofmap, output_address_[index], output_bytes, true});
  }
  const TimedSpan span = schedule_->run_steps({step}, config_.memory.sram);
  flush_dram_commands();
  LayerMemoryRecord record = finish(span, before, 0);
  std::int64_t in_total = 0;
  for (auto b : input_bytes) in_total += b;
  record.sram_read_bytes[0] = remap ? (remap_store ? output_bytes : 0) : in_total;
  record.sram_write_bytes[2] = remap || constant ? 0 : output_bytes;
  record.input_on_chip = first_on_chip;
  record.output_on_chip = output_on_chip_[index];
  record.dram_read_bytes_by_buffer[0] = span.dram_read_bytes;
  // A post-processing layer reads each input and writes its output once: what it moves is compulsory.
  record.compulsory_dram_bytes = span.dram_read_bytes + span.dram_write_bytes;
  return record;
}

void MemorySystem::begin_trace(std::size_t layer_index, ComputeUnit unit) {
  if (!trace_) return;
  trace_->set_current_layer(graph_.layers[layer_index].name);
  schedule_->trace_into(trace_, graph_.layers[layer_index].name, unit);
}

// The DRAM commands the layer caused, as trace events (cycles of tCK to ps).
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
      case DramCommand::rd: e.command = DramCommandKind::rd; e.data_bytes = dram.burst_bytes(); break;
      case DramCommand::wr: e.command = DramCommandKind::wr; e.data_bytes = dram.burst_bytes(); break;
      case DramCommand::ref: e.command = DramCommandKind::ref; break;
    }
    trace_->record(e);
  }
  command_log_.clear();
}

LayerMemoryRecord MemorySystem::finish(const TimedSpan& span, const DramStats& before, std::int64_t macs) {
  LayerMemoryRecord r;
  const std::int64_t ps = span.end_ps - span.start_ps;
  r.dram_read_bytes = span.dram_read_bytes;
  r.dram_write_bytes = span.dram_write_bytes;
  r.compute_cycles = span.compute_cycles;
  r.stalls = span.stalls;
  r.total_cycles = schedule_->ps_to_cycles(ps);
  r.dram_read_gbps = gbps(span.dram_read_bytes, ps);
  r.dram_write_gbps = gbps(span.dram_write_bytes, ps);
  r.dram_peak_gbps = gbps(span.peak_window_bytes, schedule_->window_ps());
  const double peak = dram_->model().config().peak_bandwidth_gbps();
  r.dram_peak_share_pct = peak > 0 ? 100.0 * (r.dram_read_gbps + r.dram_write_gbps) / peak : 0.0;
  const DramStats& after = dram_->model().stats();
  const std::uint64_t hits = after.row_hits - before.row_hits;
  const std::uint64_t all = hits + (after.row_misses - before.row_misses) + (after.row_conflicts - before.row_conflicts);
  r.row_hit_pct = all > 0 ? 100.0 * static_cast<double>(hits) / static_cast<double>(all) : 0.0;
  r.dram_activations = after.activations - before.activations;
  const std::int64_t bytes = span.dram_read_bytes + span.dram_write_bytes;
  r.macs_per_dram_byte = bytes > 0 ? static_cast<double>(macs) / static_cast<double>(bytes) : 0.0;
  r.required_gbps = gbps(bytes, schedule_->cycles_to_ps(span.compute_cycles));
  r.memory_bound = peak > 0 && r.required_gbps > peak;
  return r;
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
    for (const auto& needs : layer_gemm_needs(layer, dims.at(layer.inputs.at(0)), activation_bits,
                                              weight_bits, activation_bits)) {
      try {
        plan_gemm_memory(needs, config.array, config.memory.sram);
      } catch (const InputError& error) {
        throw InputError(config_file + ": " + error.what() + " (layer " + layer.name + ")");
      }
    }
  }
}

}  // namespace npusim
