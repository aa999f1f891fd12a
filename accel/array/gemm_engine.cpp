#include "accel/array/gemm_engine.h"

#include <stdexcept>

#include <systemc>

#include "accel/array/fold_timing.h"
#include "accel/array/mac_arithmetic.h"
#include "accel/array/pe_array_module.h"
#include "accel/array/tile_kernel.h"

namespace npusim {
namespace {

class TileEngine final : public GemmEngine {
 public:
  explicit TileEngine(const ArrayConfig& array) : array_(array) {
    if (auto problem = validate(array.mac)) throw std::invalid_argument(*problem);
  }

  GemmRun run(const GemmOperands& operands) override {
    GemmRun run;
    run.cycles = gemm_timing(operands.shape, array_).cycles;
    run.output = compute_gemm_values(operands, array_.mac, reduction_chunk(array_, operands.shape.k));
    return run;
  }

 private:
  ArrayConfig array_;
};

// Owns the clock and the array module. SystemC elaborates once per process, so
// only one of these may exist in a process's lifetime.
class PeEngine final : public GemmEngine {
 public:
  PeEngine(const ArrayConfig& array, double clock_mhz)
      : clock_("clk", sc_core::sc_time(1.0e6 / clock_mhz, sc_core::SC_PS)), array_module_("pe_array", array) {
    array_module_.clk(clock_);
  }

  GemmRun run(const GemmOperands& operands) override { return array_module_.execute(operands); }

 private:
  sc_core::sc_clock clock_;
  PeArrayModule array_module_;
};

}  // namespace

std::unique_ptr<GemmEngine> make_tile_engine(const ArrayConfig& array) { return std::make_unique<TileEngine>(array); }

std::unique_ptr<GemmEngine> make_pe_engine(const ArrayConfig& array, double clock_mhz) {
  if (!(clock_mhz > 0)) throw std::invalid_argument("clock_mhz must be positive");
  return std::make_unique<PeEngine>(array, clock_mhz);
}

}  // namespace npusim
