// The pe fidelity inside the SystemC kernel: the clocked module must give the
// same cycles and bits as the tile fidelity, and simulated time must advance
// by exactly one clock period per cycle. This is the only test that elaborates
// a design; CTest runs each test in its own process.
#include <gtest/gtest.h>

#include <systemc>

#include "accel/array/gemm_engine.h"
#include "gemm_test_support.h"

namespace npusim {
namespace {

TEST(PeArrayModule, KernelDrivenRunsMatchTileFidelityAndAdvanceTime) {
  ArrayConfig array;
  array.rows = 6;
  array.cols = 5;
  array.dataflow = Dataflow::ws;
  array.mac.weight = NumberFormat::int8;
  array.mac.activation = NumberFormat::int8;
  const double clock_mhz = 500.0;  // 2000 ps period
  auto pe = make_pe_engine(array, clock_mhz);
  auto tile = make_tile_engine(array);

  std::int64_t total_cycles = 0;
  std::uint64_t seed = 7;
  for (const GemmShape shape : {GemmShape{9, 7, 20}, GemmShape{1, 1, 1}, GemmShape{13, 2, 45}}) {
    const auto data = testing::random_gemm(shape, array.mac.weight, array.mac.activation, seed++);
    const sc_core::sc_time before = sc_core::sc_time_stamp();
    const GemmRun from_kernel = pe->run(data.operands());
    const GemmRun closed_form = tile->run(data.operands());
    EXPECT_EQ(from_kernel.cycles, closed_form.cycles);
    EXPECT_EQ(from_kernel.output.acc_int, closed_form.output.acc_int);
    // The thread waits for a rising edge before each cycle, so the kernel
    // advances one period per cycle (the first edge of a run may be up to one
    // period away).
    const double elapsed_ps = (sc_core::sc_time_stamp() - before).to_seconds() * 1e12;
    EXPECT_GE(elapsed_ps, 2000.0 * (closed_form.cycles - 1) - 1e-3);
    EXPECT_LE(elapsed_ps, 2000.0 * closed_form.cycles + 1e-3);
    total_cycles += closed_form.cycles;
  }
  EXPECT_GT(total_cycles, 0);
}

}  // namespace
}  // namespace npusim
