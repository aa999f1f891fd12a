#include "accel/formats/packing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace npusim {
namespace {

using Values = std::vector<std::int8_t>;
using Words = std::vector<std::uint64_t>;

// The masked dot against the sum it stands for: positions whose skip bit is
// set add nothing, the others +1 when the bits agree and -1 when they differ.
TEST(BinaryDot, MaskedSkipsThePaddedPositionsAcrossWords) {
  std::mt19937 rng(3);
  for (const std::size_t n : {1u, 63u, 64u, 65u, 130u}) {
    Values a(n), w(n), skip(n);
    int expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = rng() % 2 ? 1 : -1;
      w[i] = rng() % 2 ? 1 : -1;
      skip[i] = rng() % 4 == 0 ? -1 : 1;  // -1: bit set, skipped
      if (skip[i] == 1) expected += a[i] * w[i];
    }
    EXPECT_EQ(binary_dot_masked(pack_binary(a), pack_binary(w), pack_binary(skip), n), expected) << n;
    const Values none(n, 1);
    EXPECT_EQ(binary_dot_masked(pack_binary(a), pack_binary(w), pack_binary(none), n),
              binary_dot(pack_binary(a), pack_binary(w), n));
  }
  EXPECT_THROW(binary_dot_masked(Words{}, Words{0}, Words{0}, 1), std::invalid_argument);
}

TEST(PackedBytes, SignedCountsAsTheMemoryPlanKeepsThem) {
  EXPECT_EQ(packed_bytes_of(3, 4), 2);  // int4: two per byte
  EXPECT_EQ(packed_bytes_of(9, 1), 2);  // binary: eight per byte
  EXPECT_EQ(packed_bytes_of(std::int64_t{1} << 40, 4), std::int64_t{1} << 39);
  EXPECT_THROW(packed_bytes_of(-1, 8), std::invalid_argument);
}

TEST(PackBinary, BitLayout) {
  EXPECT_EQ(pack_binary(Values{1, -1, -1, 1}), (Words{0b0110}));
  Values v(65, 1);
  v[0] = -1;
  v[63] = -1;
  v[64] = -1;
  EXPECT_EQ(pack_binary(v), (Words{0x8000'0000'0000'0001ull, 0x1}));
  EXPECT_TRUE(pack_binary(Values{}).empty());
  EXPECT_EQ(pack_binary(Values(64, 1)), (Words{0}));
}

TEST(PackBinary, RoundTrips) {
  std::mt19937 rng(12);
  for (std::size_t n = 0; n <= 200; ++n) {
    Values v(n);
    for (auto& x : v) x = (rng() & 1) ? std::int8_t{-1} : std::int8_t{1};
    const Words packed = pack_binary(v);
    ASSERT_EQ(packed.size(), (n + 63) / 64);
    ASSERT_EQ(unpack_binary(packed, n), v) << n;
  }
  // Bits past the count are ignored.
  EXPECT_EQ(unpack_binary(Words{~0ull}, 2), (Values{-1, -1}));
  EXPECT_EQ(unpack_binary(Words{0b10}, 3), (Values{1, -1, 1}));
}

TEST(PackBinary, RejectsBadInput) {
  EXPECT_THROW(pack_binary(Values{1, 0}), std::invalid_argument);
  EXPECT_THROW(pack_binary(Values{2}), std::invalid_argument);
  EXPECT_THROW(unpack_binary(Words{0}, 65), std::invalid_argument);
}

TEST(BinaryDot, HandCases) {
  // (1,-1,-1,1) . (1,1,-1,-1) = 1 - 1 + 1 - 1 = 0
  EXPECT_EQ(binary_dot(Words{0b0110}, Words{0b1100}, 4), 0);
  EXPECT_EQ(binary_dot(Words{0b0110}, Words{0b0110}, 4), 4);
  EXPECT_EQ(binary_dot(Words{0b0110}, Words{0b1001}, 4), -4);
  EXPECT_EQ(binary_dot(Words{}, Words{}, 0), 0);
  // Bits beyond n differ wildly but must not count.
  EXPECT_EQ(binary_dot(Words{0xFFFF'FFFF'FFFF'FFF0ull}, Words{0}, 4), 4);
  EXPECT_EQ(binary_dot(Words{~0ull}, Words{0}, 64), -64);
}

TEST(BinaryDot, MatchesPlainSumOfProducts) {
  std::mt19937 rng(13);
  for (std::size_t n = 1; n <= 300; ++n) {
    Values a(n), w(n);
    std::int32_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = (rng() & 1) ? std::int8_t{-1} : std::int8_t{1};
      w[i] = (rng() & 1) ? std::int8_t{-1} : std::int8_t{1};
      expected += a[i] * w[i];
    }
    Words pa = pack_binary(a);
    Words pw = pack_binary(w);
    ASSERT_EQ(binary_dot(pa, pw, n), expected) << n;
    // Garbage past n in one operand's tail word changes nothing.
    if (n % 64 != 0) pa.back() |= ~0ull << (n % 64);
    ASSERT_EQ(binary_dot(pa, pw, n), expected) << n;
    // A shorter prefix of the same words is the prefix's dot product.
    const std::size_t m = n / 2;
    std::int32_t prefix = 0;
    for (std::size_t i = 0; i < m; ++i) prefix += a[i] * w[i];
    ASSERT_EQ(binary_dot(pa, pw, m), prefix) << n;
  }
}

TEST(BinaryDot, RejectsShortOperands) {
  EXPECT_THROW(binary_dot(Words{0}, Words{0, 0}, 65), std::invalid_argument);
  EXPECT_THROW(binary_dot(Words{0, 0}, Words{0}, 65), std::invalid_argument);
}

TEST(PackedBytes, RoundsUp) {
  EXPECT_EQ(packed_bytes(0, 4), 0u);
  EXPECT_EQ(packed_bytes(1, 4), 1u);
  EXPECT_EQ(packed_bytes(3, 4), 2u);
  EXPECT_EQ(packed_bytes(4, 4), 2u);
  EXPECT_EQ(packed_bytes(8, 1), 1u);
  EXPECT_EQ(packed_bytes(9, 1), 2u);
  EXPECT_EQ(packed_bytes(3, 8), 3u);
  EXPECT_EQ(packed_bytes(3, 16), 6u);
  EXPECT_EQ(packed_bytes(3, 32), 12u);
  EXPECT_EQ(packed_bytes(5, 12), 8u);  // 60 bits
  // count * bits would overflow size_t; the byte count itself does not.
  const std::size_t big = std::numeric_limits<std::size_t>::max();
  EXPECT_EQ(packed_bytes(big, 8), big);
  EXPECT_EQ(packed_bytes(big, 1), big / 8 + 1);
  EXPECT_THROW(packed_bytes(1, 0), std::invalid_argument);
  EXPECT_THROW(packed_bytes(1, -4), std::invalid_argument);
}

}  // namespace
}  // namespace npusim
