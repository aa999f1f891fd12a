#include "accel/memory/dram_model.h"

#include <algorithm>
#include <stdexcept>

#include "accel/memory/dram_controller.h"
#include "accel/memory/ideal_memory.h"

namespace npusim {

std::int64_t DramModel::access_strided(std::uint64_t address, std::uint64_t row_bytes, std::uint64_t rows,
                                       std::uint64_t stride_bytes, bool is_write, std::int64_t arrival_ps) {
  std::int64_t done_ps = arrival_ps;
  for (std::uint64_t r = 0; r < rows; ++r) {
    done_ps = std::max(done_ps, access(address + r * stride_bytes, row_bytes, is_write, arrival_ps));
  }
  return done_ps;
}

DramModel::RequestId DramModel::submit(std::uint64_t address, std::uint64_t bytes, bool is_write,
                                       std::int64_t arrival_ps) {
  RequestId id = next_id_;
  if (free_ids_.empty()) {
    ++next_id_;
  } else {
    id = free_ids_.back();
    free_ids_.pop_back();
  }
  done_.push({access(address, bytes, is_write, arrival_ps), id});
  return id;
}

std::optional<DramModel::Completion> DramModel::next_completion() {
  if (done_.empty()) return std::nullopt;
  const auto [done_ps, id] = done_.top();
  done_.pop();
  free_ids_.push_back(id);
  return Completion{id, done_ps};
}

std::unique_ptr<DramModel> make_dram_model(const DramConfig& config) {
  if (config.kind == DramKind::ideal) return std::make_unique<IdealMemory>(config);
  return std::make_unique<DramController>(config);
}

}  // namespace npusim
