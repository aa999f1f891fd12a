#include "accel/memory/dram_address.h"

#include <bit>
#include <cctype>
#include <string>

namespace npusim {
namespace {

struct Token {
  std::string_view text;
  AddressField field;
};

constexpr std::array<Token, 6> kTokens{{
    {"Ro", AddressField::row},
    {"Ba", AddressField::bank},
    {"Bg", AddressField::bank_group},
    {"Ra", AddressField::rank},
    {"Co", AddressField::column},
    {"Ch", AddressField::channel},
}};

int log2_exact(std::uint64_t power_of_two) { return std::countr_zero(power_of_two); }

std::uint64_t low_mask(int bits) { return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1; }

}  // namespace

std::optional<MappingFields> parse_address_mapping(std::string_view spelled) {
  // "RoBaRaCoCh" and DRAMsim3's "ro-ba-ra-co-ch" / "robaraco" spell the same mapping.
  std::string mapping;
  for (char ch : spelled) {
    if (ch != '-') mapping += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  MappingFields parsed;
  std::array<bool, 6> seen{};
  if (mapping.size() % 2 != 0) return std::nullopt;
  for (std::size_t i = 0; i < mapping.size(); i += 2) {
    const std::string_view text = std::string_view(mapping).substr(i, 2);
    const Token* match = nullptr;
    for (const Token& token : kTokens) {
      if (text[0] == std::tolower(static_cast<unsigned char>(token.text[0])) && text[1] == token.text[1])
        match = &token;
    }
    if (match == nullptr) return std::nullopt;
    const int index = static_cast<int>(match->field);
    if (seen[index]) return std::nullopt;
    seen[index] = true;
    parsed.order[parsed.count++] = match->field;
  }
  for (const Token& token : kTokens) {
    if (token.field != AddressField::bank_group && !seen[static_cast<int>(token.field)]) return std::nullopt;
  }
  return parsed;
}

AddressMapper::AddressMapper(const DramConfig& config) {
  const MappingFields parsed = *parse_address_mapping(config.address_mapping);
  burst_shift_ = log2_exact(static_cast<std::uint64_t>(config.burst_bytes()));
  const int column_bits = log2_exact(static_cast<std::uint64_t>(config.row_bytes() / config.burst_bytes()));
  granule_column_bits_ = log2_exact(static_cast<std::uint64_t>(config.interleave_bytes / config.burst_bytes()));
  bank_group_bits_ = log2_exact(static_cast<std::uint64_t>(config.bank_groups));
  granule_mask_ = low_mask(granule_column_bits_);
  bank_group_mask_ = low_mask(bank_group_bits_);
  bank_has_group_ = true;
  for (int i = 0; i < parsed.count; ++i) {
    if (parsed.order[i] == AddressField::bank_group) bank_has_group_ = false;
  }

  auto bits_of = [&](AddressField f) {
    switch (f) {
      case AddressField::row: return log2_exact(static_cast<std::uint64_t>(config.rows));
      case AddressField::bank:
        return log2_exact(static_cast<std::uint64_t>(config.banks_per_group)) +
               (bank_has_group_ ? bank_group_bits_ : 0);
      case AddressField::bank_group: return bank_group_bits_;
      case AddressField::rank: return log2_exact(static_cast<std::uint64_t>(config.ranks));
      case AddressField::column: return column_bits - granule_column_bits_;
      case AddressField::channel: return log2_exact(static_cast<std::uint64_t>(config.channels));
    }
    return 0;
  };

  int shift = burst_shift_ + granule_column_bits_;
  for (int i = parsed.count - 1; i >= 0; --i) {
    const int bits = bits_of(parsed.order[i]);
    field(parsed.order[i]) = Field{shift, low_mask(bits)};
    shift += bits;
  }
}

std::uint64_t AddressMapper::encode(const DramAddress& where) const {
  auto put = [&](AddressField f, std::uint64_t value) {
    const Field& x = field(f);
    return (value & x.mask) << x.shift;
  };
  const auto column = static_cast<std::uint64_t>(where.column);
  std::uint64_t address = (column & low_mask(granule_column_bits_)) << burst_shift_;
  address |= put(AddressField::column, column >> granule_column_bits_);
  address |= put(AddressField::channel, static_cast<std::uint64_t>(where.channel));
  address |= put(AddressField::rank, static_cast<std::uint64_t>(where.rank));
  address |= put(AddressField::row, static_cast<std::uint64_t>(where.row));
  if (bank_has_group_) {
    address |= put(AddressField::bank, (static_cast<std::uint64_t>(where.bank) << bank_group_bits_) |
                                           static_cast<std::uint64_t>(where.bank_group));
  } else {
    address |= put(AddressField::bank_group, static_cast<std::uint64_t>(where.bank_group));
    address |= put(AddressField::bank, static_cast<std::uint64_t>(where.bank));
  }
  return address;
}

}  // namespace npusim
