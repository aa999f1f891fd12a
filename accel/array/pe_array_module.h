// The pe fidelity as a SystemC module: a clocked thread that advances the
// register-level SystolicCore by one step per rising clock edge.
#pragma once

#include <cstdint>

#include <systemc>

#include "accel/array/systolic_core.h"

namespace npusim {

class PeArrayModule : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk;

  PeArrayModule(sc_core::sc_module_name name, const ArrayConfig& array);

  // Runs one GEMM to completion inside the SystemC kernel (sc_start until the
  // module pauses the simulation) and returns its values and cycles.
  GemmRun execute(const GemmOperands& operands);

  std::int64_t pe_updates() const { return core_.pe_updates(); }
  // Clock edges the array was busy for, across all GEMMs.
  std::int64_t busy_cycles() const { return busy_cycles_; }

 private:
  void run_thread();

  SystolicCore core_;
  std::int64_t busy_cycles_ = 0;
};

}  // namespace npusim
