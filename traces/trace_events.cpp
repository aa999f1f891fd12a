#include "traces/trace_events.h"

namespace npusim {

std::string_view to_string(DramCommandKind command) {
  switch (command) {
    case DramCommandKind::act: return "ACT";
    case DramCommandKind::rd: return "RD";
    case DramCommandKind::wr: return "WR";
    case DramCommandKind::pre: return "PRE";
    case DramCommandKind::ref: return "REF";
    case DramCommandKind::ref_pb: return "REFpb";
  }
  return "?";
}

std::string_view to_string(ComputeUnit unit) {
  switch (unit) {
    case ComputeUnit::array: return "array";
    case ComputeUnit::ppu: return "ppu";
  }
  return "?";
}

std::string_view to_string(StallCause cause) {
  switch (cause) {
    case StallCause::ifmap: return "ifmap";
    case StallCause::weight: return "weight";
    case StallCause::ofmap: return "ofmap";
    case StallCause::sram: return "sram";
    case StallCause::ppu: return "ppu";
  }
  return "?";
}

std::string truncation_message(const TraceEvents& events) {
  if (!events.truncated) return "";
  return "trace truncated at " + std::to_string(events.max_events) + " events (limit --trace-max-events)";
}

}  // namespace npusim
