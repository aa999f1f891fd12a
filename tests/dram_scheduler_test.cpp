// The controller's scheduling decisions on DDR4-3200 (CL 22, CWL 16, tRCD 22,
// tRP 22, tRAS 52, tRTP 12, tBURST 4, front-end latency 1 cycle; tCK 625 ps).
// Expected cycles are derived in the comments from those values.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"

namespace npusim {
namespace {

constexpr std::int64_t kTck = 625;

class Scheduler : public ::testing::Test {
 protected:
  DramConfig base() const {
    DramConfig c = *dram_preset("ddr4-3200");
    c.refresh = false;  // refresh would only move the figures by tRFC
    return c;
  }
  void make(const DramConfig& c) {
    dram_ = std::make_unique<DramController>(c);
    dram_->set_command_log(&log_);
  }
  std::uint64_t at(int bank_group, int bank, std::int64_t row, std::int64_t column = 0) const {
    DramAddress where;
    where.bank_group = bank_group;
    where.bank = bank;
    where.row = row;
    where.column = column;
    return dram_->mapper().encode(where);
  }
  DramController::RequestId read(std::uint64_t address, std::int64_t cycle) {
    return dram_->submit(address, 64, false, cycle * kTck);
  }
  DramController::RequestId write(std::uint64_t address, std::int64_t cycle) {
    return dram_->submit(address, 64, true, cycle * kTck);
  }
  // Completion cycle of every request, by id, and the order they completed in.
  std::map<DramController::RequestId, std::int64_t> run(std::vector<DramController::RequestId>* order = nullptr) {
    std::map<DramController::RequestId, std::int64_t> done;
    while (auto c = dram_->next_completion()) {
      done[c->id] = c->done_ps / kTck;
      if (order != nullptr) order->push_back(c->id);
    }
    return done;
  }
  std::vector<DramCommand> column_commands() const {
    std::vector<DramCommand> columns;
    for (const DramCommandRecord& r : log_) {
      if (r.command == DramCommand::rd || r.command == DramCommand::wr) columns.push_back(r.command);
    }
    return columns;
  }

  std::unique_ptr<DramController> dram_;
  std::vector<DramCommandRecord> log_;
};

TEST_F(Scheduler, UnloadedReadOfAClosedBankPaysFrontEndActivateCasAndBurst) {
  make(base());
  const auto id = read(at(0, 0, 5), 0);
  // Enters at 1 (front end), ACT 1, RD 1 + tRCD = 23, data done 23 + CL + tBURST = 49.
  EXPECT_EQ(run()[id], 49);
}

TEST_F(Scheduler, FrFcfsLetsARowHitOvertakeAnOlderConflict) {
  make(base());
  read(at(0, 0, 5), 0);  // opens row 5: ACT 1, RD 23
  run();
  const auto conflict = read(at(0, 0, 7), 100);
  const auto hit = read(at(0, 0, 5, 1), 100);
  const auto done = run();
  // Both enter at 101. The hit's RD issues at 101, done 101 + 26 = 127. The
  // conflict's PRE waits for the hit's RD + tRTP = 113, ACT 135, RD 157, done 183.
  EXPECT_EQ(done.at(hit), 127);
  EXPECT_EQ(done.at(conflict), 183);
}

TEST_F(Scheduler, FcfsServesTheOlderConflictFirst) {
  DramConfig c = base();
  c.controller.scheduler = DramScheduler::fcfs;
  make(c);
  read(at(0, 0, 5), 0);
  run();
  const auto conflict = read(at(0, 0, 7), 100);
  const auto hit = read(at(0, 0, 5, 1), 100);
  const auto done = run();
  // Conflict: PRE 101 (tRAS from ACT 1 and tRTP from RD 23 have passed), ACT
  // 123, RD 145, done 171. Row 5 is then closed: PRE at ACT 123 + tRAS = 175,
  // ACT 197, RD 219, done 245.
  EXPECT_EQ(done.at(conflict), 171);
  EXPECT_EQ(done.at(hit), 245);
}

TEST_F(Scheduler, TheRowHitCapStopsAConflictFromStarving) {
  for (const DramScheduler policy : {DramScheduler::frfcfs_cap, DramScheduler::frfcfs}) {
    DramConfig c = base();
    c.controller.scheduler = policy;
    c.controller.row_hit_cap = 4;
    make(c);
    read(at(0, 0, 5), 0);  // the first column command on the row (1 of the cap)
    run();
    const auto conflict = read(at(0, 0, 7), 100);
    std::vector<DramController::RequestId> hits;
    for (int col = 1; col <= 6; ++col) hits.push_back(read(at(0, 0, 5, col), 100));
    std::vector<DramController::RequestId> order;
    run(&order);
    const auto position = std::find(order.begin(), order.end(), conflict) - order.begin();
    // Capped: 3 more hits make 4 column commands since the ACT, then the
    // conflict. Uncapped: all six hits first.
    EXPECT_EQ(position, policy == DramScheduler::frfcfs_cap ? 3 : 6);
  }
}

TEST_F(Scheduler, WritesWaitForTheHighWatermarkThenDrainToTheLowOne) {
  DramConfig c = base();
  c.controller.write_buffer_depth = 8;
  c.controller.write_high_watermark = 6;
  c.controller.write_low_watermark = 2;
  make(c);
  for (int col = 0; col < 6; ++col) write(at(2, 0, 3, col), 0);
  for (int col = 0; col < 20; ++col) read(at(1, 0, 1, col), 0);
  run();
  // Six writes reach the high watermark: four drain (6 -> 2), then the reads
  // go, and the last two writes drain once no read waits.
  std::vector<DramCommand> expected(4, DramCommand::wr);
  expected.insert(expected.end(), 20, DramCommand::rd);
  expected.insert(expected.end(), 2, DramCommand::wr);
  EXPECT_EQ(column_commands(), expected);
}

TEST_F(Scheduler, WritesBelowTheHighWatermarkWaitWhileReadsWait) {
  make(base());  // buffer 32, high 24
  for (int col = 0; col < 5; ++col) write(at(2, 0, 3, col), 0);
  for (int col = 0; col < 20; ++col) read(at(1, 0, 1, col), 0);
  run();
  std::vector<DramCommand> expected(20, DramCommand::rd);
  expected.insert(expected.end(), 5, DramCommand::wr);
  EXPECT_EQ(column_commands(), expected);
}

TEST_F(Scheduler, AReadOfABufferedWriteIsServedFromTheBuffer) {
  make(base());
  const auto w = write(at(0, 0, 5), 0);
  const auto r = read(at(0, 0, 5), 0);
  const auto done = run();
  // The write is posted: complete as it enters at 1. The read finds it in the
  // buffer at 1 and returns one burst later, 5, instead of ACT + RD: 49.
  EXPECT_EQ(done.at(w), 1);
  EXPECT_EQ(done.at(r), 5);
  EXPECT_EQ(dram_->stats().reads_from_write_buffer, 1u);
  EXPECT_EQ(dram_->stats().read_bursts, 0u);
}

// Four reads to closed banks in four bank groups of one rank, all at cycle 0:
// each ACT may issue once the front end (1 cycle) has passed, but ACTs of a
// rank keep tRRD_S apart (different groups, so not tRRD_L), oldest first:
// cycles 1, 1 + tRRD_S, 1 + 2 tRRD_S, 1 + 3 tRRD_S (tFAW limits only a fifth).
TEST_F(Scheduler, ActivatesOfARankKeepTrrdSApartAcrossBankGroups) {
  const DramConfig c = base();
  make(c);
  for (int group = 0; group < 4; ++group) read(at(group, 0, 7), 0);
  run();
  std::vector<std::int64_t> acts;
  for (const DramCommandRecord& r : log_) {
    if (r.command == DramCommand::act) acts.push_back(r.cycle);
  }
  const std::int64_t rrd = c.timing.tRRD_S;
  EXPECT_EQ(acts, (std::vector<std::int64_t>{1, 1 + rrd, 1 + 2 * rrd, 1 + 3 * rrd}));
}

TEST_F(Scheduler, OneCommandPerCycleOnTheCommandBus) {
  // Two ranks share no ACT rule (tRRD and tFAW are per rank), so reads to
  // both are ready to activate at 1; the one command bus takes one at 1, one at 2.
  DramConfig c = base();
  c.ranks = 2;
  make(c);
  DramAddress r0;
  DramAddress r1;
  r1.rank = 1;
  dram_->submit(dram_->mapper().encode(r0), 64, false, 0);
  dram_->submit(dram_->mapper().encode(r1), 64, false, 0);
  run();
  std::vector<std::int64_t> acts;
  for (const DramCommandRecord& r : log_) {
    if (r.command == DramCommand::act) acts.push_back(r.cycle);
  }
  EXPECT_EQ(acts, (std::vector<std::int64_t>{1, 2}));
}

TEST_F(Scheduler, ClosedPagePolicyPrechargesAfterTheLastQueuedHit) {
  DramConfig c = base();
  c.controller.page_policy = DramPagePolicy::closed;
  make(c);
  read(at(0, 0, 5), 0);
  run();
  // Auto-precharge as soon as allowed: max(ACT 1 + tRAS, RD 23 + tRTP) = 53.
  ASSERT_EQ(log_.size(), 3u);
  EXPECT_EQ(log_[2].command, DramCommand::pre);
  EXPECT_EQ(log_[2].cycle, 53);
  // A later read of the same row is a miss, not a hit: ACT at max(101, 53 + tRP).
  read(at(0, 0, 5, 1), 100);
  EXPECT_EQ(run().begin()->second, 101 + 22 + 22 + 4);
  EXPECT_EQ(dram_->stats().row_hits, 0u);
}

TEST_F(Scheduler, BlockingAccessMatchesTheNonBlockingPath) {
  make(base());
  // Same first read as UnloadedReadOfAClosedBank...: done at 49.
  EXPECT_EQ(dram_->access(at(0, 0, 5), 64, false, 0), 49 * kTck);
  // A posted write completes as it enters: 100 + 1.
  EXPECT_EQ(dram_->access(at(1, 0, 5), 64, true, 100 * kTck), 101 * kTck);
}

}  // namespace
}  // namespace npusim
