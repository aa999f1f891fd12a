#include "sim/energy/energy_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include "models/input_error.h"
#include "models/json_reader.h"

namespace npusim {
namespace {

constexpr double kMaxPj = 1e9;
constexpr double kMaxUm2 = 1e12;
constexpr double kMinPositive = 1e-12;

std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

[[noreturn]] void missing(const std::string& file, const std::string& path, const std::string& purpose) {
  throw InputError(file + ": " + path + ": missing (" + purpose + ")");
}

// The child object `key`, or a "missing (<purpose>)" error when it is absent.
JsonObjectReader required_child(JsonObjectReader& parent, const std::string& key, const std::string& purpose) {
  if (!parent.has(key)) missing(parent.file(), parent.path_of(key), purpose);
  return parent.child(key);
}

std::string read_source(JsonObjectReader& entry) {
  const std::string source = entry.string("source");
  if (source.empty()) entry.fail("source", "a non-empty string naming where the numbers come from");
  return source;
}

SourcedValue read_sourced(JsonObjectReader& parent, const std::string& key, const std::string& value_key,
                          const std::string& purpose) {
  auto entry = required_child(parent, key, purpose);
  SourcedValue value;
  value.value = entry.number(value_key, 0, kMaxPj);
  value.source = read_source(entry);
  entry.finish();
  return value;
}

std::optional<MacFormat> parse_mac_key(const std::string& key) {
  const auto first = key.find('_');
  const auto second = key.find('_', first == std::string::npos ? first : first + 1);
  if (first == std::string::npos || second == std::string::npos) return std::nullopt;
  const auto weight = parse_number_format(key.substr(0, first));
  const auto activation = parse_number_format(key.substr(first + 1, second - first - 1));
  const auto accumulator = parse_accumulator_format(key.substr(second + 1));
  if (!weight || !activation || !accumulator) return std::nullopt;
  MacFormat mac{*weight, *activation, *accumulator, 1};
  if (validate(mac)) return std::nullopt;
  return mac;
}

void check_mac_key(const std::string& file, const std::string& path, const std::string& key) {
  if (!parse_mac_key(key)) {
    throw InputError(file + ": " + path +
                     ": expected a key <weight>_<activation>_<accumulator> of a valid MAC "
                     "format (e.g. int8_int8_int32, int4_int8_int32, fp16_fp16_fp32), got \"" +
                     key + "\"");
  }
}

// Each element of the list at `key`, as an object reader; at least one.
template <typename Read>
void read_points(JsonObjectReader& parent, const std::string& key, const std::string& purpose, Read read) {
  if (!parent.has(key)) missing(parent.file(), parent.path_of(key), purpose);
  const auto& list = parent.array(key);
  if (list.empty()) parent.fail(key, "a list of at least one point");
  double previous_kb = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    JsonObjectReader point(list[i], parent.file(), parent.path_of(key) + "[" + std::to_string(i) + "]");
    const double kb = point.number("kb", 0.001, 1e9);
    if (i > 0 && kb <= previous_kb) {
      throw InputError(parent.file() + ": " + point.path_of("kb") + ": expected more than the previous point's " +
                       format_number(previous_kb) + " (points in increasing capacity), got " + format_number(kb));
    }
    previous_kb = kb;
    read(point, kb);
    point.finish();
  }
}

void read_sram(JsonObjectReader& root, EnergyTable& table) {
  auto sram = required_child(root, "sram", "SRAM energy per access and area per KB by capacity");
  table.sram_word_bits = static_cast<int>(sram.integer("word_bits", 1, 65536));
  read_points(sram, "energy", "SRAM read/write energy per access by capacity", [&](JsonObjectReader& p, double kb) {
    SramEnergyPoint point;
    point.kb = kb;
    point.read_pj = p.number("read_pj", kMinPositive, kMaxPj);
    point.write_pj = p.number("write_pj", kMinPositive, kMaxPj);
    point.source = read_source(p);
    table.sram_energy.push_back(point);
  });
  read_points(sram, "area", "SRAM area per KB by capacity", [&](JsonObjectReader& p, double kb) {
    SramAreaPoint point;
    point.kb = kb;
    point.um2_per_kb = p.number("um2_per_kb", kMinPositive, kMaxUm2);
    point.source = read_source(p);
    table.sram_area.push_back(point);
  });
  sram.finish();
}

void read_ops(JsonObjectReader& root, EnergyTable& table) {
  if (!root.has("ops")) return;
  const auto& ops = root.object("ops");
  for (const auto& [name, node] : ops.items()) {
    JsonObjectReader entry(node, root.file(), root.path_of("ops") + "." + name);
    OpFigure op;
    if (entry.has("pj")) op.pj = entry.number("pj", 0, kMaxPj);
    if (entry.has("um2")) op.um2 = entry.number("um2", 0, kMaxUm2);
    if (!op.pj && !op.um2) entry.fail("pj", "a number (an op needs pj, um2 or both)");
    op.source = read_source(entry);
    entry.finish();
    table.ops.emplace(name, op);
  }
}

void read_mac(JsonObjectReader& root, EnergyTable& table) {
  if (!root.has("mac")) {
    missing(root.file(), root.path_of("mac"), "MAC energy per <weight>_<activation>_<accumulator>");
  }
  for (const auto& [key, node] : root.object("mac").items()) {
    const std::string path = root.path_of("mac") + "." + key;
    check_mac_key(root.file(), path, key);
    JsonObjectReader entry(node, root.file(), path);
    MacEnergy mac;
    mac.mult_pj = entry.number("mult_pj", 0, kMaxPj);
    mac.add_pj = entry.number("add_pj", 0, kMaxPj);
    mac.group_add_pj = entry.number_or("group_add_pj", 0, kMaxPj, 0);
    mac.source = read_source(entry);
    entry.finish();
    table.mac.emplace(key, mac);
  }
}

void read_pe_area(JsonObjectReader& root, EnergyTable& table) {
  if (!root.has("pe_area")) {
    missing(root.file(), root.path_of("pe_area"), "PE area per <weight>_<activation>_<accumulator>");
  }
  for (const auto& [key, node] : root.object("pe_area").items()) {
    const std::string path = root.path_of("pe_area") + "." + key;
    check_mac_key(root.file(), path, key);
    JsonObjectReader entry(node, root.file(), path);
    PeArea area;
    area.mult_um2 = entry.number("mult_um2", 0, kMaxUm2);
    area.add_um2 = entry.number("add_um2", 0, kMaxUm2);
    area.register_um2 = entry.number("register_um2", 0, kMaxUm2);
    area.pe_um2 = entry.number("pe_um2", 0, kMaxUm2);
    area.source = read_source(entry);
    entry.finish();
    table.pe_area.emplace(key, area);
  }
}

void read_dram(JsonObjectReader& root, EnergyTable& table) {
  auto dram = required_child(root, "dram", "DRAM energy per bit and per row activation by DRAM type");
  table.dram_note = dram.string_or("note", "");
  for (const auto& [type, node] : root.object("dram").items()) {
    if (type == "note") continue;
    auto entry = dram.child(type);
    DramEnergy energy;
    energy.pj_per_bit = entry.number("pj_per_bit", 0, kMaxPj);
    energy.activation_pj = entry.number("activation_pj", 0, kMaxPj);
    energy.source = read_source(entry);
    entry.finish();
    table.dram.emplace(type, energy);
  }
  dram.finish();
}

// ---- interpolation -------------------------------------------------------

// Log-log interpolation through (kb, value) points; `extrapolate` continues the
// end segments' power laws, otherwise the end values hold.
template <typename Point, typename Value>
double curve(const std::vector<Point>& points, double kb, Value value, bool extrapolate) {
  if (points.size() == 1) return value(points.front());
  for (const auto& p : points) {
    if (p.kb == kb) return value(p);
  }
  std::size_t i = 0;  // the segment [i, i + 1]
  if (kb < points.front().kb) {
    if (!extrapolate) return value(points.front());
  } else if (kb > points.back().kb) {
    if (!extrapolate) return value(points.back());
    i = points.size() - 2;
  } else {
    while (points[i + 1].kb < kb) ++i;
  }
  const double k0 = points[i].kb, k1 = points[i + 1].kb;
  const double v0 = value(points[i]), v1 = value(points[i + 1]);
  return v0 * std::pow(v1 / v0, std::log(kb / k0) / std::log(k1 / k0));
}

double between(double a, double b, double t) {
  if (t == 0) return a;
  if (t == 1) return b;
  if (a > 0 && b > 0) return a * std::pow(b / a, t);
  return a + (b - a) * t;  // a zero end: no logarithm to take
}

struct Interpolation {
  const EnergyTable& a;
  const EnergyTable& b;
  double node_nm;
  double t;

  std::string source(const std::string& source_a, const std::string& source_b) const {
    return "[D] interpolated log-linearly in node to " + format_number(node_nm) + " nm (t = " + format_number(t) +
           ") between " + a.name + " {" + source_a + "} and " + b.name + " {" + source_b + "}";
  }
  double operator()(double va, double vb) const { return between(va, vb, t); }
};

std::vector<double> union_of_capacities(const std::vector<double>& x, const std::vector<double>& y) {
  std::set<double> all(x.begin(), x.end());
  all.insert(y.begin(), y.end());
  return {all.begin(), all.end()};
}

template <typename Point>
std::vector<double> capacities(const std::vector<Point>& points) {
  std::vector<double> kb;
  for (const auto& p : points) kb.push_back(p.kb);
  return kb;
}

template <typename Point>
std::string source_at(const std::vector<Point>& points, double kb) {
  for (const auto& p : points) {
    if (p.kb == kb) return p.source;
  }
  return "the table's curve at " + format_number(kb) + " KB";
}

// Energy of one table-width access, and area per KB, at `kb`.
double sram_energy_at(const EnergyTable& table, double kb, bool write) {
  return curve(
      table.sram_energy, kb, [write](const SramEnergyPoint& p) { return write ? p.write_pj : p.read_pj; },
      /*extrapolate=*/true);
}

double sram_area_at(const EnergyTable& table, double kb) {
  return curve(
      table.sram_area, kb, [](const SramAreaPoint& p) { return p.um2_per_kb; }, /*extrapolate=*/false);
}

// The per-op, per-MAC-format, per-PE and per-DRAM-type entries both tables have.
void interpolate_entries(const Interpolation& in, EnergyTable& out) {
  const EnergyTable& a = in.a;
  const EnergyTable& b = in.b;
  for (const auto& [name, oa] : a.ops) {
    const auto it = b.ops.find(name);
    if (it == b.ops.end()) continue;
    const auto& ob = it->second;
    OpFigure op;
    if (oa.pj && ob.pj) op.pj = in(*oa.pj, *ob.pj);
    if (oa.um2 && ob.um2) op.um2 = in(*oa.um2, *ob.um2);
    if (!op.pj && !op.um2) continue;
    op.source = in.source(oa.source, ob.source);
    out.ops.emplace(name, op);
  }
  for (const auto& [key, ma] : a.mac) {
    const auto it = b.mac.find(key);
    if (it == b.mac.end()) continue;
    const auto& mb = it->second;
    out.mac.emplace(key, MacEnergy{in(ma.mult_pj, mb.mult_pj), in(ma.add_pj, mb.add_pj),
                                   in(ma.group_add_pj, mb.group_add_pj), in.source(ma.source, mb.source)});
  }
  for (const auto& [key, pa] : a.pe_area) {
    const auto it = b.pe_area.find(key);
    if (it == b.pe_area.end()) continue;
    const auto& pb = it->second;
    out.pe_area.emplace(
        key, PeArea{in(pa.mult_um2, pb.mult_um2), in(pa.add_um2, pb.add_um2), in(pa.register_um2, pb.register_um2),
                    in(pa.pe_um2, pb.pe_um2), in.source(pa.source, pb.source)});
  }
  out.dram_note = a.dram_note;
  for (const auto& [type, da] : a.dram) {
    const auto it = b.dram.find(type);
    if (it == b.dram.end()) continue;
    const auto& db = it->second;
    out.dram.emplace(type, DramEnergy{in(da.pj_per_bit, db.pj_per_bit), in(da.activation_pj, db.activation_pj),
                                      in.source(da.source, db.source)});
  }
}

void interpolate_sram_curves(const Interpolation& in, EnergyTable& out) {
  const EnergyTable& a = in.a;
  const EnergyTable& b = in.b;
  // Both curves evaluated at every capacity either table characterised, b's
  // energies rescaled to a's word width.
  out.sram_word_bits = a.sram_word_bits;
  for (const double kb : union_of_capacities(capacities(a.sram_energy), capacities(b.sram_energy))) {
    auto at = [&](const EnergyTable& table, bool write) {
      const double per_word = sram_energy_at(table, kb, write);
      return table.sram_word_bits == a.sram_word_bits ? per_word : per_word * a.sram_word_bits / table.sram_word_bits;
    };
    out.sram_energy.push_back(SramEnergyPoint{kb, in(at(a, false), at(b, false)), in(at(a, true), at(b, true)),
                                              in.source(source_at(a.sram_energy, kb), source_at(b.sram_energy, kb))});
  }
  for (const double kb : union_of_capacities(capacities(a.sram_area), capacities(b.sram_area))) {
    out.sram_area.push_back(SramAreaPoint{kb, in(sram_area_at(a, kb), sram_area_at(b, kb)),
                                          in.source(source_at(a.sram_area, kb), source_at(b.sram_area, kb))});
  }
}

void interpolate_scalars(const Interpolation& in, EnergyTable& out) {
  const EnergyTable& a = in.a;
  const EnergyTable& b = in.b;
  auto value = [&](const SourcedValue& va, const SourcedValue& vb) {
    return SourcedValue{in(va.value, vb.value), in.source(va.source, vb.source)};
  };
  out.ppu_op_pj = value(a.ppu_op_pj, b.ppu_op_pj);
  out.transfer_pj_per_byte = value(a.transfer_pj_per_byte, b.transfer_pj_per_byte);
  out.logic_leakage_mw_per_mm2 = value(a.logic_leakage_mw_per_mm2, b.logic_leakage_mw_per_mm2);
  out.sram_leakage_mw_per_mm2 = value(a.sram_leakage_mw_per_mm2, b.sram_leakage_mw_per_mm2);
}

}  // namespace

std::string mac_key(const MacFormat& mac) {
  return std::string(to_string(mac.weight)) + "_" + std::string(to_string(mac.activation)) + "_" +
         std::string(to_string(mac.accumulator));
}

std::string mac_purpose(const MacFormat& mac) {
  if (mac.integer()) return mac.label();
  return mac.label() + " with " + std::string(to_string(mac.accumulator)) + " accumulation";
}

const MacEnergy& EnergyTable::mac_energy(const MacFormat& format) const {
  const auto it = mac.find(mac_key(format));
  if (it == mac.end()) missing(file, "$.mac." + mac_key(format), "needed for " + mac_purpose(format));
  return it->second;
}

const PeArea& EnergyTable::pe_area_of(const MacFormat& format) const {
  const auto it = pe_area.find(mac_key(format));
  if (it == pe_area.end()) {
    missing(file, "$.pe_area." + mac_key(format), "needed for the PE area of " + mac_purpose(format));
  }
  return it->second;
}

const DramEnergy& EnergyTable::dram_energy(std::string_view type) const {
  const auto it = dram.find(std::string(type));
  if (it == dram.end()) {
    missing(file, "$.dram." + std::string(type), "needed for DRAM type " + std::string(type));
  }
  return it->second;
}

double EnergyTable::sram_access_pj(std::int64_t capacity_bytes, int word_bytes, bool write) const {
  if (capacity_bytes <= 0 || word_bytes <= 0) {
    throw std::invalid_argument("sram_access_pj: capacity and word width must be positive");
  }
  const double per_word = sram_energy_at(*this, static_cast<double>(capacity_bytes) / 1024.0, write);
  return per_word * (8.0 * word_bytes) / sram_word_bits;
}

double EnergyTable::sram_um2_per_kb(std::int64_t capacity_bytes) const {
  if (capacity_bytes <= 0) throw std::invalid_argument("sram_um2_per_kb: capacity must be positive");
  return sram_area_at(*this, static_cast<double>(capacity_bytes) / 1024.0);
}

EnergyTable parse_energy_table(const nlohmann::json& document, const std::string& file) {
  JsonObjectReader root(document, file, "$");
  EnergyTable table;
  table.file = file;
  root.integer("format_version", 1, 1);
  table.name = root.string("name");
  table.node_nm = root.number("node_nm", 0.1, 10000);
  table.description = root.string_or("description", "");
  read_ops(root, table);
  read_mac(root, table);
  read_pe_area(root, table);
  read_sram(root, table);
  read_dram(root, table);
  table.ppu_op_pj = read_sourced(root, "ppu_op", "pj", "the energy of one post-processing element operation");
  table.transfer_pj_per_byte = read_sourced(root, "register_transfer", "pj_per_byte",
                                            "the energy of a byte passed into a neighbouring PE's register");
  auto leakage = required_child(root, "leakage", "leakage power per mm2 of logic and of SRAM");
  table.logic_leakage_mw_per_mm2 = read_sourced(leakage, "logic", "mw_per_mm2", "leakage power per mm2 of logic");
  table.sram_leakage_mw_per_mm2 = read_sourced(leakage, "sram", "mw_per_mm2", "leakage power per mm2 of SRAM");
  leakage.finish();
  root.finish();
  return table;
}

EnergyTable load_energy_table(const std::string& path) { return parse_energy_table(read_json_file(path), path); }

nlohmann::ordered_json to_json(const EnergyTable& table) {
  using Json = nlohmann::ordered_json;
  auto sourced = [](const char* key, double value, const std::string& source) {
    return Json{{key, value}, {"source", source}};
  };
  Json out;
  out["format_version"] = 1;
  out["name"] = table.name;
  out["node_nm"] = table.node_nm;
  out["description"] = table.description;
  Json ops = Json::object();
  for (const auto& [name, op] : table.ops) {
    Json entry;
    if (op.pj) entry["pj"] = *op.pj;
    if (op.um2) entry["um2"] = *op.um2;
    entry["source"] = op.source;
    ops[name] = entry;
  }
  out["ops"] = ops;
  Json mac = Json::object();
  for (const auto& [key, m] : table.mac) {
    Json entry{{"mult_pj", m.mult_pj}, {"add_pj", m.add_pj}};
    if (m.group_add_pj != 0) entry["group_add_pj"] = m.group_add_pj;
    entry["source"] = m.source;
    mac[key] = entry;
  }
  out["mac"] = mac;
  Json area = Json::object();
  for (const auto& [key, a] : table.pe_area) {
    area[key] = Json{{"mult_um2", a.mult_um2},
                     {"add_um2", a.add_um2},
                     {"register_um2", a.register_um2},
                     {"pe_um2", a.pe_um2},
                     {"source", a.source}};
  }
  out["pe_area"] = area;
  Json sram_energy = Json::array();
  for (const auto& p : table.sram_energy) {
    sram_energy.push_back(Json{{"kb", p.kb}, {"read_pj", p.read_pj}, {"write_pj", p.write_pj}, {"source", p.source}});
  }
  Json sram_area = Json::array();
  for (const auto& p : table.sram_area) {
    sram_area.push_back(Json{{"kb", p.kb}, {"um2_per_kb", p.um2_per_kb}, {"source", p.source}});
  }
  out["sram"] = Json{{"word_bits", table.sram_word_bits}, {"energy", sram_energy}, {"area", sram_area}};
  Json dram = Json::object();
  if (!table.dram_note.empty()) dram["note"] = table.dram_note;
  for (const auto& [type, d] : table.dram) {
    dram[type] = Json{{"pj_per_bit", d.pj_per_bit}, {"activation_pj", d.activation_pj}, {"source", d.source}};
  }
  out["dram"] = dram;
  out["ppu_op"] = sourced("pj", table.ppu_op_pj.value, table.ppu_op_pj.source);
  out["register_transfer"] =
      sourced("pj_per_byte", table.transfer_pj_per_byte.value, table.transfer_pj_per_byte.source);
  out["leakage"] = Json{
      {"logic", sourced("mw_per_mm2", table.logic_leakage_mw_per_mm2.value, table.logic_leakage_mw_per_mm2.source)},
      {"sram", sourced("mw_per_mm2", table.sram_leakage_mw_per_mm2.value, table.sram_leakage_mw_per_mm2.source)}};
  return out;
}

void require_entries(const EnergyTable& table, const MacFormat& mac, std::string_view dram_type) {
  table.mac_energy(mac);
  table.pe_area_of(mac);
  if (!dram_type.empty()) table.dram_energy(dram_type);
}

std::optional<std::string> dram_energy_type(std::string_view preset_name) {
  if (preset_name.empty() || preset_name == "ideal") return std::nullopt;
  return std::string(preset_name.substr(0, preset_name.find('-')));
}

EnergyTable interpolate_energy_tables(const EnergyTable& a, const EnergyTable& b, double node_nm) {
  if (a.node_nm == b.node_nm) {
    throw InputError(a.file + ", " + b.file + ": both tables are for " + format_number(a.node_nm) +
                     " nm; interpolation needs two nodes");
  }
  const double lo = std::min(a.node_nm, b.node_nm), hi = std::max(a.node_nm, b.node_nm);
  if (!(node_nm >= lo && node_nm <= hi)) {
    throw InputError("technology node " + format_number(node_nm) + " nm: outside [" + format_number(lo) + ", " +
                     format_number(hi) + "] nm, the nodes of " + a.file + " and " + b.file +
                     "; give a table for it instead");
  }
  // t is exactly 0 or 1 at the end nodes (ln(x) / ln(x) == 1), so ends are exact.
  const double t = node_nm == a.node_nm ? 0.0 : std::log(node_nm / a.node_nm) / std::log(b.node_nm / a.node_nm);
  const Interpolation in{a, b, node_nm, t};

  EnergyTable out;
  out.file = a.file + " + " + b.file + " (interpolated to " + format_number(node_nm) + " nm)";
  out.name = format_number(node_nm) + "nm";
  out.node_nm = node_nm;
  out.description = "Interpolated log-linearly in node between " + a.name + " and " + b.name +
                    " (an approximation: real nodes do not scale every circuit alike).";
  interpolate_entries(in, out);
  interpolate_sram_curves(in, out);
  interpolate_scalars(in, out);
  return out;
}

EnergyTable tech_table_for_node(double node_nm, const std::string& tech_dir) {
  const std::string dir = tech_dir.empty() || tech_dir.back() == '/' ? tech_dir : tech_dir + "/";
  EnergyTable coarse = load_energy_table(dir + "45nm.json");
  if (node_nm == coarse.node_nm) return coarse;
  EnergyTable fine = load_energy_table(dir + "7nm.json");
  if (node_nm == fine.node_nm) return fine;
  return interpolate_energy_tables(coarse, fine, node_nm);
}

}  // namespace npusim
