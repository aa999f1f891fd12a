// The SystemC side of the VCD writer: one sc_signal per waveform of a
// VcdPlan, driven by a thread that applies the plan's value changes at their
// times. Elaborate it only in a kernel that has not started (see
// traces/vcd_writer.h for where that is).
#pragma once

#include <memory>
#include <systemc>
#include <vector>

#include "traces/vcd_plan.h"

namespace npusim {

class VcdReplayModule : public sc_core::sc_module {
 public:
  // `plan` must outlive the module.
  VcdReplayModule(sc_core::sc_module_name name, const VcdPlan& plan);

  // Registers every signal with `file` under its plan name, in plan order.
  void trace(sc_core::sc_trace_file* file) const;

 private:
  void replay();

  const VcdPlan& plan_;
  // Per plan signal: a flag (width 1) or a counter; the other pointer is null.
  std::vector<std::unique_ptr<sc_core::sc_signal<bool>>> flags_;
  std::vector<std::unique_ptr<sc_core::sc_signal<sc_dt::int64>>> counters_;
};

}  // namespace npusim
