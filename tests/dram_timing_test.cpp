// The DRAM timing model against hand-derived command schedules on DDR4-3200
// (tCK 625 ps, CL 22, CWL 16, tRCD 22, tRP 22, tRAS 52, tRTP 12, tBURST 4,
// tCCD_S 4, tCCD_L 8, tRRD_S 4, tRRD_L 8, tFAW 34, tWTR_S 4, tWTR_L 12,
// tRFC 560, tREFI 12480). Every expected cycle is derived in a comment.
#include <gtest/gtest.h>

#include <vector>

#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"

namespace npusim {
namespace {

constexpr std::int64_t kTck = 625;

class Ddr4Timing : public ::testing::Test {
 protected:
  Ddr4Timing() : dram_(config()) { dram_.set_command_log(&log_); }
  // No front-end latency, so the derivations below count from the arrival edge.
  static DramConfig config() {
    DramConfig c = *dram_preset("ddr4-3200");
    c.controller.frontend_latency_cycles = 0;
    return c;
  }

  std::uint64_t at(int bank_group, int bank, std::int64_t row, std::int64_t column = 0) const {
    DramAddress where;
    where.bank_group = bank_group;
    where.bank = bank;
    where.row = row;
    where.column = column;
    return dram_.mapper().encode(where);
  }
  std::int64_t read(std::uint64_t address, std::int64_t arrival_cycle) {
    return dram_.access(address, 64, false, arrival_cycle * kTck);
  }
  std::int64_t write(std::uint64_t address, std::int64_t arrival_cycle) {
    return dram_.access(address, 64, true, arrival_cycle * kTck);
  }
  std::vector<std::int64_t> cycles_of(DramCommand command) const {
    std::vector<std::int64_t> cycles;
    for (const DramCommandRecord& r : log_) {
      if (r.command == command) cycles.push_back(r.cycle);
    }
    return cycles;
  }

  DramController dram_;
  std::vector<DramCommandRecord> log_;
};

TEST_F(Ddr4Timing, ReadToIdleBankTakesActivatePlusCasPlusBurst) {
  // ACT at 0, RD at tRCD = 22, last beat at 22 + CL + tBURST = 48.
  EXPECT_EQ(read(at(0, 0, 5), 0), (22 + 22 + 4) * kTck);
  EXPECT_EQ(cycles_of(DramCommand::act), std::vector<std::int64_t>{0});
  EXPECT_EQ(cycles_of(DramCommand::rd), std::vector<std::int64_t>{22});
  EXPECT_EQ(dram_.stats().row_misses, 1u);
  EXPECT_EQ(dram_.stats().activations, 1u);
}

TEST_F(Ddr4Timing, RowHitCostsCasPlusBurst) {
  read(at(0, 0, 5, 0), 0);
  // Arriving at 48, after the first read finished: RD at 48, done at 48 + CL + tBURST.
  EXPECT_EQ(read(at(0, 0, 5, 1), 48) - 48 * kTck, (22 + 4) * kTck);
  EXPECT_EQ(dram_.stats().row_hits, 1u);
  EXPECT_EQ(dram_.stats().activations, 1u);
}

TEST_F(Ddr4Timing, BackToBackHitsInOneBankAreSpacedByTccdL) {
  read(at(0, 0, 5, 0), 0);  // RD at 22
  // Same bank group: RD at 22 + tCCD_L = 30, done 30 + 26 = 56 (tCCD_L, not tBURST, binds).
  EXPECT_EQ(read(at(0, 0, 5, 1), 0), 56 * kTck);
}

TEST_F(Ddr4Timing, ConsecutiveBurstsAlternateBankGroupsAtTccdS) {
  // 128 B from address 0 are two bursts in bank groups 0 and 1 (Bg sits above
  // the 64 B burst): ACT 0 and 4 (tRRD_S), RD 22 and max(4 + 22, 22 + tCCD_S) = 26,
  // done 26 + 26 = 52.
  EXPECT_EQ(dram_.access(0, 128, false, 0), 52 * kTck);
  EXPECT_EQ(cycles_of(DramCommand::act), (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(cycles_of(DramCommand::rd), (std::vector<std::int64_t>{22, 26}));
}

TEST_F(Ddr4Timing, RowConflictWaitsForTrasThenPaysPrechargeAndActivate) {
  read(at(0, 0, 5), 0);  // ACT 0, RD 22, done 48
  // Another row of the bank, arriving at 48: PRE at max(48, ACT + tRAS = 52,
  // RD + tRTP = 34) = 52, ACT at 52 + tRP = 74, RD at 74 + tRCD = 96, done 122.
  EXPECT_EQ(read(at(0, 0, 6), 48), 122 * kTck);
  EXPECT_EQ(cycles_of(DramCommand::pre), std::vector<std::int64_t>{52});
  EXPECT_EQ(cycles_of(DramCommand::act), (std::vector<std::int64_t>{0, 74}));
  EXPECT_EQ(dram_.stats().row_conflicts, 1u);
  EXPECT_EQ(dram_.stats().precharges, 1u);
}

TEST_F(Ddr4Timing, RowConflictAfterTrasCostsPrechargeActivateCasBurst) {
  read(at(0, 0, 5), 0);
  // Arriving at 100 (tRAS long past): tRP + tRCD + CL + tBURST = 70 cycles.
  EXPECT_EQ(read(at(0, 0, 6), 100) - 100 * kTck, (22 + 22 + 22 + 4) * kTck);
}

TEST_F(Ddr4Timing, FiveActivationsRespectTrrdAndTfaw) {
  // Banks in groups 0,1,2,3 then group 0 again (another bank), all arriving at 0.
  // ACTs at 0, 4, 8, 12 (tRRD_S); the fifth may go at max(0 + tRRD_L = 8,
  // 12 + tRRD_S = 16, 0 + tFAW = 34) = 34, but the command bus carries the
  // fourth bank's RD (12 + tRCD = 34, a row hit, so FR-FCFS takes it first):
  // ACT 35, RD 35 + tRCD = 57, done 57 + CL + tBURST = 83.
  const std::uint64_t addresses[] = {at(0, 0, 1), at(1, 0, 1), at(2, 0, 1), at(3, 0, 1), at(0, 1, 1)};
  // Submitted together (access() would serve them one call after another).
  for (std::uint64_t a : addresses) dram_.submit(a, 64, false, 0);
  std::int64_t done = 0;
  while (auto c = dram_.next_completion()) done = std::max(done, c->done_ps);
  EXPECT_EQ(done, 83 * kTck);
  const auto acts = cycles_of(DramCommand::act);
  ASSERT_EQ(acts, (std::vector<std::int64_t>{0, 4, 8, 12, 35}));
  EXPECT_GE(acts[4] - acts[0], 34);  // never five ACTs within tFAW
}

TEST_F(Ddr4Timing, ActivationsInOneBankGroupAreSpacedByTrrdL) {
  dram_.submit(at(0, 0, 1), 64, false, 0);
  dram_.submit(at(0, 1, 1), 64, false, 0);
  while (dram_.next_completion()) {
  }
  EXPECT_EQ(cycles_of(DramCommand::act), (std::vector<std::int64_t>{0, 8}));
}

TEST_F(Ddr4Timing, WriteToReadInOneBankGroupWaitsTwtrL) {
  // The write is posted: complete as it enters the buffer at 0. With no read
  // waiting it drains: ACT 0, WR 22 (its data ends at 22 + CWL + tBURST = 42).
  EXPECT_EQ(write(at(0, 0, 5, 0), 0), 0);
  // RD to the open row: 22 + CWL + tBURST + tWTR_L = 54, done 54 + 26 = 80.
  EXPECT_EQ(read(at(0, 0, 5, 1), 0), 80 * kTck);
}

TEST_F(Ddr4Timing, WriteToReadInAnotherBankGroupWaitsTwtrS) {
  write(at(0, 0, 5), 0);  // ACT 0, WR 22
  // ACT at 4 (tRRD_S); RD at max(4 + tRCD = 26, 22 + 16 + 4 + tWTR_S = 46) = 46, done 72.
  EXPECT_EQ(read(at(1, 0, 5), 0), 72 * kTck);
}

TEST_F(Ddr4Timing, ReadToWriteTurnsTheBusAround) {
  read(at(0, 0, 5, 0), 0);  // ACT 0, RD at 22: the call returns with the channel at 23
  // The write is posted as it enters, at 23; it drains (no read waits) at
  // 22 + (CL + tBURST + 2 - CWL = 12) = 34, which a later call makes happen.
  EXPECT_EQ(write(at(0, 0, 5, 1), 0), 23 * kTck);
  read(at(1, 0, 5), 1000);
  EXPECT_EQ(cycles_of(DramCommand::wr), std::vector<std::int64_t>{34});
}

TEST_F(Ddr4Timing, RequestDueAfterRefreshWaitsForTrfc) {
  read(at(0, 0, 5), 0);  // ACT 0, RD 22; refresh due at tREFI = 12480
  // Arriving at 12490: the row hit would issue after the due time, so first the
  // open bank is precharged at 12480 and REF issues at 12480 + tRP = 12502; the
  // rank is blocked until 12502 + tRFC = 13062. The row is closed now: ACT
  // 13062, RD 13084, done 13110.
  EXPECT_EQ(read(at(0, 0, 5), 12490), 13110 * kTck);
  EXPECT_EQ(cycles_of(DramCommand::ref), std::vector<std::int64_t>{12502});
  EXPECT_EQ(dram_.stats().refreshes, 1u);
  EXPECT_EQ(dram_.stats().row_misses, 2u);
}

TEST_F(Ddr4Timing, IdleRankRefreshesOncePerTrefi) {
  read(at(0, 0, 5), 0);
  // 1 ms later (1 600 000 cycles) the rank has refreshed at 12480 k for
  // k = 1 .. floor(1 600 000 / 12480) = 128; the last (at 1 597 440) ended at
  // 1 598 000, so the read is not delayed: ACT 1 600 000, done 1 600 048.
  const std::int64_t arrival = 1'600'000;
  EXPECT_EQ(read(at(0, 0, 5), arrival), (arrival + 48) * kTck);
  EXPECT_EQ(dram_.stats().refreshes, 128u);
}

TEST_F(Ddr4Timing, ReadArrivingDuringIdleRefreshWaitsForItsEnd) {
  read(at(0, 0, 5), 0);
  // The 128th refresh starts at 1 597 440 and blocks the rank until 1 598 000.
  EXPECT_EQ(read(at(0, 0, 5), 1'597'500), (1'598'000 + 48) * kTck);
  EXPECT_EQ(dram_.stats().refreshes, 128u);
}

TEST_F(Ddr4Timing, UnalignedTransferTouchesEveryBurstItOverlaps) {
  // 64 B starting 32 B into a burst span two bursts.
  dram_.access(32, 64, false, 0);
  EXPECT_EQ(dram_.stats().read_bursts, 2u);
  EXPECT_EQ(dram_.stats().bytes_read, 64u);
  EXPECT_EQ(dram_.access(0, 0, false, 777), 777);  // nothing to move
}

TEST_F(Ddr4Timing, ArrivalBetweenClockEdgesWaitsForTheNextEdge) {
  // 1 ps after cycle 0: ACT on the edge at cycle 1, done at 1 + 48.
  EXPECT_EQ(dram_.access(at(0, 0, 5), 64, false, 1), 49 * kTck);
}

}  // namespace
}  // namespace npusim
