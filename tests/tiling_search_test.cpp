// The per-GEMM tiling search (sim/mapper/tiling_search.h): traffic of tilings
// worked out by hand, the closed form against the fold program it stands for,
// and the search against the former all-or-nothing planner on the zoo.
#include "sim/mapper/tiling_search.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "legacy_memory_plan.h"
#include "models/network_json.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/memory_system.h"

namespace npusim {
namespace {

const std::string kRoot = NPUSIM_SOURCE_DIR;

ArrayConfig array_of(Dataflow dataflow, int rows = 32, int cols = 32) {
  ArrayConfig a;
  a.rows = rows;
  a.cols = cols;
  a.dataflow = dataflow;
  return a;
}

SramSet sram(std::int64_t ifmap_kb, std::int64_t weight_kb, std::int64_t ofmap_kb) {
  SramSet s;
  s.ifmap.capacity_bytes = ifmap_kb * 1024;
  s.weight.capacity_bytes = weight_kb * 1024;
  s.ofmap.capacity_bytes = ofmap_kb * 1024;
  return s;
}

// A plain int8 GEMM: A is M x K, stored as it is read.
GemmMemoryNeeds gemm_needs(std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmMemoryNeeds needs;
  needs.shape = {m, n, k};
  needs.input_bytes = [](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
    return (m1 - m0) * (k1 - k0);
  };
  return needs;
}

TEST(TilingSearch, TwoKTilesWithSpilledPartialSumsBeatRereadingAnOperand) {
  // WS 32x32, M=128, N=64, K=2048 int8: A = 262,144 B, W = 131,072 B, out
  // 8,192 B. Halves: ifmap 128 KiB, weight 32 KiB, ofmap 16 KiB (4,096 int32
  // partial sums). Neither operand fits whole and the 8,192 partial sums do
  // not fit, so reading each operand once needs K outermost with the psums
  // of a 128 x 32 output tile spilled between K tiles. Fewest K tiles: A's
  // tile 128 x Tk <= 128 KiB and W's Tk x 32 <= 32 KiB give Tk <= 1024, so
  // exactly two, one spill: written and read back once, 128*64*4 = 32,768 B
  // each way. Total 262,144 + 131,072 + 8,192 + 65,536 = 466,944 B. Without
  // spilling one operand is read twice: W (cheaper) adds 131,072 (532,480 B),
  // the former planner's best (cols_inner: 64-row temporal tiles so that
  // 64 x 64 psums fit, W read per tile).
  const GemmMemoryNeeds needs = gemm_needs(128, 64, 2048);
  const SramSet buffers = sram(256, 64, 32);
  const auto choice = search_tiling(needs, array_of(Dataflow::ws), buffers);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->tiling.tile_k, 1024);
  EXPECT_TRUE(choice->tiling.spill_psums);
  EXPECT_EQ(choice->tiling.tile_m, 128);  // one M tile: where its loop sits does not matter
  EXPECT_EQ(choice->tiling.tile_n, 32);
  EXPECT_EQ(loop_order_name(choice->tiling.order), "mkn");  // K outside N: A's tile stays while N runs
  EXPECT_EQ(choice->cost.dram_bytes(), 466'944);
  const GemmMemoryPlan plan = plan_gemm_memory(needs, array_of(Dataflow::ws), buffers);
  EXPECT_EQ(plan.dram_read_bytes[0], 262'144);
  EXPECT_EQ(plan.dram_read_bytes[1], 131'072);
  EXPECT_EQ(plan.dram_read_bytes[2], 32'768);        // psums read back
  EXPECT_EQ(plan.dram_write_bytes, 8'192 + 32'768);  // outputs + psums spilled
  EXPECT_EQ(plan.compulsory_dram_bytes, 262'144 + 131'072 + 8'192);
  EXPECT_EQ(legacy::plan_gemm_memory(needs, array_of(Dataflow::ws), buffers).dram_bytes(), 532'480);
}

TEST(TilingSearch, OperandTileStaysAcrossTheLoopThatDoesNotIndexIt) {
  // WS 32x32, M=1024, N=256, K=256 int8: A = 262,144 B does not fit its
  // 64 KiB half, W = 65,536 B fits its half (resident). With all M x N
  // partial sums fitting the 1 MiB accumulator half, K outside N keeps each
  // 1024 x 32 A tile on chip while N runs: every tensor crosses once.
  GemmMemoryNeeds needs = gemm_needs(1024, 256, 256);
  const auto choice = search_tiling(needs, array_of(Dataflow::ws), sram(128, 128, 2048));
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->cost.dram_bytes(), compulsory_dram_bytes(needs));
  EXPECT_EQ(compulsory_dram_bytes(needs), 1024 * 256 + 256 * 256 + 1024 * 256);
  // Keeping only the tile that is on chip: with N innermost but K tiles of
  // one block, an m,n,k order rereads A once per N tile.
  GemmTiling reread;
  reread.tile_m = 1024;
  reread.tile_n = 32;
  reread.tile_k = 32;
  reread.order = {GemmDim::m, GemmDim::n, GemmDim::k};
  const auto cost = evaluate_tiling(needs, array_of(Dataflow::ws), sram(128, 128, 2048), reread);
  ASSERT_TRUE(cost);
  EXPECT_EQ(cost->input_bytes, 8 * 1024 * 256);  // 256 / 32 = 8 N tiles
  EXPECT_EQ(cost->weight_bytes, 256 * 256);
}

TEST(TilingSearch, CompulsoryBytesSkipWhatStaysOnChip) {
  // fc K=4096, N=1000 int8: input 4,096, weights 4,096,000, output 1,000.
  GemmMemoryNeeds needs = gemm_needs(1, 1000, 4096);
  EXPECT_EQ(compulsory_dram_bytes(needs), 4096 + 4'096'000 + 1000);
  needs.input_on_chip = true;
  needs.output_on_chip = true;
  EXPECT_EQ(compulsory_dram_bytes(needs), 4'096'000);
}

// Every well-formed tiling of a few GEMMs: the closed form equals the built
// program byte for byte and cycle for cycle, buffer by buffer.
TEST(TilingSearch, ClosedFormEqualsTheBuiltProgram) {
  // A 3x3 pad-1 conv, 8 -> 40 channels on 12x12, through rows of 12.
  GemmMemoryNeeds conv = gemm_needs(144, 40, 72);
  conv.m_per_output_row = 12;
  conv.input_bytes = [](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
    const std::int64_t iy0 = std::max<std::int64_t>(0, m0 / 12 - 1),
                       iy1 = std::min<std::int64_t>(11, (m1 - 1) / 12 + 1);
    return (iy1 - iy0 + 1) * 12 * ((k1 + 8) / 9 - k0 / 9);
  };
  const std::vector<GemmMemoryNeeds> gemms{conv, gemm_needs(100, 70, 90), gemm_needs(1, 50, 300)};
  std::int64_t checked = 0;
  for (const GemmMemoryNeeds& needs : gemms) {
    for (Dataflow dataflow : {Dataflow::ws, Dataflow::is, Dataflow::os}) {
      const ArrayConfig array = array_of(dataflow, 8, 16);
      const SramSet buffers = sram(2, 2, 4);  // small: nothing resident, tiles and spills matter
      const FoldUnits u = fold_units(needs.shape, array);
      const auto sizes = [&](std::int64_t length, std::int64_t unit) {
        std::vector<std::int64_t> out{length};
        for (std::int64_t t = unit; t < length; t += 3 * unit) out.push_back(t);
        return out;
      };
      for (std::int64_t tm : sizes(needs.shape.m, u.m)) {
        for (std::int64_t tn : sizes(needs.shape.n, u.n)) {
          for (std::int64_t tk : sizes(needs.shape.k, u.k)) {
            std::array<GemmDim, kGemmDims> order{GemmDim::m, GemmDim::n, GemmDim::k};
            do {
              for (bool spill : {false, true}) {
                GemmTiling t;
                t.tile_m = tm;
                t.tile_n = tn;
                t.tile_k = tk;
                t.order = order;
                t.spill_psums = spill;
                const auto cost = evaluate_tiling(needs, array, buffers, t);
                if (!cost) continue;
                const GemmMemoryPlan plan = build_gemm_plan(needs, array, buffers, t);
                const std::string what = std::string(to_string(dataflow)) + " " + std::to_string(tm) + "x" +
                                         std::to_string(tn) + "x" + std::to_string(tk) + " " + loop_order_name(order) +
                                         (spill ? " spill" : "");
                ASSERT_EQ(plan.dram_read_bytes[0], cost->input_bytes) << what;
                ASSERT_EQ(plan.dram_read_bytes[1], cost->weight_bytes) << what;
                ASSERT_EQ(plan.dram_read_bytes[2], cost->psum_read_bytes) << what;
                ASSERT_EQ(plan.dram_write_bytes, cost->output_bytes + cost->psum_write_bytes) << what;
                ASSERT_EQ(plan.compute_cycles, cost->compute_cycles) << what;
                std::int64_t step_cycles = 0;
                for (const FoldStep& s : plan.steps) step_cycles += s.compute_cycles;
                ASSERT_EQ(step_cycles, plan.compute_cycles) << what;
                ++checked;
              }
            } while (std::next_permutation(order.begin(), order.end()));
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 500);  // the buffers are small enough to reject some, not most
}

TEST(TilingSearch, BufferTooSmallForOneFoldStillNamesTheBuffer) {
  // One fold's weight block: 32 x 32 int8 = 1,024 B, double buffered 2,048 B.
  try {
    plan_gemm_memory(gemm_needs(1, 1000, 4096), array_of(Dataflow::ws), sram(64, 1, 64));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "$.memory.sram.weight.kb: 1024 bytes cannot hold one minimal tile: double buffering "
                 "needs 2 x 1024 = 2048 bytes");
  }
}

// The search includes the former planner's two plans, so no GEMM of any zoo
// network moves more DRAM bytes than before; and the chosen plan's program
// moves what its closed form says. (The on-chip flags only zero terms of
// both planners; they are left unset here to keep the test short.)
TEST(TilingSearch, NeverMovesMoreThanTheFormerPlannerOnTheZoo) {
  const std::vector<std::string> config_files{"configs/edge_int8_32x32.json", "configs/presets/nvdla_small_like.json"};
  std::vector<AcceleratorConfig> configs;
  for (const auto& file : config_files) configs.push_back(load_accelerator_config(kRoot + "/" + file, {}));
  const std::vector<std::string> networks{"alexnet",
                                          "bert_base_layer_s128",
                                          "cifar10_binaryconnect",
                                          "cifar10_vgg_small",
                                          "lenet5",
                                          "mobilenet_v1",
                                          "mobilenet_v2",
                                          "resnet18",
                                          "resnet50",
                                          "squeezenet1_1",
                                          "tiny_mixed",
                                          "tiny_yolo_v2_voc",
                                          "vgg16"};
  std::vector<std::int64_t> before(configs.size(), 0), after(configs.size(), 0);
  for (const std::string& network : networks) {
    const Graph graph = load_network_json(kRoot + "/models/zoo/" + network + ".json");
    for (std::size_t c = 0; c < configs.size(); ++c) {
      const AcceleratorConfig& config = configs[c];
      const int ab = storage_bits(config.array.mac.activation), wb = storage_bits(config.array.mac.weight);
      std::map<std::string, std::vector<std::int64_t>> dims{{graph.input_name, graph.input_dims}};
      for (const Layer& layer : graph.layers) {
        dims[layer.name] = layer.output_dims;
        if (layer.type != LayerType::conv2d && layer.type != LayerType::fc) continue;
        const auto gemms = layer_gemm_needs(layer, dims.at(layer.inputs.at(0)), ab, wb, ab);
        // A conv's groups are equal GEMMs: one stands for all.
        const GemmMemoryNeeds& needs = gemms.front();
        const auto groups = static_cast<std::int64_t>(gemms.size());
        const std::string what = config_files[c] + " " + network + " " + layer.name;
        const GemmMemoryPlan old_plan = legacy::plan_gemm_memory(needs, config.array, config.memory.sram);
        const auto choice = search_tiling(needs, config.array, config.memory.sram);
        ASSERT_TRUE(choice) << what;
        const GemmMemoryPlan plan = build_gemm_plan(needs, config.array, config.memory.sram, choice->tiling);
        ASSERT_EQ(plan.dram_bytes(), choice->cost.dram_bytes()) << what;
        EXPECT_LE(plan.dram_bytes(), old_plan.dram_bytes()) << what;
        before[c] += groups * old_plan.dram_bytes();
        after[c] += groups * plan.dram_bytes();
      }
    }
  }
  for (std::size_t c = 0; c < configs.size(); ++c) {
    std::printf("%s: zoo array-layer DRAM bytes (nothing on chip), former planner %lld, tiling search %lld\n",
                config_files[c].c_str(), static_cast<long long>(before[c]), static_cast<long long>(after[c]));
  }
}

}  // namespace
}  // namespace npusim

namespace npusim {
namespace {

// Planning must not be the bottleneck: every GEMM of ResNet-50 searched on
// the edge config (issue 16: <= 1 s). The bound here is loose for a loaded
// test machine; the figure is printed.
// The search's cost is bounded by its candidate count (deterministic, unlike
// wall time on a shared machine): ~607k candidates for all of ResNet-50's
// GEMMs. The time is printed for information; the speed figure lives in
// docs/mapping.md.
TEST(TilingSearch, ResNet50SearchIsBounded) {
  const AcceleratorConfig config = load_accelerator_config(kRoot + "/configs/edge_int8_32x32.json", {});
  const Graph graph = load_network_json(kRoot + "/models/zoo/resnet50.json");
  const int ab = storage_bits(config.array.mac.activation), wb = storage_bits(config.array.mac.weight);
  std::map<std::string, std::vector<std::int64_t>> dims{{graph.input_name, graph.input_dims}};
  const auto start = std::chrono::steady_clock::now();
  std::int64_t candidates = 0;
  for (const Layer& layer : graph.layers) {
    dims[layer.name] = layer.output_dims;
    if (layer.type != LayerType::conv2d && layer.type != LayerType::fc) continue;
    for (const GemmMemoryNeeds& needs : layer_gemm_needs(layer, dims.at(layer.inputs.at(0)), ab, wb, ab)) {
      const auto choice = search_tiling(needs, config.array, config.memory.sram);
      ASSERT_TRUE(choice) << layer.name;
      candidates += choice->candidates;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("ResNet-50 tiling search: %lld candidates in %.3f s\n", static_cast<long long>(candidates), seconds);
  EXPECT_GT(candidates, 0);
  EXPECT_LT(candidates, 2'000'000);
}

}  // namespace
}  // namespace npusim
