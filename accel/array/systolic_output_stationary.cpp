// OS datapath of the pe fidelity (see accel/array/systolic_core.h): A streams in from
// the left, W from the top, every PE keeps its own output.
#include <algorithm>
#include <deque>
#include <stdexcept>
#include <vector>

#include "accel/array/fold_timing.h"
#include "accel/array/systolic_datapath.h"

namespace npusim {
namespace {

template <class D>
class OutputStationaryDatapath final : public SystolicDatapath {
  using Operand = typename D::Operand;
  using Sum = typename D::Sum;

 public:
  OutputStationaryDatapath(const ArrayConfig& array, const GemmOperands& op)
      : rows_(array.rows),
        cols_(array.cols),
        lanes_(array.mac.lanes),
        overlapped_(array.timing == TimingConvention::overlapped),
        m_(op.shape.m),
        n_(op.shape.n),
        k_(op.shape.k) {
    const ArrayMapping map = map_gemm(op.shape, array);
    stream_length_ = map.temporal;
    const auto a = D::a(op);
    const auto w = D::w(op);
    a_.assign(a.begin(), a.end());
    w_t_.resize(static_cast<std::size_t>(k_ * n_));
    for (std::int64_t k = 0; k < k_; ++k) {
      for (std::int64_t n = 0; n < n_; ++n) w_t_[n * k_ + k] = w[k * n_ + n];
    }
    for (std::int64_t cf = 0; cf < map.col_folds; ++cf) {
      for (std::int64_t rf = 0; rf < map.row_folds; ++rf) {
        folds_.push_back(Fold{rf * rows_, cf * cols_, -1});
      }
    }
    const std::size_t pes = static_cast<std::size_t>(rows_) * cols_;
    a_kg_.assign(pes, -1);
    a_fold_.assign(pes, -1);
    w_kg_.assign(pes, -1);
    w_fold_.assign(pes, -1);
    acc_.assign(pes, Sum{});
    acc_overflow_.assign(pes, 0);
    out_valid_.assign(pes, 0);
    out_fold_.assign(pes, -1);
    out_sum_.assign(pes, Sum{});
    out_overflow_.assign(pes, 0);
    port_queue_.resize(cols_);
    feed_row_fold_.assign(rows_, 0);
    feed_col_fold_.assign(cols_, 0);
    result_.assign(static_cast<std::size_t>(m_ * n_), Sum{});
    result_overflow_.assign(result_.size(), 0);
    results_expected_ = static_cast<std::int64_t>(folds_.size()) * rows_ * cols_;
  }

  bool done() const override { return results_taken_ == results_expected_; }

  void step() override {
    start_stream_if_ready();
    if (overlapped_) read_output_ports();
    for (int i = rows_ - 1; i >= 0; --i) {
      for (int j = cols_ - 1; j >= 0; --j) step_pe(i, j);
    }
    ++cycle_;
  }

  GemmRun result() override {
    GemmRun run;
    D::store(run.output, result_.size());
    for (std::size_t idx = 0; idx < result_.size(); ++idx) {
      D::write(run.output, idx, result_[idx], result_overflow_[idx] != 0);
    }
    run.cycles = last_result_cycle_ + 1;
    return run;
  }

 private:
  struct Fold {
    std::int64_t first_row;  // m of array row 0
    std::int64_t first_col;  // n of array column 0
    std::int64_t stream_start;
    bool drained = false;  // last operands have left the array
  };

  struct Token {
    std::int64_t kg = -1;  // lane group; -1 = no token
    int fold = -1;
  };

  // 1. overlapped: the next fold streams right behind the current one, but no
  //    sooner than R cycles after it, because each column's single output port
  //    reads one result per cycle and a fold leaves R results per column (the
  //    output-register overrun check in step_pe enforces this).
  //    scalesim: the next fold starts once the current one has drained.
  void start_stream_if_ready() {
    if (next_stream_ >= static_cast<int>(folds_.size())) return;
    if (next_stream_ > 0) {
      const Fold& previous = folds_[next_stream_ - 1];
      if (overlapped_) {
        if (cycle_ < previous.stream_start + std::max<std::int64_t>(stream_length_, rows_)) return;
      } else if (!previous.drained) {
        return;
      }
    }
    folds_[next_stream_].stream_start = cycle_;
    ++next_stream_;
  }

  Token feeder(std::vector<int>& pointer, int edge_index) {
    int& f = pointer[edge_index];
    while (f < next_stream_ && cycle_ - edge_index >= folds_[f].stream_start + stream_length_) ++f;
    if (f >= next_stream_ || cycle_ - edge_index < folds_[f].stream_start) return {};
    return Token{cycle_ - edge_index - folds_[f].stream_start, f};
  }

  // 2. Each column's port reads the oldest finished output register, one per
  //    cycle; registers written this cycle become readable next cycle.
  void read_output_ports() {
    for (int j = 0; j < cols_; ++j) {
      auto& queue = port_queue_[j];
      if (queue.empty() || queue.front().written_cycle >= cycle_) continue;
      const std::size_t p = static_cast<std::size_t>(queue.front().row) * cols_ + j;
      queue.pop_front();
      take_result(p);
      out_valid_[p] = 0;
    }
  }

  void take_result(std::size_t p) {
    const Fold& fold = folds_[out_fold_[p]];
    const std::int64_t m = fold.first_row + static_cast<std::int64_t>(p) / cols_;
    const std::int64_t n = fold.first_col + static_cast<std::int64_t>(p) % cols_;
    if (m < m_ && n < n_) {
      const std::size_t idx = static_cast<std::size_t>(m * n_ + n);
      bool overflow = out_overflow_[p] != 0;
      result_[idx] = D::add(Sum{}, out_sum_[p], overflow);
      result_overflow_[idx] = overflow ? 1 : 0;
    }
    ++results_taken_;
    last_result_cycle_ = cycle_;
  }

  void step_pe(int i, int j) {
    const std::size_t p = static_cast<std::size_t>(i) * cols_ + j;
    const Token a_in = j == 0 ? feeder(feed_row_fold_, i) : Token{a_kg_[p - 1], a_fold_[p - 1]};
    const Token w_in = i == 0 ? feeder(feed_col_fold_, j) : Token{w_kg_[p - cols_], w_fold_[p - cols_]};
    a_kg_[p] = a_in.kg;
    a_fold_[p] = a_in.fold;
    w_kg_[p] = w_in.kg;
    w_fold_[p] = w_in.fold;
    if (a_in.kg < 0 && w_in.kg < 0) return;
    if (a_in.kg != w_in.kg || a_in.fold != w_in.fold) {
      throw std::logic_error("pe model: operands out of step");
    }
    Fold& fold = folds_[a_in.fold];
    bool overflow = a_in.kg == 0 ? false : acc_overflow_[p] != 0;
    Sum sum = a_in.kg == 0 ? Sum{} : acc_[p];
    const std::int64_t m = fold.first_row + i;
    const std::int64_t n = fold.first_col + j;
    if (m < m_ && n < n_) {
      const int lanes = static_cast<int>(std::min<std::int64_t>(lanes_, k_ - a_in.kg * lanes_));
      const Operand* a = &a_[m * k_ + a_in.kg * lanes_];
      const Operand* w = &w_t_[n * k_ + a_in.kg * lanes_];
      for (int l = 0; l < lanes; ++l) sum = D::mac(sum, a[l], w[l], overflow);
    }
    acc_[p] = sum;
    acc_overflow_[p] = overflow ? 1 : 0;
    if (a_in.kg != stream_length_ - 1) return;

    // The reduction is complete: hand the result over.
    if (out_valid_[p]) throw std::logic_error("pe model: output register overrun");
    out_valid_[p] = 1;
    out_fold_[p] = a_in.fold;
    out_sum_[p] = sum;
    out_overflow_[p] = overflow ? 1 : 0;
    if (overlapped_) {
      port_queue_[j].push_back(PortEntry{i, cycle_});
    } else {
      // SCALE-Sim does not time the read-out: results count as taken at once.
      take_result(p);
      out_valid_[p] = 0;
    }
    if (i == rows_ - 1 && j == cols_ - 1) fold.drained = true;
  }

  struct PortEntry {
    int row;
    std::int64_t written_cycle;
  };

  const int rows_, cols_, lanes_;
  const bool overlapped_;
  const std::int64_t m_, n_, k_;
  std::int64_t stream_length_ = 0;
  std::vector<Operand> a_, w_t_;  // A as [M][K], W as [N][K]
  std::vector<Fold> folds_;

  // PE registers, index i * C + j.
  std::vector<std::int64_t> a_kg_, w_kg_;
  std::vector<int> a_fold_, w_fold_;
  std::vector<Sum> acc_;
  std::vector<std::uint8_t> acc_overflow_;
  std::vector<std::uint8_t> out_valid_, out_overflow_;
  std::vector<int> out_fold_;
  std::vector<Sum> out_sum_;

  std::vector<std::deque<PortEntry>> port_queue_;
  std::vector<int> feed_row_fold_, feed_col_fold_;
  int next_stream_ = 0;

  std::vector<Sum> result_;
  std::vector<std::uint8_t> result_overflow_;
  std::int64_t results_expected_ = 0, results_taken_ = 0;
  std::int64_t cycle_ = 0;
  std::int64_t last_result_cycle_ = -1;
};

}  // namespace

std::unique_ptr<SystolicDatapath> make_output_stationary_datapath(const ArrayConfig& array,
                                                                  const GemmOperands& operands) {
  if (array.mac.integer()) {
    return std::make_unique<OutputStationaryDatapath<IntegerDomain>>(array, operands);
  }
  if (array.mac.accumulator == AccumulatorFormat::fp16) {
    return std::make_unique<OutputStationaryDatapath<FloatDomain<AccumulatorFormat::fp16>>>(array, operands);
  }
  return std::make_unique<OutputStationaryDatapath<FloatDomain<AccumulatorFormat::fp32>>>(array, operands);
}

}  // namespace npusim
