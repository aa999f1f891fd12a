// Per-bank refresh (refresh_mode per_bank) against hand-derived command
// schedules. Expected cycles come from the preset values in
// accel/memory/dram_presets.cpp, derived in each comment, not from the rule
// table. LPDDR4-4266 (one channel, 8 banks, no bank groups): tCK 468 ps,
// CL 36, tBURST 8, tRCD 39, tRP 39, tRAS 90, tRTP 16, tRFCpb 300,
// tREFIpb 1042, tPBR2ACT 22. LPDDR5-6400 (4 groups x 4 banks; a REFpb
// refreshes banks b and b + 8): tRFCpb 96, tREFIpb 390, tPBR2ACT 7.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"

namespace npusim {
namespace {

DramConfig per_bank(const char* preset) {
  DramConfig c = *dram_preset(preset);
  c.channels = 1;
  c.refresh_mode = DramRefreshMode::per_bank;
  c.controller.frontend_latency_cycles = 0;  // derivations count from the arrival edge
  return c;
}

class BankRefresh {
 public:
  explicit BankRefresh(const DramConfig& c) : dram_(c) { dram_.set_command_log(&log_); }

  std::uint64_t at(int bank_group, int bank, std::int64_t row) const {
    DramAddress where;
    where.bank_group = bank_group;
    where.bank = bank;
    where.row = row;
    return dram_.mapper().encode(where);
  }
  // Completion cycle of a blocking 64 B read (one burst on both presets'
  // 16-bit channels is 32 B, so 64 B is two column commands: use 32 B).
  std::int64_t read(std::uint64_t address, std::int64_t arrival_cycle) {
    const std::int64_t tck = dram_.config().tCK_ps;
    return dram_.access(address, dram_.config().burst_bytes(), false, arrival_cycle * tck) / tck;
  }
  std::vector<DramCommandRecord> commands(DramCommand command) const {
    std::vector<DramCommandRecord> out;
    for (const DramCommandRecord& r : log_) {
      if (r.command == command) out.push_back(r);
    }
    return out;
  }
  DramController& dram() { return dram_; }

 private:
  DramController dram_;
  std::vector<DramCommandRecord> log_;
};

TEST(DramBankRefresh, IdleRankRefreshesOneBankPerTrefipbInTurn) {
  BankRefresh t(per_bank("lpddr4-4266"));
  // 20 intervals of 1042 cycles: REFpb at 1042 k for k = 1..20, banks 0..7 in turn.
  t.read(t.at(0, 0, 1), 20 * 1042 + 500);
  const auto refs = t.commands(DramCommand::ref_pb);
  ASSERT_EQ(refs.size(), 20u);
  for (std::size_t k = 0; k < refs.size(); ++k) {
    EXPECT_EQ(refs[k].cycle, static_cast<std::int64_t>(k + 1) * 1042) << k;
    EXPECT_EQ(refs[k].where.bank, static_cast<int>(k % 8)) << k;
  }
  EXPECT_EQ(t.dram().stats().bank_refreshes, 20u);
  EXPECT_EQ(t.dram().stats().refreshes, 0u);
}

TEST(DramBankRefresh, OnlyTheRefreshedBankWaitsTrfcpb) {
  BankRefresh t(per_bank("lpddr4-4266"));
  // REFpb of bank 0 at 1042. A read of bank 1 arriving at 1043 waits only
  // tPBR2ACT: ACT 1042 + 22 = 1064, RD 1064 + 39 = 1103, done 1103 + 36 + 8 = 1147.
  EXPECT_EQ(t.read(t.at(0, 1, 5), 1043), 1147);
  // Bank 0 itself: ACT at 1042 + tRFCpb 300 = 1342, RD 1381, done 1381 + 44 = 1425.
  EXPECT_EQ(t.read(t.at(0, 0, 5), 1043), 1425);
}

TEST(DramBankRefresh, AnOpenBankIsPrechargedFirst) {
  BankRefresh t(per_bank("lpddr4-4266"));
  // ACT 0, RD 39 (done 83): bank 0 stays open (open page).
  EXPECT_EQ(t.read(t.at(0, 0, 5), 0), 39 + 36 + 8);
  // At 1042 the REFpb of bank 0 is due: PRE at 1042 (tRAS 90 and tRTP 39 + 16
  // long past), REFpb at 1042 + tRP 39 = 1081; the row hit that follows
  // re-opens the row at 1081 + tRFCpb 300 = 1381: RD 1420, done 1464.
  EXPECT_EQ(t.read(t.at(0, 0, 5), 1100), 1420 + 36 + 8);
  const auto pres = t.commands(DramCommand::pre);
  ASSERT_EQ(pres.size(), 1u);
  EXPECT_EQ(pres[0].cycle, 1042);
  ASSERT_FALSE(t.commands(DramCommand::ref_pb).empty());
  EXPECT_EQ(t.commands(DramCommand::ref_pb)[0].cycle, 1081);
  EXPECT_EQ(t.commands(DramCommand::act).back().cycle, 1381);
}

TEST(DramBankRefresh, Lpddr5RefreshesABankPair) {
  BankRefresh t(per_bank("lpddr5-6400"));
  // The first REFpb (390) covers flat banks 0 and 8 = group 2, bank 0. A read
  // of group 1, bank 0 (flat 4) waits only tPBR2ACT (ACT 390 + 7 = 397); one
  // of group 2, bank 0 waits tRFCpb (ACT 390 + 96 = 486, later than the first
  // read's end).
  t.read(t.at(1, 0, 5), 391);
  EXPECT_EQ(t.commands(DramCommand::act).back().cycle, 397);
  t.read(t.at(2, 0, 5), 391);
  EXPECT_EQ(t.commands(DramCommand::act).back().cycle, 486);
  ASSERT_EQ(t.commands(DramCommand::ref_pb).size(), 1u);
  EXPECT_EQ(t.commands(DramCommand::ref_pb)[0].where.bank_group, 0);
}

TEST(DramBankRefresh, AStandardWithoutPerBankRefreshIsRefused) {
  DramConfig c = *dram_preset("ddr4-3200");
  c.refresh_mode = DramRefreshMode::per_bank;
  const std::string error = validate(c);
  EXPECT_EQ(error.rfind("timing.tRFCpb: expected a positive cycle count", 0), 0u) << error;
  EXPECT_NE(error.find("ddr4-3200 sets none"), std::string::npos) << error;
}

TEST(DramBankRefresh, PerBankRefreshCostsAStreamLessThanAllBank) {
  // A sequential read stream on one LPDDR4 channel for ~20 us: all-bank
  // refresh stops the whole rank tRFCab (598) every tREFI (8328), 7.2 % of the
  // time; per-bank refresh stops one bank in eight tRFCpb (300) every tREFIpb
  // (1042), and the stream moves on to other banks meanwhile.
  const auto stream_cycles = [](DramRefreshMode mode) {
    DramConfig c = per_bank("lpddr4-4266");
    c.refresh_mode = mode;
    DramController dram(c);
    std::int64_t done_ps = 0;
    const std::uint64_t bytes = 2 << 20;
    for (std::uint64_t a = 0; a < bytes; a += 4096) done_ps = dram.access(a, 4096, false, 0);
    return done_ps / c.tCK_ps;
  };
  const std::int64_t all_bank = stream_cycles(DramRefreshMode::all_bank);
  const std::int64_t bank = stream_cycles(DramRefreshMode::per_bank);
  std::printf("lpddr4 2 MiB stream: all_bank %lld cycles, per_bank %lld\n", static_cast<long long>(all_bank),
              static_cast<long long>(bank));
  EXPECT_LT(bank, all_bank);
}

}  // namespace
}  // namespace npusim
