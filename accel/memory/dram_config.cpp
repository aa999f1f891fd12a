#include "accel/memory/dram_config.h"

#include <array>
#include <bit>
#include <cmath>
#include <sstream>

#include "accel/memory/dram_address.h"

namespace npusim {
namespace {

bool is_power_of_two(std::int64_t value) { return value > 0 && std::has_single_bit(static_cast<std::uint64_t>(value)); }

std::string expected_real(std::string_view field, std::string_view what, double got) {
  std::ostringstream out;
  out << field << ": expected " << what << ", got " << got;
  return out.str();
}

std::string expected(std::string_view field, std::string_view what, std::int64_t got) {
  return std::string(field) + ": expected " + std::string(what) + ", got " + std::to_string(got);
}

// Checks run in declaration order and stop at the first failure, so the
// message names one field.
class Checker {
 public:
  void power_of_two(std::string_view field, std::int64_t value, std::int64_t max) {
    if (!error_.empty()) return;
    if (!is_power_of_two(value) || value > max) {
      error_ = expected(field, "a power of two in [1, " + std::to_string(max) + "]", value);
    }
  }
  void in_range(std::string_view field, std::int64_t value, std::int64_t lo, std::int64_t hi) {
    if (!error_.empty()) return;
    if (value < lo || value > hi) {
      error_ = expected(field, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", value);
    }
  }
  void require(bool ok, std::string message) {
    if (error_.empty() && !ok) error_ = std::move(message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

constexpr int kMaxCycles = 1 << 24;

void check_refresh(Checker& check, const DramConfig& c) {
  const DramTimingCycles& t = c.timing;
  if (c.refresh && c.refresh_mode == DramRefreshMode::all_bank) {
    check.in_range("timing.tRFC", t.tRFC, 1, kMaxCycles);
    check.in_range("timing.tREFI", t.tREFI, t.tRFC + 1, kMaxCycles);
  }
  if (c.refresh && c.refresh_mode == DramRefreshMode::per_bank) {
    check.require(t.tRFCpb > 0, "timing.tRFCpb: expected a positive cycle count for refresh_mode per_bank, got " +
                                    std::to_string(t.tRFCpb) + " (" + c.name +
                                    " sets none: its standard has no per-bank refresh)");
    check.in_range("timing.tRFCpb", t.tRFCpb, 1, kMaxCycles);
    check.require(c.per_bank_refresh_banks >= 1 && is_power_of_two(c.per_bank_refresh_banks) &&
                      c.per_bank_refresh_banks <= c.banks_per_rank(),
                  expected("per_bank_refresh_banks",
                           "a power of two in [1, banks per rank = " + std::to_string(c.banks_per_rank()) + "]",
                           c.per_bank_refresh_banks));
    check.in_range("timing.tREFIpb", t.tREFIpb, 1, kMaxCycles);
    check.in_range("timing.tPBR2PBR", t.tPBR2PBR, 0, kMaxCycles);
    check.in_range("timing.tPBR2ACT", t.tPBR2ACT, 0, kMaxCycles);
  }
}

void check_controller(Checker& check, const DramControllerConfig& k) {
  check.in_range("controller.row_hit_cap", k.row_hit_cap, 1, 1 << 20);
  check.in_range("controller.transaction_queue_depth", k.transaction_queue_depth, 1, 4096);
  check.in_range("controller.command_queue_depth", k.command_queue_depth, 1, 4096);
  check.in_range("controller.write_buffer_depth", k.write_buffer_depth, 1, 4096);
  check.in_range("controller.write_high_watermark", k.write_high_watermark, 1, k.write_buffer_depth);
  check.require(k.write_low_watermark >= 0 && k.write_low_watermark < k.write_high_watermark,
                expected("controller.write_low_watermark",
                         "an integer in [0, write_high_watermark - 1 = " + std::to_string(k.write_high_watermark - 1) +
                             "] (watermarks out of order)",
                         k.write_low_watermark));
  check.in_range("controller.frontend_latency_cycles", k.frontend_latency_cycles, 0, kMaxCycles);
  check.in_range("controller.commands_per_cycle", k.commands_per_cycle, 1, 2);
}

std::string validate_timing_model(const DramConfig& c) {
  Checker check;
  check.power_of_two("channels", c.channels, 1024);
  check.power_of_two("ranks", c.ranks, 16);
  check.power_of_two("bank_groups", c.bank_groups, 64);
  check.power_of_two("banks_per_group", c.banks_per_group, 64);
  check.power_of_two("rows", c.rows, std::int64_t{1} << 24);
  check.power_of_two("columns", c.columns, 1 << 16);
  check.require(c.bus_width_bits >= 8 && is_power_of_two(c.bus_width_bits) && c.bus_width_bits <= 4096,
                expected("bus_width_bits", "a power of two in [8, 4096]", c.bus_width_bits));
  check.power_of_two("transfers_per_clock", c.transfers_per_clock, 16);
  check.power_of_two("burst_length", c.burst_length, 256);
  check.require(c.burst_length >= c.transfers_per_clock,
                expected("burst_length",
                         "at least transfers_per_clock (" + std::to_string(c.transfers_per_clock) +
                             ") so a burst lasts whole clocks",
                         c.burst_length));
  check.in_range("tCK_ps", c.tCK_ps, 1, 1'000'000);
  check.require(c.columns >= c.burst_length,
                expected("columns", "at least burst_length (" + std::to_string(c.burst_length) + ")", c.columns));

  const DramTimingCycles& t = c.timing;
  check.in_range("timing.CL", t.CL, 1, kMaxCycles);
  check.in_range("timing.CWL", t.CWL, 1, kMaxCycles);
  check.in_range("timing.tRCD", t.tRCD, 1, kMaxCycles);
  check.in_range("timing.tRP", t.tRP, 1, kMaxCycles);
  check.in_range("timing.tRAS", t.tRAS, 1, kMaxCycles);
  check.in_range("timing.tRC", t.tRC, t.tRAS, kMaxCycles);
  check.in_range("timing.tWR", t.tWR, 0, kMaxCycles);
  check.in_range("timing.tRTP", t.tRTP, 0, kMaxCycles);
  check.in_range("timing.tWTR_S", t.tWTR_S, 0, kMaxCycles);
  check.in_range("timing.tWTR_L", t.tWTR_L, t.tWTR_S, kMaxCycles);
  check.in_range("timing.tCCD_S", t.tCCD_S, 1, kMaxCycles);
  check.in_range("timing.tCCD_L", t.tCCD_L, t.tCCD_S, kMaxCycles);
  check.in_range("timing.tRRD_S", t.tRRD_S, 1, kMaxCycles);
  check.in_range("timing.tRRD_L", t.tRRD_L, t.tRRD_S, kMaxCycles);
  check.in_range("timing.tFAW", t.tFAW, 0, kMaxCycles);
  check.in_range("timing.tRTRS", t.tRTRS, 0, kMaxCycles);
  check_refresh(check, c);

  if (check.error().empty() && !parse_address_mapping(c.address_mapping)) {
    return "address_mapping: expected each of Ro, Ba, Ra, Co, Ch once (and optionally Bg), most significant "
           "first, e.g. \"RoBaRaCoCh\", got \"" +
           c.address_mapping + "\"";
  }
  if (check.error().empty()) {
    check.require(is_power_of_two(c.interleave_bytes) && c.interleave_bytes >= c.burst_bytes() &&
                      c.interleave_bytes <= c.row_bytes(),
                  expected("interleave_bytes",
                           "a power of two between the burst (" + std::to_string(c.burst_bytes()) +
                               " B) and the row (" + std::to_string(c.row_bytes()) + " B)",
                           c.interleave_bytes));
  }
  check.in_range("timing.tPPD", t.tPPD, 0, kMaxCycles);
  check.in_range("timing.tDQSS", t.tDQSS, 0, kMaxCycles);
  check_controller(check, c.controller);
  check.require(c.capacity_bytes() <= (std::uint64_t{1} << 48),
                expected("rows", "a capacity of at most 2^48 bytes", c.rows));
  return check.error();
}

std::string validate_ideal(const IdealMemoryConfig& ideal) {
  Checker check;
  check.require(std::isfinite(ideal.bandwidth_gbps) && ideal.bandwidth_gbps > 0,
                expected_real("ideal.bandwidth_gbps", "a positive number", ideal.bandwidth_gbps));
  check.require(std::isfinite(ideal.latency_ns) && ideal.latency_ns >= 0 && ideal.latency_ns <= 1e9,
                expected_real("ideal.latency_ns", "a number in [0, 1e9]", ideal.latency_ns));
  check.require(
      ideal.capacity_bytes > 0 && ideal.capacity_bytes <= (std::uint64_t{1} << 48),
      expected("ideal.capacity_bytes", "a size in [1, 2^48]", static_cast<std::int64_t>(ideal.capacity_bytes)));
  return check.error();
}

}  // namespace

std::optional<DramKind> parse_dram_kind(std::string_view name) {
  if (name == "timing") return DramKind::timing;
  if (name == "ideal") return DramKind::ideal;
  return std::nullopt;
}

std::string_view to_string(DramKind kind) { return kind == DramKind::ideal ? "ideal" : "timing"; }

namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> parse_name(std::string_view name, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kSchedulers{"fcfs", "frfcfs", "frfcfs_cap"};
constexpr std::array<std::string_view, 3> kPagePolicies{"open", "closed", "adaptive"};
constexpr std::array<std::string_view, 2> kQueueStructures{"per_bank", "per_rank"};
constexpr std::array<std::string_view, 2> kRefreshModes{"all_bank", "per_bank"};

}  // namespace

std::optional<DramScheduler> parse_dram_scheduler(std::string_view name) {
  return parse_name<DramScheduler>(name, kSchedulers);
}
std::optional<DramPagePolicy> parse_dram_page_policy(std::string_view name) {
  return parse_name<DramPagePolicy>(name, kPagePolicies);
}
std::optional<DramQueueStructure> parse_dram_queue_structure(std::string_view name) {
  return parse_name<DramQueueStructure>(name, kQueueStructures);
}
std::string_view to_string(DramScheduler value) { return kSchedulers[static_cast<std::size_t>(value)]; }
std::string_view to_string(DramPagePolicy value) { return kPagePolicies[static_cast<std::size_t>(value)]; }
std::string_view to_string(DramQueueStructure value) { return kQueueStructures[static_cast<std::size_t>(value)]; }
std::optional<DramRefreshMode> parse_dram_refresh_mode(std::string_view name) {
  return parse_name<DramRefreshMode>(name, kRefreshModes);
}
std::string_view to_string(DramRefreshMode mode) { return kRefreshModes[static_cast<std::size_t>(mode)]; }

std::uint64_t DramConfig::capacity_bytes() const {
  if (kind == DramKind::ideal) return ideal.capacity_bytes;
  return static_cast<std::uint64_t>(channels) * static_cast<std::uint64_t>(ranks) *
         static_cast<std::uint64_t>(banks_per_rank()) * static_cast<std::uint64_t>(rows) *
         static_cast<std::uint64_t>(row_bytes());
}

double DramConfig::peak_bandwidth_gbps() const {
  if (kind == DramKind::ideal) return ideal.bandwidth_gbps;
  const double bytes_per_clock = static_cast<double>(channels) * bus_bytes() * transfers_per_clock;
  return bytes_per_clock / (static_cast<double>(tCK_ps) * 1e-3);
}

std::string validate(const DramConfig& config) {
  return config.kind == DramKind::ideal ? validate_ideal(config.ideal) : validate_timing_model(config);
}

}  // namespace npusim
