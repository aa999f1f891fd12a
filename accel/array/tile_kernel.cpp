#include "accel/array/tile_kernel.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "accel/array/mac_arithmetic.h"
#include "accel/formats/packing.h"

namespace npusim {
namespace {

int max_magnitude(std::span<const std::int8_t> values) {
  int m = 0;
  for (const std::int8_t v : values) m = std::max(m, v < 0 ? -int{v} : int{v});
  return m;
}

// Every partial sum of K products bounded by |a|max * |w|max stays inside int32,
// so the plain int32 kernel cannot overflow and needs no per-step checks.
bool overflow_impossible(const GemmOperands& op) {
  const std::int64_t bound = std::int64_t{max_magnitude(op.a_int)} * max_magnitude(op.w_int);
  return bound == 0 || op.shape.k <= kInt32Max / bound;
}

// Rows of A are processed in blocks so each weight row loaded from memory
// feeds several output rows.
constexpr std::int64_t kRowBlock = 4;

void integer_gemm_fast(const GemmOperands& op, GemmOutput& out) {
  const std::int64_t m_total = op.shape.m, n_total = op.shape.n, k_total = op.shape.k;
  std::vector<std::int16_t> w16(op.w_int.begin(), op.w_int.end());
  std::vector<std::int32_t> acc(static_cast<std::size_t>(kRowBlock * n_total));
  for (std::int64_t m0 = 0; m0 < m_total; m0 += kRowBlock) {
    const std::int64_t rows = std::min(kRowBlock, m_total - m0);
    std::fill(acc.begin(), acc.end(), 0);
    for (std::int64_t k = 0; k < k_total; ++k) {
      const std::int16_t* w_row = w16.data() + k * n_total;
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int32_t a = op.a_int[(m0 + r) * k_total + k];
        if (a == 0) continue;
        std::int32_t* acc_row = acc.data() + r * n_total;
        for (std::int64_t n = 0; n < n_total; ++n) acc_row[n] += a * w_row[n];
      }
    }
    std::copy(acc.begin(), acc.begin() + rows * n_total, out.acc_int.begin() + m0 * n_total);
  }
}

// The documented order with a range check at every step (only taken when the
// operands could overflow int32).
void integer_gemm_checked(const GemmOperands& op, std::int64_t chunk, GemmOutput& out) {
  const std::int64_t n_total = op.shape.n, k_total = op.shape.k;
  for (std::int64_t m = 0; m < op.shape.m; ++m) {
    for (std::int64_t n = 0; n < n_total; ++n) {
      std::int64_t acc = 0;
      bool overflow = false;
      for (std::int64_t k0 = 0; k0 < k_total; k0 += chunk) {
        std::int64_t s = 0;
        const std::int64_t k_end = std::min(k_total, k0 + chunk);
        for (std::int64_t k = k0; k < k_end; ++k) {
          s += std::int64_t{op.a_int[m * k_total + k]} * op.w_int[k * n_total + n];
          overflow |= outside_int32(s);
        }
        acc += s;
        overflow |= outside_int32(acc);
      }
      out.acc_int[m * n_total + n] = wrap_to_int32(acc);
      out.overflow_outputs += overflow ? 1 : 0;
    }
  }
}

// Vectorizes across n: each output keeps its own sequential order over k.
template <AccumulatorFormat kAcc>
void float_gemm(const GemmOperands& op, std::int64_t chunk, GemmOutput& out) {
  const std::int64_t n_total = op.shape.n, k_total = op.shape.k;
  std::vector<float> s(static_cast<std::size_t>(n_total));
  for (std::int64_t m = 0; m < op.shape.m; ++m) {
    float* acc = out.acc_float.data() + m * n_total;
    std::fill(acc, acc + n_total, 0.0f);
    for (std::int64_t k0 = 0; k0 < k_total; k0 += chunk) {
      std::fill(s.begin(), s.end(), 0.0f);
      const std::int64_t k_end = std::min(k_total, k0 + chunk);
      for (std::int64_t k = k0; k < k_end; ++k) {
        const float a = op.a_float[m * k_total + k];
        const float* w_row = op.w_float.data() + k * n_total;
        if constexpr (kAcc == AccumulatorFormat::fp32) {
          for (std::int64_t n = 0; n < n_total; ++n) s[n] = s[n] + a * w_row[n];
        } else {
          for (std::int64_t n = 0; n < n_total; ++n) s[n] = accumulate_float(s[n], a * w_row[n], kAcc);
        }
      }
      for (std::int64_t n = 0; n < n_total; ++n) acc[n] = accumulate_float(acc[n], s[n], kAcc);
    }
  }
}

// Binary operands as an XNOR-popcount array computes them (accel/formats/
// packing.h): W's columns and A's rows packed one bit per element, each
// output n - 2 * popcount(a XOR w) over the positions im2col did not pad
// (A's zeros: the padding mask). Exact, so equal to the plain integer sum the
// pe fidelity accumulates; |sum| <= K cannot overflow. False, with nothing
// written, when an operand holds another value (then the integer kernel runs).
bool binary_gemm(const GemmOperands& op, GemmOutput& out) {
  const std::int64_t m_total = op.shape.m, n_total = op.shape.n, k_total = op.shape.k;
  const auto k_size = static_cast<std::size_t>(k_total);
  std::vector<std::vector<std::uint64_t>> w_columns;
  std::vector<std::int8_t> column(k_size), signs(k_size), padding(k_size);
  for (std::int64_t n = 0; n < n_total; ++n) {
    for (std::int64_t k = 0; k < k_total; ++k) {
      const std::int8_t w = op.w_int[k * n_total + n];
      if (w != 1 && w != -1) return false;
      column[static_cast<std::size_t>(k)] = w;
    }
    w_columns.push_back(pack_binary(column));
  }
  std::vector<std::vector<std::uint64_t>> a_rows, a_skips;
  std::vector<bool> padded(static_cast<std::size_t>(m_total), false);
  for (std::int64_t m = 0; m < m_total; ++m) {
    for (std::int64_t k = 0; k < k_total; ++k) {
      const std::int8_t a = op.a_int[m * k_total + k];
      if (a != 1 && a != -1 && a != 0) return false;
      signs[static_cast<std::size_t>(k)] = a == 0 ? std::int8_t{1} : a;
      padding[static_cast<std::size_t>(k)] = a == 0 ? std::int8_t{-1} : std::int8_t{1};  // set bit: skip
      padded[static_cast<std::size_t>(m)] = padded[static_cast<std::size_t>(m)] || a == 0;
    }
    a_rows.push_back(pack_binary(signs));
    a_skips.push_back(pack_binary(padding));
  }
  for (std::int64_t m = 0; m < m_total; ++m) {
    const auto& a = a_rows[static_cast<std::size_t>(m)];
    const auto& skip = a_skips[static_cast<std::size_t>(m)];
    const bool masked = padded[static_cast<std::size_t>(m)];
    for (std::int64_t n = 0; n < n_total; ++n) {
      const auto& w = w_columns[static_cast<std::size_t>(n)];
      out.acc_int[m * n_total + n] = masked ? binary_dot_masked(a, w, skip, k_size) : binary_dot(a, w, k_size);
    }
  }
  return true;
}

}  // namespace

GemmOutput compute_gemm_values(const GemmOperands& op, const MacFormat& mac, std::int64_t reduction_chunk) {
  const auto outputs = static_cast<std::size_t>(op.shape.m * op.shape.n);
  const auto a_size = static_cast<std::size_t>(op.shape.m * op.shape.k);
  const auto w_size = static_cast<std::size_t>(op.shape.k * op.shape.n);
  const std::int64_t chunk = std::max<std::int64_t>(1, reduction_chunk);
  GemmOutput out;
  if (mac.integer()) {
    if (op.a_int.size() != a_size || op.w_int.size() != w_size) {
      throw std::invalid_argument("integer GEMM operands do not match the shape");
    }
    out.acc_int.assign(outputs, 0);
    const bool binary = mac.weight == NumberFormat::binary && mac.activation == NumberFormat::binary;
    if (binary && binary_gemm(op, out)) {
      // The XNOR-popcount datapath: exact, no overflow possible.
    } else if (overflow_impossible(op)) {
      integer_gemm_fast(op, out);
    } else {
      integer_gemm_checked(op, chunk, out);
    }
  } else {
    if (op.a_float.size() != a_size || op.w_float.size() != w_size) {
      throw std::invalid_argument("float GEMM operands do not match the shape");
    }
    out.acc_float.assign(outputs, 0.0f);
    if (mac.accumulator == AccumulatorFormat::fp16) {
      float_gemm<AccumulatorFormat::fp16>(op, chunk, out);
    } else {
      float_gemm<AccumulatorFormat::fp32>(op, chunk, out);
    }
  }
  return out;
}

}  // namespace npusim
