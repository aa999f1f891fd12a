#include "models/model_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "models/input_error.h"
#include "models/network_json.h"
#include "models/onnx/onnx_import.h"
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

std::vector<LoadedModel> load_models(const std::string& path, const GraphCheck& check) {
  const std::string extension = lower_extension(path);
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
    models.push_back(load_onnx_model(path));
    if (check) check({&models.back().graph});  // its weights are the file's, bounded by its size
  } else {
    throw InputError(path + ": unknown model file extension '" + extension +
                     "' (expected .json (npusim network), .onnx (ONNX model) or .csv (SCALE-Sim topology))");
  }
  return models;
}

}  // namespace npusim
