#include "accel/formats/packing.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace npusim {
namespace {

constexpr std::size_t kWordBits = 64;

std::size_t words_for(std::size_t count) { return (count + kWordBits - 1) / kWordBits; }

}  // namespace

std::vector<std::uint64_t> pack_binary(std::span<const std::int8_t> values) {
  std::vector<std::uint64_t> words(words_for(values.size()), 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int v = values[i];
    if (v != 1 && v != -1) {
      throw std::invalid_argument("pack_binary: element " + std::to_string(i) + " is " + std::to_string(v) +
                                  ", expected -1 or +1");
    }
    if (v == -1) words[i / kWordBits] |= std::uint64_t{1} << (i % kWordBits);
  }
  return words;
}

std::vector<std::int8_t> unpack_binary(std::span<const std::uint64_t> words, std::size_t count) {
  if (words.size() < words_for(count)) {
    throw std::invalid_argument("unpack_binary: " + std::to_string(count) + " elements need " +
                                std::to_string(words_for(count)) + " words, got " + std::to_string(words.size()));
  }
  std::vector<std::int8_t> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    const bool set = (words[i / kWordBits] >> (i % kWordBits)) & 1u;
    values[i] = set ? std::int8_t{-1} : std::int8_t{1};
  }
  return values;
}

std::int32_t binary_dot(std::span<const std::uint64_t> a, std::span<const std::uint64_t> w, std::size_t n) {
  const std::size_t words = words_for(n);
  if (a.size() < words || w.size() < words) {
    throw std::invalid_argument("binary_dot: " + std::to_string(n) + " elements need " + std::to_string(words) +
                                " words per operand, got " + std::to_string(a.size()) + " and " +
                                std::to_string(w.size()));
  }
  const std::size_t full_words = n / kWordBits;
  std::size_t differing = 0;
  for (std::size_t i = 0; i < full_words; ++i) {
    differing += static_cast<std::size_t>(std::popcount(a[i] ^ w[i]));
  }
  // The tail word may carry bits past n (padding or another vector's data).
  if (const std::size_t tail_bits = n % kWordBits; tail_bits != 0) {
    const std::uint64_t mask = (std::uint64_t{1} << tail_bits) - 1;
    differing += static_cast<std::size_t>(std::popcount((a[full_words] ^ w[full_words]) & mask));
  }
  return static_cast<std::int32_t>(static_cast<std::int64_t>(n) - 2 * static_cast<std::int64_t>(differing));
}

std::int32_t binary_dot_masked(std::span<const std::uint64_t> a, std::span<const std::uint64_t> w,
                               std::span<const std::uint64_t> skip, std::size_t n) {
  const std::size_t words = words_for(n);
  if (a.size() < words || w.size() < words || skip.size() < words) {
    throw std::invalid_argument("binary_dot_masked: " + std::to_string(n) + " elements need " + std::to_string(words) +
                                " words per operand and mask");
  }
  std::int64_t counted = 0, differing = 0;
  for (std::size_t i = 0; i < words; ++i) {
    const std::size_t bits = std::min(kWordBits, n - i * kWordBits);
    const std::uint64_t range = bits == kWordBits ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    const std::uint64_t live = range & ~skip[i];
    counted += std::popcount(live);
    differing += std::popcount((a[i] ^ w[i]) & live);
  }
  return static_cast<std::int32_t>(counted - 2 * differing);
}

std::int64_t packed_bytes_of(std::int64_t count, int bits) {
  if (count < 0) throw std::invalid_argument("packed_bytes_of: negative count " + std::to_string(count));
  return static_cast<std::int64_t>(packed_bytes(static_cast<std::size_t>(count), bits));
}

std::size_t packed_bytes(std::size_t count, int bits) {
  if (bits <= 0) {
    throw std::invalid_argument("packed_bytes: bits per element must be positive, got " + std::to_string(bits));
  }
  const auto b = static_cast<std::size_t>(bits);
  // Whole groups of 8 elements fill exactly `bits` bytes; splitting them off
  // keeps count * bits from overflowing for huge counts.
  return (count / 8) * b + ((count % 8) * b + 7) / 8;
}

}  // namespace npusim
