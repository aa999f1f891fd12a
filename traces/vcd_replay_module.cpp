#include "traces/vcd_replay_module.h"

#include <stdexcept>
#include <string>

namespace npusim {

VcdReplayModule::VcdReplayModule(sc_core::sc_module_name name, std::vector<VcdSignal> signals, VcdChangeSource changes)
    : sc_core::sc_module(name), signals_(std::move(signals)), changes_(std::move(changes)) {
  for (const VcdSignal& signal : signals_) {
    if (signal.width_bits == 1) {
      flags_.push_back(std::make_unique<sc_core::sc_signal<bool>>(signal.name.c_str()));
      counters_.push_back(nullptr);
    } else {
      flags_.push_back(nullptr);
      counters_.push_back(std::make_unique<sc_core::sc_signal<sc_dt::int64>>(signal.name.c_str()));
    }
  }
  SC_HAS_PROCESS(VcdReplayModule);
  SC_THREAD(replay);
}

void VcdReplayModule::trace(sc_core::sc_trace_file* file) const {
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    if (flags_[i]) {
      sc_core::sc_trace(file, *flags_[i], signals_[i].name);
    } else {
      sc_core::sc_trace(file, *counters_[i], signals_[i].name);
    }
  }
}

void VcdReplayModule::replay() {
  // The writer's kernel keeps the default resolution of 1 ps, so a time in
  // ps is the kernel's integer time value: no rounding through double.
  VcdChange change;
  while (changes_(change)) {
    if (change.signal < 0 || static_cast<std::size_t>(change.signal) >= signals_.size()) {
      throw std::invalid_argument("VCD change for unknown signal " + std::to_string(change.signal));
    }
    const sc_core::sc_time at = sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(change.time_ps));
    if (at > sc_core::sc_time_stamp()) wait(at - sc_core::sc_time_stamp());
    const std::size_t i = static_cast<std::size_t>(change.signal);
    if (flags_[i]) {
      flags_[i]->write(change.value != 0);
    } else {
      counters_[i]->write(change.value);
    }
  }
}

}  // namespace npusim
