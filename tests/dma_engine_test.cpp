// The DMA engine over TLM-2.0 against the DRAM model called directly: the
// same transfers must complete at the same picosecond, and errors from the
// target must surface. One elaboration per process: a single test.
#include "accel/memory/dma_engine.h"

#include <gtest/gtest.h>

#include "accel/memory/dram_model.h"
#include "accel/memory/dram_presets.h"
#include "accel/memory/dram_target.h"

namespace npusim {
namespace {

TEST(DmaEngine, TlmTransfersCompleteWhenTheDramModelSaysAndErrorsSurface) {
  const DramConfig config = *dram_preset("ddr4-3200");
  DramTarget target("dram", config);
  DmaEngine dma("dma", 4096, config.peak_bandwidth_gbps());
  dma.socket.bind(target.socket);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);  // the target's multi-socket completes its binding at elaboration's end
  const auto direct = make_dram_model(config);

  struct Request {
    std::uint64_t address;
    std::int64_t bytes;
    bool is_write;
    std::int64_t issue_ps;
  };
  // Sequential reads, a write, a far row (conflict), a transfer of several
  // bursts issued all at once, then a late one after the memory went idle.
  const Request requests[] = {{0, 64, false, 0},          {64, 4096, false, 1000},
                              {1 << 20, 256, true, 2000}, {123456789, 64, false, 2000},
                              {4096, 20000, false, 5000}, {0, 64, false, 10'000'000}};
  for (const Request& r : requests) {
    // The direct model sees the DMA's bursts: the transfer cut at 4096 bytes,
    // every piece issued at the transfer's issue time.
    std::int64_t expected = r.issue_ps;
    for (std::int64_t moved = 0; moved < r.bytes; moved += 4096) {
      const auto piece = static_cast<std::uint64_t>(std::min<std::int64_t>(4096, r.bytes - moved));
      expected = std::max(expected, direct->access(r.address + moved, piece, r.is_write, r.issue_ps));
    }
    EXPECT_EQ(dma.transfer(r.address, r.bytes, r.is_write, r.issue_ps), expected) << r.address;
  }
  EXPECT_EQ(dma.transactions(), 1u + 1u + 1u + 1u + 5u + 1u);
  EXPECT_EQ(target.model().stats().bytes_read, direct->stats().bytes_read);
  EXPECT_EQ(target.model().stats().row_hits, direct->stats().row_hits);
  EXPECT_THROW(dma.transfer(config.capacity_bytes(), 64, false, 20'000'000), std::runtime_error);
}

}  // namespace
}  // namespace npusim
