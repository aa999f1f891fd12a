// dram-bench's closed loop goes through TLM: the traffic initiator, the DRAM
// target's nb_transport path and the model's submit()/next_completion().
// These tests check that the TLM layer adds no time of its own and that a
// rejected request stops the run.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"
#include "accel/npu/process_hardware.h"
#include "sim/commands/dram_bench_command.h"

namespace npusim {
namespace {

// Ideal memory, 64 GB/s (one 64 B request per ns on the pipe), 30 ns latency,
// four in flight, eight requests, all at time 0 then one per completion.
// By hand: the first four leave the pipe at 1, 2, 3, 4 ns and complete at 31,
// 32, 33, 34 (latencies 31-34 ns: they queue for the pipe); each slot's next
// request arrives as its last completes, finds the pipe free, and completes
// 31 ns later: 62, 63, 64, 65. So the run ends at 65 ns, 8 x 64 B / 65 ns =
// 7.877 GB/s, and the mean read latency is (31+32+33+34 + 4 x 31) / 8 = 31.75 ns.
TEST(DramTrafficTlm, IdealMemoryClosedLoopHasTheHandDerivedTimes) {
  DramConfig config = *dram_preset("ideal");
  config.ideal.bandwidth_gbps = 64.0;
  config.ideal.latency_ns = 30.0;
  const DramBenchResult r = run_dram_bench(config, DramBenchPattern::seq, 4, 8);
  EXPECT_DOUBLE_EQ(r.elapsed_ns, 65.0);
  EXPECT_NEAR(r.bandwidth_gbps, 512.0 / 65.0, 1e-12);
  EXPECT_NEAR(r.read_latency_avg_cycles * static_cast<double>(config.tCK_ps), 31'750.0, 1e-6);
}

// The same closed loop written here directly over a DramController's
// submit()/next_completion() (own loop, no TLM): through TLM the run must end
// at the same picosecond and see the same read latencies, on random traffic
// where the scheduler reorders requests.
TEST(DramTrafficTlm, TimingModelThroughTlmEqualsTheDirectLoop) {
  const DramConfig config = *dram_preset("ddr4-3200");
  const int outstanding = 48;
  const std::int64_t requests = 20000;
  const DramBenchResult tlm = run_dram_bench(config, DramBenchPattern::rand, outstanding, requests);

  DramController direct(config);
  std::uint64_t state = 1;  // the bench's splitmix64, restated
  const auto next_address = [&] {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (z % (config.capacity_bytes() / 64)) * 64;
  };
  std::vector<std::int64_t> issued;
  std::int64_t sent = 0, last_ps = 0;
  double latency_sum_ps = 0;
  const auto send = [&](std::int64_t at_ps) {
    const auto id = direct.submit(next_address(), 64, false, at_ps);
    if (id >= issued.size()) issued.resize(id + 1);
    issued[id] = at_ps;
    ++sent;
  };
  for (int i = 0; i < outstanding; ++i) send(0);
  while (auto done = direct.next_completion()) {
    latency_sum_ps += static_cast<double>(done->done_ps - issued[done->id]);
    last_ps = std::max(last_ps, done->done_ps);
    if (sent < requests) send(done->done_ps);
  }
  EXPECT_DOUBLE_EQ(tlm.elapsed_ns, static_cast<double>(last_ps) * 1e-3);
  EXPECT_NEAR(tlm.read_latency_avg_cycles, latency_sum_ps / static_cast<double>(requests) / config.tCK_ps, 1e-9);
  EXPECT_EQ(direct.stats().read_bursts, static_cast<std::uint64_t>(requests));
}

// A request beyond the capacity is answered TLM_ADDRESS_ERROR_RESPONSE by the
// target (dram_target.h); the closed loop stops and says so.
TEST(DramTrafficTlm, ARejectedRequestStopsTheRunWithTheTlmResponse) {
  ProcessHardware& hw = process_hardware();
  const DramConfig config = *dram_preset("ddr4-3200");
  hw.dram.reset(config, 0);
  int handed = 0;
  const auto next = [&]() -> std::optional<DramTrafficInitiator::Request> {
    if (handed++ == 3) return std::nullopt;
    return DramTrafficInitiator::Request{config.capacity_bytes() + 64 * static_cast<std::uint64_t>(handed), 64, false};
  };
  try {
    hw.traffic.run_closed_loop(2, next, [](const DramTrafficInitiator::Request&, std::int64_t, std::int64_t) {});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("TLM_ADDRESS_ERROR_RESPONSE"), std::string::npos) << e.what();
  }
  EXPECT_EQ(hw.dram.in_flight(), 0u);
}

}  // namespace
}  // namespace npusim
