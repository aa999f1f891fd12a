#include "sim/commands/accuracy_preprocess.h"

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "models/input_error.h"
#include "models/json_reader.h"

namespace npusim {
namespace {

double finite_number(const nlohmann::json& doc, const char* key, const std::string& path) {
  if (!doc.contains(key) || !doc[key].is_number() || !std::isfinite(doc[key].get<double>())) {
    throw InputError(path + ": $." + key + ": expected a finite number");
  }
  return doc[key].get<double>();
}

// $.mean or $.std: absent (empty), or one finite number per channel (std: > 0).
std::vector<double> channel_list(const nlohmann::json& doc, const char* key, const std::string& path,
                                 const std::string& model_path, std::int64_t channels, bool positive) {
  if (!doc.contains(key)) return {};
  const nlohmann::json& list = doc[key];
  const std::string expected = "expected a list of " + std::to_string(channels) + (positive ? " positive" : "") +
                               " finite numbers, one per input channel of " + model_path;
  if (!list.is_array()) throw InputError(path + ": $." + key + ": " + expected + ", got " + describe_json(list));
  if (static_cast<std::int64_t>(list.size()) != channels) {
    throw InputError(path + ": $." + key + ": " + expected + ", got " + std::to_string(list.size()));
  }
  std::vector<double> values;
  for (std::size_t c = 0; c < list.size(); ++c) {
    const bool ok =
        list[c].is_number() && std::isfinite(list[c].get<double>()) && (!positive || list[c].get<double>() > 0.0);
    if (!ok) {
      throw InputError(path + ": $." + key + "[" + std::to_string(c) + "]: " + expected + ", got " +
                       describe_json(list[c]));
    }
    values.push_back(list[c].get<double>());
  }
  return values;
}

std::optional<double> torch_figure(const nlohmann::json& doc, const char* key) {
  if (!doc.contains("torch") || !doc["torch"].is_object()) return std::nullopt;
  const nlohmann::json& torch = doc["torch"];
  if (!torch.contains(key) || !torch[key].is_number()) return std::nullopt;
  return torch[key].get<double>();
}

}  // namespace

float Preprocess::apply(double pixel, std::size_t c) const {
  double x = pixel * scale + offset;
  if (!mean.empty()) x -= mean[c];
  if (!stddev.empty()) x /= stddev[c];
  return static_cast<float>(x);
}

std::string preprocess_path_for(const std::string& model_path) {
  std::filesystem::path path(model_path);
  return (path.parent_path() / (path.stem().string() + ".preprocess.json")).string();
}

Preprocess read_preprocess(const std::string& path, const std::string& model_path, std::int64_t channels) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw InputError(path + ": cannot open the preprocessing sidecar of " + model_path +
                     " (expected a JSON file with \"scale\" and \"offset\": x = pixel * scale + offset)");
  }
  const nlohmann::json doc = read_json_file(path);
  if (!doc.is_object() || !doc.contains("schema") || doc["schema"] != "npusim.preprocess/1") {
    throw InputError(path + ": $.schema: expected \"npusim.preprocess/1\"");
  }
  Preprocess p;
  p.scale = finite_number(doc, "scale", path);
  p.offset = finite_number(doc, "offset", path);
  if (!(p.scale != 0.0)) throw InputError(path + ": $.scale: expected a non-zero number");
  p.mean = channel_list(doc, "mean", path, model_path, channels, false);
  p.stddev = channel_list(doc, "std", path, model_path, channels, true);
  p.torch_fp32_accuracy = torch_figure(doc, "fp32_test_accuracy");
  p.torch_int8_accuracy = torch_figure(doc, "int8_test_accuracy");
  return p;
}

}  // namespace npusim
