#include "sim/sweep/sweep_key.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "models/input_error.h"
#include "sim/report/report.h"

namespace npusim {

std::uint64_t fnv1a_64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex64(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::uint64_t file_fnv1a_64(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return fnv1a_64(bytes);
}

nlohmann::json point_identity(const AcceleratorConfig& config, const std::string& network_path,
                              std::uint64_t network_hash, const std::vector<std::string>& run_args) {
  // Through a string so the ordered document becomes a key-sorted one.
  nlohmann::json identity;
  identity["config"] = nlohmann::json::parse(to_json(config).dump());
  identity["network"] = {{"path", network_path}, {"fnv1a64", hex64(network_hash)}};
  identity["options"] = {{"report", kRunReportSchema}};
  if (!run_args.empty()) identity["options"]["run_args"] = run_args;
  return identity;
}

std::string point_key(const nlohmann::json& identity) { return hex64(fnv1a_64(identity.dump())); }

}  // namespace npusim
