// The SystemC kernel's time in whole picoseconds, the unit every npusim model
// keeps time in. Integer arithmetic on the kernel's ticks: exact, and cheap
// enough for the per-request paths (the TLM targets and initiators).
#pragma once

#include <cstdint>

#include <systemc>

namespace npusim {

inline sc_dt::uint64 ticks_per_ps() {
  static const sc_dt::uint64 ticks = sc_core::sc_time(1, sc_core::SC_PS).value();
  return ticks;
}

inline std::int64_t to_ps(const sc_core::sc_time& t) { return static_cast<std::int64_t>(t.value() / ticks_per_ps()); }

inline std::int64_t kernel_now_ps() { return to_ps(sc_core::sc_time_stamp()); }

// `ps` must not be negative.
inline sc_core::sc_time from_ps(std::int64_t ps) {
  return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(ps) * ticks_per_ps());
}

}  // namespace npusim
