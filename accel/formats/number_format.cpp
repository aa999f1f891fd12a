#include "accel/formats/number_format.h"

#include <array>

namespace npusim {
namespace {

struct FormatInfo {
  NumberFormat format;
  std::string_view name;
  int bits;
  bool integer;
  int min_value;
  int max_value;
};

constexpr std::array<FormatInfo, 6> kFormats{{
    {NumberFormat::fp32, "fp32", 32, false, 0, 0},
    {NumberFormat::fp16, "fp16", 16, false, 0, 0},
    {NumberFormat::bf16, "bf16", 16, false, 0, 0},
    {NumberFormat::int8, "int8", 8, true, -128, 127},
    {NumberFormat::int4, "int4", 4, true, -8, 7},
    {NumberFormat::binary, "binary", 1, true, -1, 1},
}};

const FormatInfo& info(NumberFormat format) { return kFormats[static_cast<std::size_t>(format)]; }

}  // namespace

std::optional<NumberFormat> parse_number_format(std::string_view name) {
  for (const auto& f : kFormats) {
    if (f.name == name) return f.format;
  }
  return std::nullopt;
}

std::optional<AccumulatorFormat> parse_accumulator_format(std::string_view name) {
  if (name == "int32") return AccumulatorFormat::int32;
  if (name == "fp32") return AccumulatorFormat::fp32;
  if (name == "fp16") return AccumulatorFormat::fp16;
  return std::nullopt;
}

std::string_view to_string(NumberFormat format) { return info(format).name; }

std::string_view to_string(AccumulatorFormat format) {
  switch (format) {
    case AccumulatorFormat::int32: return "int32";
    case AccumulatorFormat::fp32: return "fp32";
    case AccumulatorFormat::fp16: return "fp16";
  }
  return "?";
}

int storage_bits(NumberFormat format) { return info(format).bits; }
bool is_integer_class(NumberFormat format) { return info(format).integer; }
int min_integer_value(NumberFormat format) { return info(format).min_value; }
int max_integer_value(NumberFormat format) { return info(format).max_value; }

int max_integer_magnitude(NumberFormat format) { return -min_integer_value(format); }

std::string MacFormat::label() const {
  if (!integer()) {
    return std::string(to_string(weight)) + "/" + std::string(to_string(activation));
  }
  return "W" + std::to_string(storage_bits(weight)) + "A" + std::to_string(storage_bits(activation));
}

AccumulatorFormat default_accumulator(NumberFormat weight, NumberFormat) {
  return is_integer_class(weight) ? AccumulatorFormat::int32 : AccumulatorFormat::fp32;
}

std::optional<std::string> validate(const MacFormat& mac) {
  if (is_integer_class(mac.weight) != is_integer_class(mac.activation)) {
    return "weight format " + std::string(to_string(mac.weight)) + " and activation format " +
           std::string(to_string(mac.activation)) +
           " must both be integer (int8, int4, binary) or both floating point (fp32, fp16, bf16)";
  }
  if (mac.integer() && mac.accumulator != AccumulatorFormat::int32) {
    return "integer operands accumulate in int32, not " + std::string(to_string(mac.accumulator));
  }
  if (!mac.integer() && mac.accumulator == AccumulatorFormat::int32) {
    return "floating-point operands accumulate in fp32 (or fp16), not int32";
  }
  if (mac.accumulator == AccumulatorFormat::fp16 &&
      (mac.weight != NumberFormat::fp16 || mac.activation != NumberFormat::fp16)) {
    return "fp16 accumulation is only offered for fp16 weights and activations";
  }
  if (mac.lanes < 1 || mac.lanes > 1024) {
    return "lanes must be in [1, 1024], got " + std::to_string(mac.lanes);
  }
  return std::nullopt;
}

}  // namespace npusim
