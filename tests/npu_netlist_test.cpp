// The accelerator model's concurrent processes (accel/npu/npu_netlist.h) on
// programs whose timing is worked out by hand: a fixed-bandwidth memory pipe
// with no latency (below), a 1 GHz clock, folds from the memory plan
// (sim/mapper/memory_plan.h) or written out directly. Expected values come
// from the arithmetic in each comment, never from the netlist.
#include "accel/npu/npu_netlist.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "sim/mapper/memory_plan.h"

namespace npusim {
namespace {

// One pipe with a fixed bandwidth and no latency: transfers queue behind each other.
class FixedBandwidthPort final : public MemoryPort {
 public:
  explicit FixedBandwidthPort(double bytes_per_ps) : bytes_per_ps_(bytes_per_ps) {}
  std::int64_t transfer(std::uint64_t, std::int64_t bytes, bool, std::int64_t issue_ps) override {
    pipe_free_ps_ = std::max(pipe_free_ps_, issue_ps) + static_cast<std::int64_t>(bytes / bytes_per_ps_);
    return pipe_free_ps_;
  }
  double peak_gbps() const override { return bytes_per_ps_ * 1000.0; }

 private:
  double bytes_per_ps_;
  std::int64_t pipe_free_ps_ = 0;
};

ArrayConfig ws_array() {
  ArrayConfig a;
  a.rows = 32;
  a.cols = 32;
  a.dataflow = Dataflow::ws;
  return a;
}

SramSet sram(std::int64_t ifmap_bytes, std::int64_t weight_bytes, std::int64_t ofmap_bytes) {
  SramSet s;
  s.ifmap.capacity_bytes = ifmap_bytes;
  s.weight.capacity_bytes = weight_bytes;
  s.ofmap.capacity_bytes = ofmap_bytes;
  return s;
}

NpuParams params(const SramSet& buffers, std::int64_t ppu_elements_per_cycle = 1 << 20) {
  NpuParams p;
  p.clock_mhz = 1000.0;
  p.sram = buffers;
  p.ppu_elements_per_cycle = ppu_elements_per_cycle;
  return p;
}

GemmMemoryNeeds gemm_needs(std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmMemoryNeeds needs;
  needs.shape = {m, n, k};
  needs.input_bytes = [](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
    return (m1 - m0) * (k1 - k0);
  };
  return needs;
}

LayerProgram array_layer(std::string name, const GemmMemoryPlan& plan) {
  LayerProgram program;
  program.name = std::move(name);
  program.unit = ComputeUnit::array;
  program.steps = plan.steps;
  return program;
}

std::vector<LayerTiming> run(const NpuParams& p, MemoryPort& port, std::vector<LayerProgram> programs) {
  return process_netlist().run(p, port, programs.size(), [&](std::size_t i) { return programs[i]; });
}

TEST(NpuNetlist, UnboundedMemoryNeverStallsOnDataAndKeepsTheClosedFormCycles) {
  // fc K=4096, N=1000 on 32x32 WS: the plan's closed-form cycles; a PPU far
  // faster than the array drains the last outputs one cycle after the last fold.
  const SramSet buffers = sram(64 << 10, 256 << 10, 64 << 10);
  const auto plan = plan_gemm_memory(gemm_needs(1, 1000, 4096), ws_array(), buffers);
  UnboundedMemoryPort port;
  const auto t = run(params(buffers), port, {array_layer("fc", plan)});
  EXPECT_EQ(t[0].stalls.memory() + t[0].stalls.sram, 0);
  EXPECT_EQ(t[0].compute_cycles, plan.compute_cycles);
  EXPECT_EQ(t[0].cycles, plan.compute_cycles + 1);
  EXPECT_EQ(t[0].stalls.ppu, 1);
}

TEST(NpuNetlist, SlowMemoryStallsOnWeightsForAnFcLayer) {
  // 4,096,000 bytes of weights at 1 GB/s take 4.1 ms; the array computes for
  // about 0.13 ms of it.
  const SramSet buffers = sram(64 << 10, 256 << 10, 64 << 10);
  const auto plan = plan_gemm_memory(gemm_needs(1, 1000, 4096), ws_array(), buffers);
  FixedBandwidthPort port(0.001);  // 1 byte/ns
  const auto t = run(params(buffers), port, {array_layer("fc", plan)});
  EXPECT_GT(t[0].stalls.weight, 3'900'000);
  EXPECT_GT(t[0].stalls.weight, 100 * (t[0].stalls.ifmap + t[0].stalls.ofmap));
  // Not shorter than moving every byte at 1 byte/ns.
  EXPECT_GE(t[0].end_ps - t[0].start_ps, (std::int64_t{4096} * 1000 + 4096 + 1000) * 1000);
}

TEST(NpuNetlist, NarrowSramPortsStretchFoldsAndCountAsSramStalls) {
  // fc K=4096 N=1000 int8 through a 64 KiB weight buffer of 1 bank x 1 byte
  // (1 B per cycle each way): each full fold writes and reads a 32x32 = 1 KiB
  // block, so it takes 1024 cycles; the 128 folds of the last column block
  // (8 columns) move 256 B. Plus the last outputs' one PPU cycle.
  SramSet slow = sram(64 << 10, 64 << 10, 64 << 10);
  slow.weight.banks = 1;
  slow.weight.word_bytes = 1;
  const auto plan = plan_gemm_memory(gemm_needs(1, 1000, 4096), ws_array(), slow);
  UnboundedMemoryPort port;
  const auto t = run(params(slow), port, {array_layer("fc", plan)});
  const std::int64_t sram_bound = 128 * 31 * 1024 + 128 * 256;
  EXPECT_EQ(t[0].compute_cycles + t[0].stalls.sram, sram_bound);
  EXPECT_EQ(t[0].stalls.memory(), 0);
  EXPECT_EQ(t[0].cycles, sram_bound + 1);
}

TEST(NpuNetlist, FirstFoldWaitsOnlyForItsOwnSliceOfAResidentOperand) {
  // M=1024, K=64, N=64 int8: input 64 KiB and weights 4 KiB resident; 2 x 2
  // folds. At 0.1 byte/ps, fold 0 waits for its input slice (1024 x 32 =
  // 32,768 B) and its weight block (1,024 B): 337,920 ps, the edge at 338.
  const SramSet buffers = sram(256 << 10, 256 << 10, 512 << 10);
  const auto plan = plan_gemm_memory(gemm_needs(1024, 64, 64), ws_array(), buffers);
  ASSERT_EQ(plan.steps.size(), 4u);
  FixedBandwidthPort port(0.1);
  const auto t = run(params(buffers), port, {array_layer("gemm", plan)});
  EXPECT_EQ(t[0].stalls.ifmap + t[0].stalls.weight, 338);
}

TEST(NpuNetlist, NextLayersWeightsStreamInDuringThisLayersCompute) {
  // Two such GEMMs, the second reading the first's output from the buffer.
  // Layer 1 computes for thousands of cycles; layer 2's 4 KiB of weights take
  // 41 ns at 0.1 byte/ps and the weight queue issues them while layer 1 runs,
  // so layer 2 never waits for a weight. (With a barrier between layers, its
  // first 1 KiB block alone cost 11 cycles.) Its span is its compute, the
  // folds the buffers' ports stretch, and the last outputs' PPU cycle.
  const SramSet buffers = sram(256 << 10, 256 << 10, 512 << 10);
  GemmMemoryNeeds first = gemm_needs(1024, 64, 64), second = gemm_needs(1024, 64, 64);
  first.output_on_chip = true;
  second.input_on_chip = true;
  second.output_on_chip = true;  // no write-back tail in the last layer's span
  second.weight_address = 1 << 20;
  second.output_address = 2 << 20;
  const auto plan1 = plan_gemm_memory(first, ws_array(), buffers);
  const auto plan2 = plan_gemm_memory(second, ws_array(), buffers);
  LayerProgram layer2 = array_layer("second", plan2);
  layer2.chip_inputs_from = {0};
  FixedBandwidthPort port(0.1);
  const auto t = run(params(buffers), port, {array_layer("first", plan1), layer2});
  EXPECT_EQ(t[1].stalls.weight, 0);
  EXPECT_EQ(t[1].stalls.ifmap, 0);
  EXPECT_EQ(t[1].stalls.ofmap, 0);
  EXPECT_EQ(t[1].compute_cycles, plan2.compute_cycles);
  EXPECT_EQ(t[1].cycles, plan2.compute_cycles + t[1].stalls.sram + 1);
}

TEST(NpuNetlist, APpuSlowerThanTheArrayBoundsTheLayerAtItsThroughput) {
  // One fold of M=1024, K=32, N=32 (all data on chip): the array emits
  // 32,768 outputs in about 1,100 cycles; a PPU of 16 elements per cycle needs
  // 32,768 / 16 = 2,048 cycles from the fold's start, and the layer ends then.
  // With 64 per cycle (512 cycles) the array is the slower: its fold plus one.
  const SramSet buffers = sram(256 << 10, 256 << 10, 512 << 10);
  GemmMemoryNeeds needs = gemm_needs(1024, 32, 32);
  needs.input_on_chip = true;
  needs.output_on_chip = true;
  const auto plan = plan_gemm_memory(needs, ws_array(), buffers);
  ASSERT_EQ(plan.steps.size(), 1u);
  ASSERT_LT(plan.compute_cycles, 2048);
  UnboundedMemoryPort port;
  // Weights (1 KiB) arrive at once from the unbounded memory: the fold starts at 0.
  auto t = run(params(buffers, 16), port, {array_layer("gemm", plan)});
  EXPECT_EQ(t[0].cycles, 2048);
  EXPECT_EQ(t[0].stalls.ppu, 2048 - plan.compute_cycles);
  t = run(params(buffers, 64), port, {array_layer("gemm", plan)});
  EXPECT_EQ(t[0].cycles, plan.compute_cycles + 1);
}

// N folds, each loading `bytes` of weights and computing `cycles`.
LayerProgram streaming_layer(int folds, std::int64_t bytes, std::int64_t cycles) {
  LayerProgram program;
  program.name = "stream";
  for (int i = 0; i < folds; ++i) {
    FoldStep step;
    step.compute_cycles = cycles;
    step.loads.push_back(
        Transfer{BufferKind::weight, static_cast<std::uint64_t>(i) * 4096, bytes, false, TransferRole::operand, {}});
    program.steps.push_back(step);
  }
  return program;
}

TEST(NpuNetlist, ABufferOneFoldTooSmallStallsEveryFoldForItsLoad) {
  // 10 folds of 100 cycles, each loading 1,000 B at 0.02 byte/ps: 50 ns = 50
  // cycles per load. A 2,000 B weight buffer holds the next fold's block
  // beside the current one, so only the first load is waited for: 50 stall
  // cycles, 1,050 in all. At 1,999 B the next load starts only when the
  // current fold frees its block: every fold waits its 50 cycles, 500 stall
  // cycles, 1,500 in all.
  FixedBandwidthPort double_buffered(0.02), single(0.02);
  auto t = run(params(sram(4096, 2000, 4096)), double_buffered, {streaming_layer(10, 1000, 100)});
  EXPECT_EQ(t[0].stalls.weight, 50);
  EXPECT_EQ(t[0].cycles, 1050);
  t = run(params(sram(4096, 1999, 4096)), single, {streaming_layer(10, 1000, 100)});
  EXPECT_EQ(t[0].stalls.weight, 500);
  EXPECT_EQ(t[0].cycles, 1500);
}

TEST(NpuNetlist, AStepLargerThanItsBufferIsRefusedNamingTheLayerAndBuffer) {
  UnboundedMemoryPort port;
  try {
    run(params(sram(4096, 999, 4096)), port, {streaming_layer(2, 1000, 100)});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("layer stream"), std::string::npos) << message;
    EXPECT_NE(message.find("weight buffer"), std::string::npos) << message;
  }
}

TEST(NpuNetlist, WriteBackOverlapsTheNextLayersLoads) {
  // Layer 1: one 100-cycle fold after a 1,000 B load, then 1,000 B written
  // back; layer 2: one 100-cycle fold after its own 1,000 B weight load. One
  // pipe of 0.02 byte/ps: 50 cycles per transfer. Layer 1's load is in at 50,
  // layer 2's (issued at once, behind it) at 100; layer 1 computes 50..150;
  // its write-back runs 150..200 while layer 2 computes 150..250. The run
  // ends at 250 cycles; with a barrier between layers it took
  // 50 + 100 + 50 (write-back) + 50 (load) + 100 = 350.
  LayerProgram first = streaming_layer(1, 1000, 100);
  first.name = "first";
  first.steps[0].stores.push_back(Transfer{BufferKind::ofmap, 1 << 20, 1000, true, TransferRole::output, {}});
  LayerProgram second = streaming_layer(1, 1000, 100);
  second.name = "second";
  second.steps[0].loads[0].address = 2 << 20;
  second.chip_inputs_from = {0};
  FixedBandwidthPort port(0.02);
  const auto t = run(params(sram(4096, 4096, 4096)), port, {first, second});
  EXPECT_EQ(t[0].cycles + t[1].cycles, 250);
  EXPECT_EQ(t[1].stalls.weight, 0);
}

}  // namespace
}  // namespace npusim

namespace npusim {
namespace {

TEST(NpuNetlist, AProgramThatCannotProgressEndsWithTheWaitingProcessesNamed) {
  // A layer whose ifmap load waits for its own write-back: nothing can move.
  LayerProgram layer = streaming_layer(1, 1000, 100);
  layer.steps[0].loads[0].buffer = BufferKind::ifmap;
  layer.steps[0].stores.push_back(Transfer{BufferKind::ofmap, 1 << 20, 100, true, TransferRole::output, {}});
  layer.dram_inputs_from = {0};
  UnboundedMemoryPort port;
  try {
    run(params(sram(4096, 4096, 4096)), port, {layer});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("stopped making progress"), std::string::npos) << message;
    EXPECT_NE(message.find("array waits for a load to be issued"), std::string::npos) << message;
    EXPECT_NE(message.find("dma load queues waits for"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace npusim

namespace npusim {
namespace {

constexpr std::uint64_t kTensor = 1 << 20;  // where the producer's output lies

// Two 100-cycle folds; fold f stores (producer) or loads into the ifmap
// buffer (consumer) 1,000 B whose footprint is `footprints[f]`.
LayerProgram two_folds(const char* name, bool store, const std::vector<ByteRange>& footprints) {
  LayerProgram program;
  program.name = name;
  for (const ByteRange& footprint : footprints) {
    FoldStep step;
    step.compute_cycles = 100;
    Transfer t{BufferKind::ifmap, footprint.begin, 1000, store, store ? TransferRole::output : TransferRole::operand,
               footprint};
    if (store) {
      t.buffer = BufferKind::ofmap;
      step.stores.push_back(t);
    } else {
      step.loads.push_back(t);
    }
    program.steps.push_back(step);
  }
  return program;
}

TEST(NpuNetlist, ALoadWaitsOnlyForTheProducersStoresItsFootprintOverlaps) {
  // One pipe of 0.02 byte/ps: 50 cycles per 1,000 B transfer. The producer's
  // folds run 0..100 and 100..200 and write their halves back at 100..150 and
  // 200..250. The consumer's first fold reads only the first half: its load
  // goes when that store is done, 150..200, and the fold runs 200..300 (no
  // stall); the second half comes in 250..300, just in time for 300..400.
  // 400 cycles, no ifmap stall. Were the first load's footprint the whole
  // tensor, it would wait for 250: loads 250..300 and 300..350, folds
  // 300..400 (100 cycles of ifmap stall) and 400..500.
  const ByteRange lo{kTensor, kTensor + 1000}, hi{kTensor + 1000, kTensor + 2000}, all{kTensor, kTensor + 2000};
  LayerProgram producer = two_folds("producer", true, {lo, hi});
  LayerProgram consumer = two_folds("consumer", false, {lo, hi});
  consumer.dram_inputs_from = {0};
  FixedBandwidthPort port(0.02);
  auto t = run(params(sram(4096, 4096, 8192)), port, {producer, consumer});
  EXPECT_EQ(t[0].cycles + t[1].cycles, 400);
  EXPECT_EQ(t[1].stalls.ifmap, 0);

  LayerProgram whole = two_folds("consumer", false, {all, hi});
  whole.dram_inputs_from = {0};
  FixedBandwidthPort port2(0.02);
  t = run(params(sram(4096, 4096, 8192)), port2, {producer, whole});
  EXPECT_EQ(t[0].cycles + t[1].cycles, 500);
  EXPECT_EQ(t[1].stalls.ifmap, 100);
}

TEST(NpuNetlist, APartialSumReloadWaitsForItsSpill) {
  // Fold 0 (0..100) spills 1,000 B of partial sums: written 100..150. Fold 1
  // reads them back: the load may go only then, 150..200, so fold 1 runs
  // 200..300 after 100 cycles of ofmap stall. (Loaded at once, 0..50, the
  // stale sums would have let it run 100..200.)
  LayerProgram layer;
  layer.name = "spilling";
  layer.steps.resize(2);
  for (FoldStep& step : layer.steps) step.compute_cycles = 100;
  layer.steps[0].stores.push_back(Transfer{BufferKind::ofmap, kTensor, 1000, true, TransferRole::partial_sums, {}});
  layer.steps[1].loads.push_back(Transfer{BufferKind::ofmap, kTensor, 1000, false, TransferRole::partial_sums, {}, 0});
  FixedBandwidthPort port(0.02);
  const auto t = run(params(sram(4096, 4096, 8192)), port, {layer});
  EXPECT_EQ(t[0].cycles, 300);
  EXPECT_EQ(t[0].stalls.ofmap, 100);
}

}  // namespace
}  // namespace npusim
