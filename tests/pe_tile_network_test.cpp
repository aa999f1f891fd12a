// Whole networks with a memory model in both fidelities: the register-level
// engine (pe) and the closed form (tile) must give the same cycles, stalls and
// bytes for every layer, because the timing of a run comes from the same
// netlist fed with each engine's own cycle counts. The comparison must be able
// to fail: an engine one cycle slower per GEMM changes the run.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "accel/array/gemm_engine.h"
#include "cli_test_support.h"
#include "models/model_loader.h"
#include "sim/commands/simulation.h"
#include "sim/config/accelerator_config.h"
#include "sim/energy/run_energy.h"

namespace npusim {
namespace {

// The tile engine, one cycle slower per GEMM: a stand-in for a pe engine
// that is off by one.
class OneCycleSlowerEngine final : public GemmEngine {
 public:
  explicit OneCycleSlowerEngine(const ArrayConfig& array) : inner_(make_tile_engine(array)) {}
  GemmRun run(const GemmOperands& operands) override {
    GemmRun run = inner_->run(operands);
    run.cycles += 1;
    return run;
  }

 private:
  std::unique_ptr<GemmEngine> inner_;
};

void expect_same_timing(const NetworkRun& a, const NetworkRun& b, const std::string& what) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  EXPECT_EQ(a.total_cycles, b.total_cycles) << what;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerRecord& x = a.layers[i];
    const LayerRecord& y = b.layers[i];
    ASSERT_TRUE(x.memory && y.memory) << what;
    EXPECT_EQ(x.cycles, y.cycles) << what << " " << x.name;
    EXPECT_EQ(x.memory->compute_cycles, y.memory->compute_cycles) << what << " " << x.name;
    EXPECT_EQ(x.memory->stalls.total(), y.memory->stalls.total()) << what << " " << x.name;
    EXPECT_EQ(x.memory->stalls.weight, y.memory->stalls.weight) << what << " " << x.name;
    EXPECT_EQ(x.memory->stalls.ppu, y.memory->stalls.ppu) << what << " " << x.name;
    EXPECT_EQ(x.memory->dram_read_bytes, y.memory->dram_read_bytes) << what << " " << x.name;
    EXPECT_EQ(x.memory->dram_write_bytes, y.memory->dram_write_bytes) << what << " " << x.name;
  }
}

TEST(PeTileNetworks, SameCyclesStallsAndBytesWithAMemoryModelAndAnOffByOneEngineIsCaught) {
  // A small array keeps the register-level runs short; the config's DDR-class
  // memory section is what matters.
  const std::string config_path = testing::kSourceDir + "/configs/edge_int8_32x32.json";
  AcceleratorConfig config =
      load_accelerator_config(config_path, {"array.rows=8", "array.cols=8", "memory.dram.preset=ddr4-3200"});
  ASSERT_TRUE(config.memory.modeled);
  AcceleratorConfig pe_config = config;
  pe_config.fidelity = Fidelity::pe;
  // The pe engine is the process's one SystemC design: built before anything runs.
  const std::unique_ptr<GemmEngine> pe = make_engine(pe_config);
  const std::unique_ptr<GemmEngine> tile = make_engine(config);
  const EnergyTable table = load_config_energy_table(config);
  for (const char* network : {"lenet5.json", "tiny_mixed.json", "cifar10_vgg_small.json"}) {
    const auto models = load_models(testing::kSourceDir + "/models/zoo/" + network);
    const Graph& graph = models.at(0).graph;
    const Simulation t = simulate(config, graph, *tile, table);
    const Simulation p = simulate(pe_config, graph, *pe, table);
    expect_same_timing(t.run, p.run, network);
    OneCycleSlowerEngine slower(config.array);
    const Simulation s = simulate(config, graph, slower, table);
    EXPECT_GT(s.run.total_cycles, t.run.total_cycles) << network;
  }
}

}  // namespace
}  // namespace npusim
