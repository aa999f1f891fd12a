#include "sim/run/reference_check.h"

#include <bit>
#include <cstdio>
#include <stdexcept>

namespace npusim {

const char* to_string(Check check) { return check == Check::full ? "full" : "none"; }
namespace {

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string text = "{";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return text + "}";
}

std::string float_text(float value) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.9g (0x%08x)", static_cast<double>(value),
                static_cast<unsigned>(std::bit_cast<std::uint32_t>(value)));
  return buffer;
}

}  // namespace

std::int64_t reference_reduction_chunk(const ArrayConfig& array) {
  if (array.dataflow == Dataflow::os) return 0;
  return static_cast<std::int64_t>(array.rows) * array.mac.lanes;
}

std::optional<std::string> first_difference(const Tensor& sim, const Tensor& reference) {
  if (sim.dims != reference.dims) {
    return "dims: sim " + dims_text(sim.dims) + ", reference " + dims_text(reference.dims);
  }
  if (sim.format != reference.format) {
    return "format: sim " + std::string(to_string(sim.format)) + ", reference " +
           std::string(to_string(reference.format));
  }
  if (sim.q.size() != reference.q.size() || sim.f.size() != reference.f.size()) {
    return "storage: sim " + std::to_string(sim.q.size()) + " int / " + std::to_string(sim.f.size()) +
           " float values, reference " + std::to_string(reference.q.size()) + " int / " +
           std::to_string(reference.f.size());
  }
  for (std::size_t i = 0; i < sim.q.size(); ++i) {
    if (sim.q[i] != reference.q[i]) {
      return "element " + std::to_string(i) + ": sim " + std::to_string(sim.q[i]) + ", reference " +
             std::to_string(reference.q[i]);
    }
  }
  for (std::size_t i = 0; i < sim.f.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(sim.f[i]) != std::bit_cast<std::uint32_t>(reference.f[i])) {
      return "element " + std::to_string(i) + ": sim " + float_text(sim.f[i]) + ", reference " +
             float_text(reference.f[i]);
    }
  }
  if (sim.quant.scale != reference.quant.scale || sim.quant.zero_point != reference.quant.zero_point) {
    char buffer[128];
    std::snprintf(buffer, sizeof buffer,
                  "quantization: sim scale %.17g zero point %d, reference scale %.17g zero point %d", sim.quant.scale,
                  sim.quant.zero_point, reference.quant.scale, reference.quant.zero_point);
    return std::string(buffer);
  }
  return std::nullopt;
}

std::vector<LayerCheck> check_against_reference(const NetworkRun& run, const ReferenceResult& reference) {
  if (reference.outputs.size() != run.layers.size()) {
    throw std::logic_error("reference check: the reference has " + std::to_string(reference.outputs.size()) +
                           " layer outputs, the run " + std::to_string(run.layers.size()));
  }
  std::vector<LayerCheck> checks;
  for (std::size_t i = 0; i < run.layers.size(); ++i) {
    const LayerRecord& layer = run.layers[i];
    LayerCheck check;
    if (const auto difference = first_difference(layer.output, reference.outputs[i])) {
      check.detail = *difference;
    } else {
      const std::int64_t reference_overflows =
          i < reference.overflow_outputs.size() ? reference.overflow_outputs[i] : 0;
      if (layer.overflow_outputs != reference_overflows) {
        check.detail = "overflow outputs: sim " + std::to_string(layer.overflow_outputs) + ", reference " +
                       std::to_string(reference_overflows);
      } else {
        check.bit_exact = true;
        check.detail = "bit-exact";
      }
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

bool all_bit_exact(const std::vector<LayerCheck>& checks) {
  for (const auto& check : checks) {
    if (!check.bit_exact) return false;
  }
  return true;
}

}  // namespace npusim
