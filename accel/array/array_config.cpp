#include "accel/array/array_config.h"

namespace npusim {

std::optional<Dataflow> parse_dataflow(std::string_view name) {
  if (name == "ws") return Dataflow::ws;
  if (name == "os") return Dataflow::os;
  if (name == "is") return Dataflow::is;
  return std::nullopt;
}

std::optional<TimingConvention> parse_timing_convention(std::string_view name) {
  if (name == "overlapped") return TimingConvention::overlapped;
  if (name == "scalesim") return TimingConvention::scalesim;
  return std::nullopt;
}

std::optional<Fidelity> parse_fidelity(std::string_view name) {
  if (name == "tile") return Fidelity::tile;
  if (name == "pe") return Fidelity::pe;
  return std::nullopt;
}

std::string_view to_string(Dataflow dataflow) {
  switch (dataflow) {
    case Dataflow::ws: return "ws";
    case Dataflow::os: return "os";
    case Dataflow::is: return "is";
  }
  return "?";
}

std::string_view to_string(TimingConvention timing) {
  return timing == TimingConvention::overlapped ? "overlapped" : "scalesim";
}

std::string_view to_string(Fidelity fidelity) { return fidelity == Fidelity::tile ? "tile" : "pe"; }

}  // namespace npusim
