// WS and IS datapath of the pe fidelity (see accel/array/systolic_core.h).
// Both are one structure: a stationary matrix X (lane groups x Sc) held in the
// PEs, a streaming matrix Y (T x lane groups) entering from the left, partial
// sums flowing down. WS: X = W, Y = A. IS: X = A^T, Y = W^T.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "accel/array/fold_timing.h"
#include "accel/array/systolic_datapath.h"

namespace npusim {
namespace {

template <class D>
class StationaryDatapath final : public SystolicDatapath {
  using Operand = typename D::Operand;
  using Sum = typename D::Sum;

 public:
  StationaryDatapath(const ArrayConfig& array, const GemmOperands& op)
      : rows_(array.rows),
        cols_(array.cols),
        lanes_(array.mac.lanes),
        overlapped_(array.timing == TimingConvention::overlapped),
        weight_stationary_(array.dataflow == Dataflow::ws),
        k_(op.shape.k),
        n_(op.shape.n) {
    const ArrayMapping map = map_gemm(op.shape, array);
    lane_groups_ = map.spatial_rows;
    spatial_cols_ = map.spatial_cols;
    stream_length_ = map.temporal;
    normalize_operands(op);
    for (std::int64_t cf = 0; cf < map.col_folds; ++cf) {
      for (std::int64_t rf = 0; rf < map.row_folds; ++rf) {
        folds_.push_back(Fold{rf * rows_, cf * cols_, -1, stream_length_ * cols_});
      }
    }
    const std::size_t pes = static_cast<std::size_t>(rows_) * cols_;
    active_.assign(pes * lanes_, Operand{});
    active_lanes_.assign(pes, 0);
    shadow_fold_.assign(pes, -1);
    shadow_row_.assign(pes, -1);
    stream_t_.assign(pes, -1);
    stream_fold_.assign(pes, -1);
    psum_.assign(pes, Sum{});
    psum_overflow_.assign(pes, 0);
    psum_present_.assign(pes, 0);
    row0_active_fold_.assign(cols_, -1);
    loader_fold_.assign(cols_, -1);
    loader_pushes_.assign(cols_, 0);
    next_load_fold_.assign(cols_, 0);
    loaded_fold_.assign(cols_, -1);
    shift_now_.assign(cols_, 0);
    feed_fold_.assign(rows_, 0);
    acc_.assign(static_cast<std::size_t>(op.shape.m * op.shape.n), Sum{});
    acc_overflow_.assign(acc_.size(), 0);
  }

  bool done() const override { return folds_done_ == static_cast<std::int64_t>(folds_.size()); }

  void step() override {
    start_stream_if_ready();
    decide_loader_shifts();
    for (int i = rows_ - 1; i >= 0; --i) {
      for (int j = cols_ - 1; j >= 0; --j) step_pe(i, j);
    }
    advance_loaders();
    ++cycle_;
  }

  GemmRun result() override {
    GemmRun run;
    D::store(run.output, acc_.size());
    for (std::size_t idx = 0; idx < acc_.size(); ++idx) {
      D::write(run.output, idx, acc_[idx], acc_overflow_[idx] != 0);
    }
    run.cycles = last_output_cycle_ + 1;
    return run;
  }

 private:
  struct Fold {
    std::int64_t first_lane_group;  // r0: array row 0 holds this lane group
    std::int64_t first_col;         // c0: array column 0 holds this column of X
    std::int64_t stream_start;      // cycle its token t=0 enters row 0; -1 = not yet
    std::int64_t pending_outputs;   // partial sums still to leave the bottom
  };

  struct Token {
    std::int64_t t = -1;  // stream index; -1 = no token
    int fold = -1;
  };

  // X as [Sc][K] and Y as [T][K], so a PE's lanes are contiguous.
  void normalize_operands(const GemmOperands& op) {
    const auto a = D::a(op);
    const auto w = D::w(op);
    std::vector<Operand> w_t(static_cast<std::size_t>(k_ * n_));
    for (std::int64_t k = 0; k < k_; ++k) {
      for (std::int64_t n = 0; n < n_; ++n) w_t[n * k_ + k] = w[k * n_ + n];
    }
    std::vector<Operand> a_copy(a.begin(), a.end());
    if (weight_stationary_) {
      stationary_ = std::move(w_t);
      streaming_ = std::move(a_copy);
    } else {
      stationary_ = std::move(a_copy);
      streaming_ = std::move(w_t);
    }
  }

  int lanes_in_group(std::int64_t lane_group) const {
    return static_cast<int>(std::min<std::int64_t>(lanes_, k_ - lane_group * lanes_));
  }

  std::size_t output_index(std::int64_t t, std::int64_t col) const {
    return static_cast<std::size_t>(weight_stationary_ ? t * n_ + col : col * n_ + t);
  }

  // 1. A fold's stream starts once row 0 has finished feeding the previous one
  //    and column 0 holds the fold's stationary operands.
  void start_stream_if_ready() {
    if (next_stream_ >= static_cast<int>(folds_.size())) return;
    if (loaded_fold_[0] < next_stream_) return;
    if (next_stream_ > 0 && cycle_ < folds_[next_stream_ - 1].stream_start + stream_length_) return;
    folds_[next_stream_].stream_start = cycle_;
    ++next_stream_;
  }

  Token feeder_token(int row) {
    int& f = feed_fold_[row];
    while (f < next_stream_ && cycle_ - row >= folds_[f].stream_start + stream_length_) ++f;
    if (f >= next_stream_ || cycle_ - row < folds_[f].stream_start) return {};
    return Token{cycle_ - row - folds_[f].stream_start, f};
  }

  Token incoming_token(int i, int j) {
    if (j == 0) return feeder_token(i);
    const std::size_t left = static_cast<std::size_t>(i) * cols_ + j - 1;
    return Token{stream_t_[left], stream_fold_[left]};
  }

  // 2. A column's loader shifts the next fold into the shadow chain once the
  //    chain may be overwritten: overlapped, from the cycle the current fold's
  //    first token swaps PE(0, j); scalesim, once the previous fold has drained.
  void decide_loader_shifts() {
    for (int j = 0; j < cols_; ++j) {
      shift_now_[j] = 0;
      if (loader_fold_[j] < 0) {
        const int g = next_load_fold_[j];
        if (g >= static_cast<int>(folds_.size())) continue;
        bool may_start = g == 0;
        if (!may_start && overlapped_) {
          const Token in = incoming_token(0, j);
          may_start = (in.fold == g - 1 && in.t == 0) || row0_active_fold_[j] >= g - 1;
        } else if (!may_start) {
          may_start = folds_[g - 1].pending_outputs == 0;
        }
        if (!may_start) continue;
        loader_fold_[j] = g;
        loader_pushes_[j] = 0;
      }
      shift_now_[j] = 1;
    }
  }

  void advance_loaders() {
    for (int j = 0; j < cols_; ++j) {
      if (!shift_now_[j]) continue;
      if (++loader_pushes_[j] == rows_) {
        loaded_fold_[j] = loader_fold_[j];
        loader_fold_[j] = -1;
        ++next_load_fold_[j];
      }
    }
  }

  void step_pe(int i, int j) {
    const std::size_t p = static_cast<std::size_t>(i) * cols_ + j;
    const Token in = incoming_token(i, j);
    const int shadow_fold = shadow_fold_[p];
    const int shadow_row = shadow_row_[p];
    // The loader's wavefront: only rows the new data has reached shift, so the
    // rows below keep their shadow values until their own swap.
    if (shift_now_[j] && i <= loader_pushes_[j]) {
      if (i == 0) {
        shadow_fold_[p] = loader_fold_[j];
        shadow_row_[p] = rows_ - 1 - loader_pushes_[j];
      } else {
        shadow_fold_[p] = shadow_fold_[p - cols_];
        shadow_row_[p] = shadow_row_[p - cols_];
      }
    }
    stream_t_[p] = in.t;
    stream_fold_[p] = in.fold;
    if (in.t < 0) {
      psum_present_[p] = 0;
      return;
    }
    const Fold& fold = folds_[in.fold];
    if (in.t == 0) swap_in(p, i, j, in.fold, shadow_fold, shadow_row);

    Sum sum{};
    bool overflow = false;
    if (i > 0) {
      if (!psum_present_[p - cols_]) throw std::logic_error("pe model: partial sum missing");
      sum = psum_[p - cols_];
      overflow = psum_overflow_[p - cols_] != 0;
    }
    const int lanes = active_lanes_[p];
    if (lanes > 0) {
      const Operand* x = &active_[p * lanes_];
      const Operand* y = &streaming_[in.t * k_ + (fold.first_lane_group + i) * lanes_];
      for (int l = 0; l < lanes; ++l) sum = D::mac(sum, y[l], x[l], overflow);
    }
    psum_[p] = sum;
    psum_overflow_[p] = overflow ? 1 : 0;
    psum_present_[p] = 1;
    if (i == rows_ - 1) collect(j, in, sum, overflow);
  }

  void swap_in(std::size_t p, int i, int j, int fold_index, int shadow_fold, int shadow_row) {
    if (shadow_fold != fold_index || shadow_row != i) {
      throw std::logic_error("pe model: stationary operands not loaded before their fold");
    }
    const Fold& fold = folds_[fold_index];
    const std::int64_t lane_group = fold.first_lane_group + i;
    const std::int64_t col = fold.first_col + j;
    int lanes = 0;
    if (lane_group < lane_groups_ && col < spatial_cols_) {
      lanes = lanes_in_group(lane_group);
      const Operand* src = &stationary_[col * k_ + lane_group * lanes_];
      std::copy(src, src + lanes, active_.begin() + static_cast<std::ptrdiff_t>(p * lanes_));
    }
    active_lanes_[p] = lanes;
    if (i == 0) row0_active_fold_[j] = fold_index;
  }

  // The output accumulator adds each column's partial sum, fold after fold in
  // increasing reduction order.
  void collect(int j, const Token& in, Sum sum, bool overflow) {
    Fold& fold = folds_[in.fold];
    const std::int64_t col = fold.first_col + j;
    if (col < spatial_cols_) {
      const std::size_t idx = output_index(in.t, col);
      bool acc_overflow = acc_overflow_[idx] != 0 || overflow;
      acc_[idx] = D::add(acc_[idx], sum, acc_overflow);
      acc_overflow_[idx] = acc_overflow ? 1 : 0;
    }
    last_output_cycle_ = cycle_;
    if (--fold.pending_outputs == 0) ++folds_done_;
  }

  const int rows_, cols_, lanes_;
  const bool overlapped_, weight_stationary_;
  const std::int64_t k_, n_;
  std::int64_t lane_groups_ = 0, spatial_cols_ = 0, stream_length_ = 0;
  std::vector<Operand> stationary_, streaming_;
  std::vector<Fold> folds_;

  // PE registers, index i * C + j.
  std::vector<Operand> active_;  // lanes per PE
  std::vector<int> active_lanes_;
  std::vector<int> shadow_fold_, shadow_row_;  // which operand the shadow register holds
  std::vector<std::int64_t> stream_t_;
  std::vector<int> stream_fold_;
  std::vector<Sum> psum_;
  std::vector<std::uint8_t> psum_overflow_, psum_present_;
  std::vector<int> row0_active_fold_;  // the fold whose operands row 0 holds, per column

  // Per-column loaders and per-row feeders.
  std::vector<int> loader_fold_, loader_pushes_, next_load_fold_, loaded_fold_;
  std::vector<std::uint8_t> shift_now_;
  std::vector<int> feed_fold_;
  int next_stream_ = 0;

  std::vector<Sum> acc_;
  std::vector<std::uint8_t> acc_overflow_;
  std::int64_t cycle_ = 0;
  std::int64_t last_output_cycle_ = -1;
  std::int64_t folds_done_ = 0;
};

}  // namespace

std::unique_ptr<SystolicDatapath> make_stationary_datapath(const ArrayConfig& array, const GemmOperands& operands) {
  if (array.mac.integer()) {
    return std::make_unique<StationaryDatapath<IntegerDomain>>(array, operands);
  }
  if (array.mac.accumulator == AccumulatorFormat::fp16) {
    return std::make_unique<StationaryDatapath<FloatDomain<AccumulatorFormat::fp16>>>(array, operands);
  }
  return std::make_unique<StationaryDatapath<FloatDomain<AccumulatorFormat::fp32>>>(array, operands);
}

}  // namespace npusim
