#include "models/model_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "models/input_error.h"
#include "models/network_json.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_model.h"
#include "models/scalesim_csv.h"

namespace npusim {
namespace {

// The seed a network file gets when it names none (docs/network_format.md):
// a SCALE-Sim CSV has no field for it.
constexpr std::uint64_t kDefaultSeed = 1;

std::string lower_extension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

}  // namespace

std::pair<std::string, std::vector<std::int64_t>> parse_input_shape(const std::string& text) {
  const auto fail = [&text]() {
    throw std::invalid_argument("expected NAME=D0xD1x... with positive sizes, e.g. input=1x3x224x224, got '" + text +
                                "'");
  };
  const auto eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) fail();
  std::vector<std::int64_t> dims;
  std::size_t at = eq + 1;
  while (at <= text.size()) {
    const std::size_t x = std::min(text.find('x', at), text.size());
    const std::string digits = text.substr(at, x - at);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) fail();
    dims.push_back(std::stoll(digits));
    if (dims.back() <= 0) fail();
    at = x + 1;
  }
  return {text.substr(0, eq), dims};
}

std::vector<LoadedModel> load_models(const std::string& path, const GraphCheck& check,
                                     const ModelLoadOptions& options) {
  const std::string extension = lower_extension(path);
  if (!options.input_shapes.empty() && extension != ".onnx") {
    throw InputError(path + ": --input-shape applies to ONNX models only");
  }
  std::vector<LoadedModel> models;
  if (extension == ".json") {
    models.push_back(LoadedModel{load_network_json(path,
                                                   [&](const Graph& g) {
                                                     if (check) check({&g});
                                                   }),
                                 std::nullopt});
  } else if (extension == ".csv") {
    for (Graph& graph : load_scalesim_csv(path, kDefaultSeed, check)) {
      models.push_back(LoadedModel{std::move(graph), std::nullopt});
    }
    if (models.empty()) throw InputError(path + ": the SCALE-Sim topology has no layer rows");
  } else if (extension == ".onnx") {
    OnnxImportOptions onnx_options;
    onnx_options.input_shapes = options.input_shapes;
    models.push_back(import_onnx(path, onnx_options).model);
    if (check) check({&models.back().graph});  // its weights are the file's, bounded by its size
  } else {
    throw InputError(path + ": unknown model file extension '" + extension +
                     "' (expected .json (npusim network), .onnx (ONNX model) or .csv (SCALE-Sim topology))");
  }
  return models;
}

}  // namespace npusim
