#include "sim/simulation.h"

#include "models/fp32_executor.h"
#include "models/quantize.h"
#include "models/reference_executor.h"

namespace npusim {

std::unique_ptr<GemmEngine> make_engine(const AcceleratorConfig& config) {
  if (config.fidelity == Fidelity::pe) return make_pe_engine(config.array, config.clock_mhz);
  return make_tile_engine(config.array);
}

Simulation simulate(const AcceleratorConfig& config, const Graph& graph, GemmEngine& engine,
                    const EnergyTable& table, const LayerProgress& progress, TraceRecorder* trace) {
  const Tensor sample = make_sample_input(graph);
  Simulation sim{quantize_graph(graph, config.array.mac, sample), {}, {}, {}, {}, {}};
  sim.input = quantize_input(sim.qgraph, sample);
  sim.run = run_network(sim.qgraph, sim.input, engine, config, progress, trace);
  const ReferenceResult reference =
      run_reference(sim.qgraph, sim.input, reference_reduction_chunk(config.array));
  sim.checks = check_against_reference(sim.run, reference);

  const std::vector<Tensor> golden = Fp32Executor(graph).run(sample);
  std::vector<const Tensor*> outputs;
  for (const auto& layer : sim.run.layers) outputs.push_back(&layer.output);
  sim.metrics = quant_metrics(sim.qgraph, outputs, golden);
  sim.energy = estimate_run_energy(config, sim.qgraph, sim.run, table);
  return sim;
}

}  // namespace npusim
