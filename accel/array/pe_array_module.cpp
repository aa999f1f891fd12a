#include "accel/array/pe_array_module.h"

namespace npusim {

PeArrayModule::PeArrayModule(sc_core::sc_module_name name, const ArrayConfig& array)
    : sc_core::sc_module(name), clk("clk"), core_(array) {
  SC_HAS_PROCESS(PeArrayModule);
  SC_THREAD(run_thread);
}

GemmRun PeArrayModule::execute(const GemmOperands& operands) {
  core_.start(operands);
  sc_core::sc_start();
  return core_.take_result();
}

void PeArrayModule::run_thread() {
  // Between GEMMs the kernel is paused, so waking on idle edges costs nothing.
  for (;;) {
    wait(clk.posedge_event());
    if (!core_.busy()) continue;
    core_.step();
    ++busy_cycles_;
    if (!core_.busy()) sc_core::sc_pause();
  }
}

}  // namespace npusim
