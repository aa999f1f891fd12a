#include "sim/cli/cli_common.h"

#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace npusim::cli {

namespace {

std::string number_text(double value) {
  std::ostringstream text;
  text << value;  // shortest: "1e+12", "0.5", "nan"
  return text.str();
}

}  // namespace

double option_double(const po::variables_map& values, const std::string& name, double min, double max,
                     const std::string& what) {
  const double value = values[name].as<double>();
  if (!std::isfinite(value) || value < min || value > max) {
    throw OptionValueError("--" + name + " expects " + what + " in [" + number_text(min) + ", " + number_text(max) +
                           "], got " + number_text(value));
  }
  return value;
}

std::int64_t option_int(const po::variables_map& values, const std::string& name, std::int64_t min, std::int64_t max,
                        const std::string& what) {
  const po::variable_value& v = values[name];
  const std::int64_t value = v.value().type() == typeid(int) ? v.as<int>() : v.as<std::int64_t>();
  if (value < min || value > max) {
    throw OptionValueError("--" + name + " expects " + what + " in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "], got " + std::to_string(value));
  }
  return value;
}

std::optional<po::variables_map> parse_subcommand(const std::vector<std::string>& args,
                                                  const po::options_description& description,
                                                  const std::string& command, const std::string& summary,
                                                  const std::vector<std::string>& required) {
  po::variables_map values;
  const po::positional_options_description no_positionals;
  po::store(po::command_line_parser(args).options(description).positional(no_positionals).run(), values);
  po::notify(values);
  if (values.count("help")) {
    std::cout << summary << "\n\n" << description;
    return std::nullopt;
  }
  for (const std::string& option : required) {
    if (!values.count(option)) {
      throw UsageError("the option '--" + option + "' is required (try npusim " + command + " --help)");
    }
  }
  return values;
}

// npusim's calibration options (models/quant/quantize.h), shared by run and compare.
po::options_description quantization_options_description() {
  po::options_description options("quantization (integer formats; not for a model file that is already quantized)");
  // clang-format off
  options.add_options()
      ("calibration", po::value<std::string>()->value_name("minmax|percentile|mse"),
       "how activation ranges are chosen (default minmax)")
      ("percentile", po::value<double>()->value_name("P"),
       "with --calibration percentile: keep P % of the values at each end, 50 < P <= 100 (default 99.99)")
      ("per-tensor-weights", "one weight scale per tensor instead of one per output channel")
      ("calibration-samples", po::value<int>()->value_name("N"),
       "calibrate on N seeded sample inputs (default 1; the run uses the first)")
      ("eight-bit-ends", po::value<std::string>()->value_name("none|binary_only|narrow"),
       "run the first and last compute layers at W8A8: never, for binary formats (default), "
       "or for any format narrower than W8A8")
      ("eight-bit-layers", po::value<std::string>()->value_name("a,b,..."),
       "further conv2d/fc layers to run at W8A8");
  // clang-format on
  return options;
}

npusim::QuantizationOptions read_quantization_options(const po::variables_map& values) {
  npusim::QuantizationOptions q;
  if (values.count("calibration")) {
    const std::string method = values["calibration"].as<std::string>();
    if (method == "minmax") {
      q.method = npusim::CalibrationMethod::min_max;
    } else if (method == "percentile") {
      q.method = npusim::CalibrationMethod::percentile;
    } else if (method == "mse") {
      q.method = npusim::CalibrationMethod::mse;
    } else {
      throw OptionValueError("--calibration expects minmax, percentile or mse, got '" + method + "'");
    }
  }
  if (values.count("percentile")) {
    if (q.method != npusim::CalibrationMethod::percentile) {
      throw UsageError("--percentile goes with --calibration percentile");
    }
    q.percentile = values["percentile"].as<double>();
    if (!(q.percentile > 50.0 && q.percentile <= 100.0)) {
      std::ostringstream got;
      got << q.percentile;
      throw OptionValueError("--percentile expects a share in (50, 100], got " + got.str());
    }
  }
  q.per_channel = values.count("per-tensor-weights") == 0;
  if (values.count("calibration-samples")) {
    // The resource estimate (sim/commands/resource_estimate.h) bounds it by the work and memory it asks for.
    q.calibration_samples = static_cast<int>(option_int(values, "calibration-samples", 1, 1 << 30, "a count"));
  }
  if (values.count("eight-bit-ends")) {
    const std::string ends = values["eight-bit-ends"].as<std::string>();
    if (ends == "none") {
      q.eight_bit_ends = npusim::EightBitEnds::none;
    } else if (ends == "binary_only") {
      q.eight_bit_ends = npusim::EightBitEnds::binary_only;
    } else if (ends == "narrow") {
      q.eight_bit_ends = npusim::EightBitEnds::narrow;
    } else {
      throw OptionValueError("--eight-bit-ends expects none, binary_only or narrow, got '" + ends + "'");
    }
  }
  if (values.count("eight-bit-layers")) {
    std::stringstream list(values["eight-bit-layers"].as<std::string>());
    for (std::string name; std::getline(list, name, ',');) {
      if (name.empty()) throw OptionValueError("--eight-bit-layers expects a comma-separated list of layer names");
      q.eight_bit_layers.push_back(name);
    }
    if (q.eight_bit_layers.empty())
      throw OptionValueError("--eight-bit-layers expects a comma-separated list of layer names");
  }
  return q;
}

}  // namespace npusim::cli
