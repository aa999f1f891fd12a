// Splits a physical byte address into channel, rank, bank group, bank, row and
// column by the bit fields the mapping string names (DramConfig::address_mapping).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "accel/memory/dram_config.h"

namespace npusim {

// Where one burst lives. column counts bursts within the row.
struct DramAddress {
  int channel = 0;
  int rank = 0;
  int bank_group = 0;
  int bank = 0;  // within its bank group
  std::int64_t row = 0;
  std::int64_t column = 0;
};

enum class AddressField { row, bank, bank_group, rank, column, channel };

// The fields of a mapping string, most significant first ("RoBaRaCoCh" gives
// row, bank, rank, column, channel). nullopt when a token is unknown, repeated,
// or one of Ro, Ba, Ra, Co, Ch is missing (Bg is optional).
struct MappingFields {
  std::array<AddressField, 6> order{};
  int count = 0;
};
std::optional<MappingFields> parse_address_mapping(std::string_view mapping);

class AddressMapper {
 public:
  // The config must have passed validate().
  explicit AddressMapper(const DramConfig& config);

  // Addresses at or beyond the capacity wrap (their high bits are ignored).
  // Inline: it runs once per burst.
  DramAddress decode(std::uint64_t address) const;
  // The first byte of the burst at `where`; decode(encode(a)) == a.
  std::uint64_t encode(const DramAddress& where) const;

 private:
  struct Field {
    int shift = 0;
    std::uint64_t mask = 0;
  };
  Field& field(AddressField f) { return fields_[static_cast<int>(f)]; }
  const Field& field(AddressField f) const { return fields_[static_cast<int>(f)]; }

  int burst_shift_ = 0;          // log2(burst bytes)
  int granule_column_bits_ = 0;  // low column bits below every field
  bool bank_has_group_ = false;  // no Bg token: Ba holds bank group in its low bits
  int bank_group_bits_ = 0;
  std::uint64_t granule_mask_ = 0;
  std::uint64_t bank_group_mask_ = 0;
  std::array<Field, 6> fields_{};
};

inline DramAddress AddressMapper::decode(std::uint64_t address) const {
  auto get = [&](AddressField f) {
    const Field& x = field(f);
    return (address >> x.shift) & x.mask;
  };
  DramAddress where;
  where.channel = static_cast<int>(get(AddressField::channel));
  where.rank = static_cast<int>(get(AddressField::rank));
  where.row = static_cast<std::int64_t>(get(AddressField::row));
  const std::uint64_t column_low = (address >> burst_shift_) & granule_mask_;
  where.column = static_cast<std::int64_t>((get(AddressField::column) << granule_column_bits_) | column_low);
  const std::uint64_t bank = get(AddressField::bank);
  if (bank_has_group_) {
    // Bank groups in the low bits of Ba, so consecutive banks alternate groups
    // and back-to-back activations meet tRRD_S rather than tRRD_L.
    where.bank_group = static_cast<int>(bank & bank_group_mask_);
    where.bank = static_cast<int>(bank >> bank_group_bits_);
  } else {
    where.bank_group = static_cast<int>(get(AddressField::bank_group));
    where.bank = static_cast<int>(bank);
  }
  return where;
}

}  // namespace npusim
