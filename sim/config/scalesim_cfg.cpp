#include "sim/config/scalesim_cfg.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/python_text.h"

// A small reader rather than Boost.PropertyTree's INI parser: that parser
// splits keys from values at '=' only, and SCALE-Sim's configs write
// "ArrayHeight:    32"; it also has no continuation lines and treats only ';'
// as a comment. Python's configparser rules fit in the function below.

namespace npusim {
namespace {

constexpr std::size_t kMaxQuoted = 40;

struct Entry {
  std::string key;  // as the file spells it
  std::string value;
  std::size_t line = 0;
  std::size_t value_column = 1;  // 1-based character column of the value in its line
};

struct Section {
  std::size_t line = 0;
  std::map<std::string, Entry> entries;  // by lower-case key, as configparser's optionxform
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string quote_text(std::string_view text) {
  std::string shown(text.substr(0, kMaxQuoted));
  for (char& c : shown) c = c == '\n' ? ' ' : c;  // a continued value stays on the message's line
  return "\"" + shown + (text.size() > kMaxQuoted ? "...\"" : "\"");
}

// configparser.ConfigParser().read_string(text) with its defaults (strict,
// delimiters '=' and ':', comment prefixes '#' and ';', empty lines allowed in
// values), as SCALE-Sim reads its configs.
std::map<std::string, Section> parse_ini(const std::string& text, const std::string& file) {
  std::map<std::string, Section> sections;
  Section* current = nullptr;
  Entry* open = nullptr;        // the entry a more indented line continues
  std::size_t indent = 0;       // that entry's indentation
  std::size_t blank_lines = 0;  // blank lines inside a value so far
  const auto where = [&](std::size_t line) { return file + ":" + std::to_string(line); };
  const std::vector<std::string_view> lines = python_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t line = i + 1;
    std::string_view raw = lines[i];
    require_utf8(std::string(raw), where(line));
    if (line == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);  // an editor's byte-order mark
    const std::string_view value = python_strip(raw);
    if (value.starts_with('#') || value.starts_with(';')) continue;
    if (value.empty()) {
      if (open) ++blank_lines;
      continue;
    }
    const std::size_t line_indent = python_leading_space(raw);
    if (open && line_indent > indent) {
      open->value += std::string(blank_lines + 1, '\n') + std::string(value);
      blank_lines = 0;
      continue;
    }
    open = nullptr;
    blank_lines = 0;
    indent = line_indent;
    if (value.front() == '[' && value.back() == ']' && value.size() > 2) {
      const std::string name(value.substr(1, value.size() - 2));
      if (sections.count(name)) {
        throw InputError(where(line) + ": expected each section once, got [" + name + "] again (first at line " +
                         std::to_string(sections[name].line) + ")");
      }
      current = &sections[name];
      current->line = line;
      continue;
    }
    if (!current) {
      throw InputError(where(line) + ": expected a section header such as [architecture_presets] first, got " +
                       quote_text(value));
    }
    const std::size_t delimiter = value.find_first_of("=:");
    const std::string key(python_strip(value.substr(0, std::min(delimiter, value.size()))));
    if (delimiter == std::string_view::npos || key.empty()) {
      throw InputError(where(line) + ": expected \"key = value\" or \"key: value\", got " + quote_text(value));
    }
    auto [entry, added] = current->entries.try_emplace(lower(key), Entry{key, "", line, 1});
    if (!added) {
      throw InputError(where(line) + ": expected each key once in a section, got " + key + " again (first at line " +
                       std::to_string(entry->second.line) + ")");
    }
    const std::string_view after = value.substr(delimiter + 1);
    entry->second.value = std::string(python_strip(after));
    const std::size_t value_offset = static_cast<std::size_t>(after.data() - raw.data()) + python_leading_space(after);
    entry->second.value_column = count_characters(raw.substr(0, value_offset)) + 1;
    open = &entry->second;
  }
  return sections;
}

// What npusim does with a key.
enum class Use {
  read,             // the translation reads it
  ignored,          // accepted: it does not change what npusim computes
  ignored_integer,  // the same, but SCALE-Sim int()s it, so a bad value fails there too
  off,              // a boolean that must be false: npusim does not model it on
};

struct KeySpec {
  const char* key;  // lower case
  Use use;
};

// SCALE-Sim v2's keys, by section: what scale_config.py reads, and what its
// shipped configs carry (the layout keys in [architecture_presets], the
// DRAM row and bank sizes of google.cfg) although SCALE-Sim does not read it.
const std::map<std::string, std::vector<KeySpec>>& known_keys() {
  static const std::vector<KeySpec> layout = {{"ifmapcustomlayout", Use::off},
                                              {"filtercustomlayout", Use::off},
                                              {"ifmapsrambankbandwidth", Use::ignored_integer},
                                              {"ifmapsrambanknum", Use::ignored_integer},
                                              {"ifmapsrambankport", Use::ignored_integer},
                                              {"filtersrambankbandwidth", Use::ignored_integer},
                                              {"filtersrambanknum", Use::ignored_integer},
                                              {"filtersrambankport", Use::ignored_integer}};
  static const std::map<std::string, std::vector<KeySpec>> keys = [&] {
    std::map<std::string, std::vector<KeySpec>> k;
    k["general"] = {{"run_name", Use::read}};
    k["architecture_presets"] = {{"arrayheight", Use::read},
                                 {"arraywidth", Use::read},
                                 {"ifmapsramszkb", Use::read},
                                 {"filtersramszkb", Use::read},
                                 {"ofmapsramszkb", Use::read},
                                 {"dataflow", Use::read},
                                 {"bandwidth", Use::read},
                                 {"memorybanks", Use::read},
                                 {"ifmapoffset", Use::ignored_integer},
                                 {"filteroffset", Use::ignored_integer},
                                 {"ofmapoffset", Use::ignored_integer},
                                 {"readrequestbuffer", Use::ignored_integer},
                                 {"writerequestbuffer", Use::ignored_integer},
                                 {"onchipmemorybanks", Use::ignored_integer},
                                 {"onchipmemorybankports", Use::ignored_integer}};
    // SCALE-Sim reads the layout keys from [layout] only; in this section they are inert.
    for (const KeySpec& spec : layout) k["architecture_presets"].push_back({spec.key, Use::ignored});
    k["layout"] = layout;
    k["sparsity"] = {{"sparsitysupport", Use::off},
                     {"enable", Use::off},
                     {"sparserep", Use::ignored},
                     {"representation", Use::ignored},
                     {"optimizedmapping", Use::ignored},
                     {"optimizemapping", Use::ignored},
                     {"blocksize", Use::ignored},
                     {"nonzeroelems", Use::ignored},
                     {"randomnumbergeneratorseed", Use::ignored}};
    k["run_presets"] = {{"interfacebandwidth", Use::read}, {"useramulatortrace", Use::off},
                        {"timelinearmodel", Use::read},    {"sram_row_size", Use::ignored},
                        {"sram_bank_size", Use::ignored},  {"dram_row_size", Use::ignored},
                        {"dram_bank_size", Use::ignored}};
    k["network_presets"] = {{"topologycsvloc", Use::ignored}, {"layoutcsvloc", Use::ignored}};
    return k;
  }();
  return keys;
}

class CfgReader {
 public:
  CfgReader(std::string file, std::map<std::string, Section> sections)
      : file_(std::move(file)), sections_(std::move(sections)) {}

  void check_known() const {
    const auto& known = known_keys();
    for (const auto& [name, section] : sections_) {
      const auto spec = known.find(name);
      if (spec == known.end()) {
        std::string names;
        for (const auto& [n, unused] : known) names += (names.empty() ? "" : ", ") + n;
        throw InputError(where(section.line) + ": expected a SCALE-Sim section (" + names + "), got [" + name + "]");
      }
      for (const auto& [key, entry] : section.entries) {
        const auto match = std::find_if(spec->second.begin(), spec->second.end(),
                                        [&key = key](const KeySpec& s) { return key == s.key; });
        if (match == spec->second.end()) {
          throw InputError(at(entry) + ": expected a key SCALE-Sim reads in [" + name + "], got an unknown key");
        }
        if (match->use == Use::off && boolean(entry)) {
          throw InputError(at(entry) + ": expected false, got " + quote_text(entry.value) + " (npusim does not model " +
                           off_feature(key) + ")");
        }
        if (match->use == Use::ignored_integer) integer(entry, 0);
      }
    }
  }

  TranslatedConfig translate() {
    TranslatedConfig out;
    nlohmann::json& doc = out.document;
    doc["format_version"] = 1;
    const Entry* run_name = find("general", "run_name");
    doc["name"] = run_name && !run_name->value.empty() ? run_name->value : std::filesystem::path(file_).stem().string();
    if (run_name) out.origins.push_back({"$.name", at(*run_name)});
    doc["clock_mhz"] = 1000;
    const Entry& rows = require("architecture_presets", "ArrayHeight");
    const Entry& cols = require("architecture_presets", "ArrayWidth");
    const Entry& dataflow = require("architecture_presets", "Dataflow");
    if (dataflow.value != "os" && dataflow.value != "ws" && dataflow.value != "is") {
      throw InputError(at(dataflow) + ": expected os, ws or is (lower case, as SCALE-Sim compares it), got " +
                       quote_text(dataflow.value));
    }
    doc["array"] = {{"rows", integer(rows, 1)}, {"cols", integer(cols, 1)}, {"dataflow", dataflow.value}, {"lanes", 1},
                    {"timing", "scalesim"},     {"fidelity", "tile"}};
    out.origins.push_back({"$.array.rows", at(rows)});
    out.origins.push_back({"$.array.cols", at(cols)});
    doc["formats"] = {{"weight", "int8"}, {"activation", "int8"}, {"accumulator", "int32"}};
    check_timing_model();
    const bool user = user_bandwidth();
    const std::int64_t edge = std::max(integer(rows, 1), integer(cols, 1));
    nlohmann::json sram;
    for (const auto& [buffer, key] : {std::pair{"ifmap", "IfmapSramSzkB"}, std::pair{"weight", "FilterSramSzkB"},
                                      std::pair{"ofmap", "OfmapSramSzkB"}}) {
      const Entry& kb = require("architecture_presets", key);
      sram[buffer] = sram_json(integer(kb, 1), edge);
      out.origins.push_back({std::string("$.memory.sram.") + buffer + ".kb", at(kb)});
    }
    if (user) {
      const auto [bytes_per_cycle, origin] = bandwidth();
      doc["memory"] = {{"sram", sram},
                       {"dram", {{"preset", "ideal"}, {"bandwidth_gbps", bytes_per_cycle}, {"latency_ns", 0}}}};
      out.origins.push_back({"$.memory.dram.bandwidth_gbps", origin});
    }
    doc["description"] = "SCALE-Sim config " + std::filesystem::path(file_).filename().string() + " (" +
                         (user ? "USER" : "CALC") + " bandwidth" +
                         (user ? ")" : ": the array never waits for memory, as in SCALE-Sim's CALC mode)");
    return out;
  }

 private:
  std::string where(std::size_t line) const { return file_ + ":" + std::to_string(line); }
  std::string at(const Entry& entry) const { return where(entry.line) + ": " + entry.key; }

  const Entry* find(const std::string& section, const std::string& key) const {
    const auto s = sections_.find(section);
    if (s == sections_.end()) return nullptr;
    const auto e = s->second.entries.find(lower(key));
    return e == s->second.entries.end() ? nullptr : &e->second;
  }

  const Entry& require(const std::string& section, const std::string& key) const {
    if (const Entry* entry = find(section, key)) return *entry;
    const auto s = sections_.find(section);
    throw InputError((s == sections_.end() ? file_ + ": expected a [" + section + "] section with "
                                           : where(s->second.line) + ": expected [" + section + "] to have ") +
                     key + " (SCALE-Sim requires it), got none");
  }

  std::int64_t integer(const Entry& entry, std::int64_t min) const {
    const auto value = python_int(entry.value);
    if (!value || *value < min) {
      throw InputError(at(entry) + ": expected an integer of at least " + std::to_string(min) + ", got " +
                       quote_text(entry.value) + describe_unusual_characters(entry.value, entry.value_column));
    }
    return *value;
  }

  // configparser's getboolean().
  bool boolean(const Entry& entry) const {
    const std::string v = lower(entry.value);
    if (v == "1" || v == "yes" || v == "true" || v == "on") return true;
    if (v == "0" || v == "no" || v == "false" || v == "off") return false;
    throw InputError(at(entry) + ": expected true or false (or yes/no, on/off, 1/0), got " + quote_text(entry.value));
  }

  static std::string off_feature(const std::string& key) {
    if (key.find("layout") != std::string::npos) return "SCALE-Sim's custom SRAM bank layouts";
    if (key == "useramulatortrace") return "Ramulator DRAM traces; npusim has its own DRAM model";
    return "SCALE-Sim's sparsity support";
  }

  void check_timing_model() const {
    const Entry* model = find("run_presets", "TimeLinearModel");
    if (model && model->value != "None") {
      throw InputError(at(*model) + ": expected None, got " + quote_text(model->value) +
                       " (npusim does not model SCALE-Sim's TPU time linear models)");
    }
  }

  bool user_bandwidth() const {
    const Entry& mode = require("run_presets", "InterfaceBandwidth");
    if (mode.value != "USER" && mode.value != "CALC") {
      throw InputError(at(mode) + ": expected USER or CALC (upper case, as SCALE-Sim compares it), got " +
                       quote_text(mode.value));
    }
    return mode.value == "USER";
  }

  // USER mode: the one DRAM interface's words (bytes) per cycle, as GB/s at 1 GHz.
  std::pair<std::int64_t, std::string> bandwidth() const {
    if (const Entry* banks = find("architecture_presets", "MemoryBanks"); banks && integer(*banks, 1) != 1) {
      throw InputError(at(*banks) + ": expected 1, got " + quote_text(banks->value) +
                       " (npusim models one DRAM interface)");
    }
    const Entry& entry = require("architecture_presets", "Bandwidth");
    if (entry.value.find(',') != std::string::npos) {
      throw InputError(at(entry) + ": expected one bandwidth (npusim models one DRAM interface), got " +
                       quote_text(entry.value));
    }
    return {integer(entry, 1), at(entry)};
  }

  // SCALE-Sim's SRAMs never hold the array up; npusim's move banks x
  // word_bytes per cycle each way. 4 bytes (an int32 accumulator) per PE of
  // the array's longer edge keeps every buffer off the critical path: AlexNet
  // Conv1, WS, 32x32, USER 10 B/cycle stalls 0 cycles on SRAM so, and 192,280
  // at 1 byte per PE. Banks of at most 1024-byte words.
  static nlohmann::json sram_json(std::int64_t kb, std::int64_t edge) {
    const std::int64_t bytes_per_cycle = 4 * edge;
    const std::int64_t banks = (bytes_per_cycle + 1023) / 1024;
    return {{"kb", kb}, {"banks", banks}, {"word_bytes", (bytes_per_cycle + banks - 1) / banks}};
  }

  std::string file_;
  std::map<std::string, Section> sections_;
};

}  // namespace

bool is_scalesim_cfg_path(const std::string& path) {
  return lower(std::filesystem::path(path).extension().string()) == ".cfg";
}

TranslatedConfig read_scalesim_cfg(const std::string& path) {
  CfgReader reader(path, parse_ini(read_file_bounded(path, kMaxTextInputBytes, "SCALE-Sim config"), path));
  reader.check_known();
  return reader.translate();
}

std::string locate_in_cfg(const std::string& message, const std::string& file,
                          const std::vector<ConfigOrigin>& origins) {
  for (const ConfigOrigin& origin : origins) {
    const std::string prefix = file + ": " + origin.json_path + ":";
    if (message.starts_with(prefix)) return origin.where + message.substr(prefix.size() - 1);
  }
  return message;
}

}  // namespace npusim
