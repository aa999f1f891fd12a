// Number formats the MAC array computes in, and the per-PE arithmetic contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace npusim {

// Operand formats. Integer-class formats (int8, int4, binary) hold their values
// as small signed integers (binary as -1/+1); float-class formats (fp32, fp16,
// bf16) hold float values already rounded to the format.
enum class NumberFormat { fp32, fp16, bf16, int8, int4, binary };

// What a PE accumulates into. int32 for integer-class operands; fp32 (default)
// or fp16 (an option for fp16 operands) for float-class operands.
enum class AccumulatorFormat { int32, fp32, fp16 };

std::optional<NumberFormat> parse_number_format(std::string_view name);
std::optional<AccumulatorFormat> parse_accumulator_format(std::string_view name);
std::string_view to_string(NumberFormat format);
std::string_view to_string(AccumulatorFormat format);

// Bits one element occupies in memory: 32, 16, 16, 8, 4, 1.
int storage_bits(NumberFormat format);
bool is_integer_class(NumberFormat format);
// Largest magnitude a value of an integer-class format can take (127, 8, 1).
int max_integer_magnitude(NumberFormat format);
// Range a quantized activation may take: int8 [-128,127], int4 [-8,7], binary [-1,1].
int min_integer_value(NumberFormat format);
int max_integer_value(NumberFormat format);

// The arithmetic of one PE: operand formats, accumulator and lanes (operand
// pairs consumed per cycle). Lanes shorten the reduction dimension the array
// sees: a GEMM with reduction K occupies ceil(K / lanes) reduction steps.
struct MacFormat {
  NumberFormat weight = NumberFormat::int8;
  NumberFormat activation = NumberFormat::int8;
  AccumulatorFormat accumulator = AccumulatorFormat::int32;
  int lanes = 1;

  bool integer() const { return is_integer_class(weight); }
  // "W8A8", "W4A8", "W1A1", "fp16/fp16" ...
  std::string label() const;
};

// Empty when the combination is valid, otherwise what is wrong with it
// (mixed integer/float operands, an accumulator that does not suit them, lanes < 1).
std::optional<std::string> validate(const MacFormat& mac);

// Default accumulator for a pair of operand formats.
AccumulatorFormat default_accumulator(NumberFormat weight, NumberFormat activation);

}  // namespace npusim
