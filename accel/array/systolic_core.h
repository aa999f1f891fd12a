// The `pe` fidelity's register-level model of the systolic array, as plain C++:
// every PE register is advanced once per step(), operands move one PE per
// cycle with real skew, fill and drain, and the cycle count is whatever the
// stepping takes (never the closed form of accel/array/fold_timing.h). The SystemC
// module in accel/array/pe_array_module.h calls step() once per clock edge; tests can
// also drive it directly.
//
// Microarchitecture (R x C PEs):
//  - WS / IS: each PE holds a stationary operand (a lane group of weights for WS,
//    of activations for IS) plus a shadow copy. A per-column loader shifts the
//    next fold's operands down the shadow chain, one row per cycle. The
//    streaming operand enters row i from the left, skewed by i cycles, and moves
//    one PE right per cycle; the first token of a fold swaps shadow into active
//    as it passes. Partial sums enter each column's top as zero, move down one
//    PE per cycle adding the PE's lanes, and leave the bottom into the output
//    accumulator, which adds them fold by fold.
//  - OS: activations enter row i from the left (skew i), weights enter column j
//    from the top (skew j); each PE accumulates its own output over the
//    reduction, then copies it into an output register that the column's single
//    output port reads, one row per cycle.
//  - Fold scheduling (the only place the timing conventions differ):
//    overlapped: the next fold's loads start as soon as the shadow registers
//    free up and its stream follows the current one without a bubble (OS: no
//    sooner than R cycles later, the time the output ports need per fold);
//    scalesim: each fold loads only after the previous one has fully drained.
#pragma once

#include <cstdint>
#include <memory>

#include "accel/array/array_config.h"
#include "accel/array/gemm.h"
#include "accel/array/gemm_engine.h"

namespace npusim {

class SystolicDatapath;

class SystolicCore {
 public:
  explicit SystolicCore(const ArrayConfig& array);
  ~SystolicCore();
  SystolicCore(const SystolicCore&) = delete;
  SystolicCore& operator=(const SystolicCore&) = delete;

  // Begins a GEMM. The operand spans must stay valid until it finishes.
  void start(const GemmOperands& operands);
  bool busy() const;
  // Advances every register by one clock cycle.
  void step();
  // The finished GEMM's values and cycles (in the configured convention).
  GemmRun take_result();

  // start + step until done + take_result.
  GemmRun run(const GemmOperands& operands);

  // PE-cycles stepped so far (R*C per step), for throughput figures.
  std::int64_t pe_updates() const { return pe_updates_; }

 private:
  ArrayConfig array_;
  std::unique_ptr<SystolicDatapath> datapath_;
  std::int64_t pe_updates_ = 0;
};

}  // namespace npusim
