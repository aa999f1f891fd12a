#include "accel/array/systolic_core.h"

#include <stdexcept>

#include "accel/array/systolic_datapath.h"

namespace npusim {

SystolicCore::SystolicCore(const ArrayConfig& array) : array_(array) {
  if (auto problem = validate(array.mac)) throw std::invalid_argument(*problem);
  if (array.rows < 1 || array.cols < 1) throw std::invalid_argument("array must be at least 1x1");
}

SystolicCore::~SystolicCore() = default;

void SystolicCore::start(const GemmOperands& operands) {
  if (busy()) throw std::logic_error("SystolicCore::start while a GEMM is running");
  datapath_ = array_.dataflow == Dataflow::os ? make_output_stationary_datapath(array_, operands)
                                              : make_stationary_datapath(array_, operands);
}

bool SystolicCore::busy() const { return datapath_ && !datapath_->done(); }

void SystolicCore::step() {
  datapath_->step();
  pe_updates_ += static_cast<std::int64_t>(array_.rows) * array_.cols;
}

GemmRun SystolicCore::take_result() {
  if (!datapath_ || !datapath_->done()) throw std::logic_error("SystolicCore: no finished GEMM");
  GemmRun run = datapath_->result();
  datapath_.reset();
  // SCALE-Sim reports the zero-based index of the cycle that writes the last
  // output, one less than the number of cycles.
  if (array_.timing == TimingConvention::scalesim) run.cycles -= 1;
  return run;
}

GemmRun SystolicCore::run(const GemmOperands& operands) {
  start(operands);
  while (busy()) step();
  return take_result();
}

}  // namespace npusim
