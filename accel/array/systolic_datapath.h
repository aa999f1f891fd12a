// Internal to the pe fidelity: the datapath interface behind SystolicCore and
// the arithmetic domains it is instantiated for.
#pragma once

#include <cstdint>
#include <memory>

#include "accel/array/array_config.h"
#include "accel/array/gemm.h"
#include "accel/array/gemm_engine.h"
#include "accel/array/mac_arithmetic.h"

namespace npusim {

class SystolicDatapath {
 public:
  virtual ~SystolicDatapath() = default;
  virtual bool done() const = 0;
  // Advances every register by one cycle. Only while !done().
  virtual void step() = 0;
  // Values, and cycles counted from the first cycle to the last result out
  // (inclusive). Only once done().
  virtual GemmRun result() = 0;
};

std::unique_ptr<SystolicDatapath> make_stationary_datapath(const ArrayConfig& array, const GemmOperands& operands);
std::unique_ptr<SystolicDatapath> make_output_stationary_datapath(const ArrayConfig& array,
                                                                  const GemmOperands& operands);

// Integer operands: exact int64 sums with the int32 range checked at every step.
struct IntegerDomain {
  using Operand = std::int8_t;
  using Sum = std::int64_t;
  static Sum mac(Sum s, Operand a, Operand w, bool& overflow) {
    s += std::int64_t{a} * w;
    overflow |= outside_int32(s);
    return s;
  }
  static Sum add(Sum acc, Sum s, bool& overflow) {
    acc += s;
    overflow |= outside_int32(acc);
    return acc;
  }
  static std::span<const Operand> a(const GemmOperands& op) { return op.a_int; }
  static std::span<const Operand> w(const GemmOperands& op) { return op.w_int; }
  static void store(GemmOutput& out, std::size_t count) { out.acc_int.assign(count, 0); }
  static void write(GemmOutput& out, std::size_t index, Sum value, bool overflow) {
    out.acc_int[index] = wrap_to_int32(value);
    out.overflow_outputs += overflow ? 1 : 0;
  }
};

// Float operands: fp32 products, additions rounded to the accumulator format.
template <AccumulatorFormat kAcc>
struct FloatDomain {
  using Operand = float;
  using Sum = float;
  static Sum mac(Sum s, Operand a, Operand w, bool&) { return accumulate_float(s, a * w, kAcc); }
  static Sum add(Sum acc, Sum s, bool&) { return accumulate_float(acc, s, kAcc); }
  static std::span<const Operand> a(const GemmOperands& op) { return op.a_float; }
  static std::span<const Operand> w(const GemmOperands& op) { return op.w_float; }
  static void store(GemmOutput& out, std::size_t count) { out.acc_float.assign(count, 0.0f); }
  static void write(GemmOutput& out, std::size_t index, Sum value, bool) { out.acc_float[index] = value; }
};

}  // namespace npusim
