// How sub-byte formats are laid out in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace npusim {

// int4 has no packed datapath: the array computes int4 values held in int8
// lanes (the same integers a nibble datapath gives), and every buffer and
// DRAM transfer counts them at two per byte (packed_bytes below).

// binary: one bit per element, bit set = -1, bit clear = +1, element i in bit
// (i % 64) of word i / 64. With this encoding a product of two elements is -1
// exactly when their bits differ, so a dot product of n elements is
// n - 2 * popcount(a XOR w). Values must be -1 or +1.
std::vector<std::uint64_t> pack_binary(std::span<const std::int8_t> values);
std::vector<std::int8_t> unpack_binary(std::span<const std::uint64_t> words, std::size_t count);
// Dot product of two packed vectors of n elements (bits past n are ignored).
std::int32_t binary_dot(std::span<const std::uint64_t> a, std::span<const std::uint64_t> w, std::size_t n);
// The same with a padding mask, as an XNOR-popcount array skips the positions
// im2col padded: a position whose bit is set in `skip` adds nothing, so the
// dot is (n - popcount(skip)) - 2 * popcount((a XOR w) & ~skip).
std::int32_t binary_dot_masked(std::span<const std::uint64_t> a, std::span<const std::uint64_t> w,
                               std::span<const std::uint64_t> skip, std::size_t n);

// Bytes `count` elements of a format with `bits` per element occupy (rounded
// up): int4 two per byte, binary eight. The one definition of a tensor's size
// in memory; the memory plan, the DRAM layout and the energy counters use it.
std::size_t packed_bytes(std::size_t count, int bits);
// The same for the signed counts the memory plan keeps (count >= 0).
std::int64_t packed_bytes_of(std::int64_t count, int bits);

}  // namespace npusim
