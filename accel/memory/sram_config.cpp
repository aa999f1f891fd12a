#include "accel/memory/sram_config.h"

namespace npusim {

std::string_view to_string(BufferKind kind) {
  switch (kind) {
    case BufferKind::ifmap: return "ifmap";
    case BufferKind::weight: return "weight";
    case BufferKind::ofmap: return "ofmap";
  }
  return "?";
}

const SramConfig& SramSet::operator[](BufferKind kind) const {
  switch (kind) {
    case BufferKind::ifmap: return ifmap;
    case BufferKind::weight: return weight;
    case BufferKind::ofmap: return ofmap;
  }
  return ifmap;
}

}  // namespace npusim
