// `npusim accuracy`: its options, into AccuracyOptions.
#include "sim/cli/cli_common.h"

#include <unistd.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/commands/accuracy_command.h"

namespace npusim::cli {

int accuracy_main(const std::vector<std::string>& args) {
  po::options_description description("npusim accuracy --config C.json --model M.onnx [--model M2.onnx ...] [options]");
  npusim::AccuracyOptions defaults;
  // clang-format off
  description.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>()->value_name("C.json"), "accelerator config (required)")
      ("model", po::value<std::vector<std::string>>()->composing()->value_name("M.onnx"),
       "classifier, any C x H x W input (repeatable; required); its preprocessing (scale, offset, per-channel "
       "mean and std) comes from M.preprocess.json beside it")
      ("images", po::value<std::string>()->value_name("T.gz|T.npy"),
       ("test images: IDX (gzip'd or plain) or .npy (uint8 or float32, N x C x H x W or N x H x W x C); default " +
        defaults.images_path).c_str())
      ("labels", po::value<std::string>()->value_name("L.gz|L.npy"),
       ("test labels: IDX or .npy (integers, N); default " + defaults.labels_path).c_str())
      ("calibration-images", po::value<std::string>()->value_name("TR.gz|TR.npy"),
       ("calibration images (training set), IDX or .npy; default " + defaults.calibration_images_path).c_str())
      ("calibration-count", po::value<std::int64_t>()->value_name("N"), "calibrate on the first N of them (default 256)")
      ("limit", po::value<std::int64_t>()->value_name("N"), "run only the first N test images")
      ("formats", po::value<std::string>()->value_name("fp32,int8,..."),
       "formats to run, weight = activation (default fp32,fp16,int8,int4,binary); `file` runs a "
       "quantized model's own scales (first by default when the model has them)")
      ("set", po::value<std::vector<std::string>>()->composing()->value_name("key=value"),
       "override a config field (repeatable)")
      ("threads", po::value<int>()->value_name("N"), "worker threads (default: one per hardware thread)")
      ("json", po::value<std::string>()->value_name("out.json"),
       "also write the table as JSON (schema npusim.accuracy/1, with each row's per-image predictions)")
      ("logits", "with --json, also write every image's logits (float32) for the fp32 reference and each row")
      ("csv", po::value<std::string>()->value_name("out.csv"), "also write the table as CSV");
  // clang-format on
  description.add(quantization_options_description());
  const auto parsed =
      parse_subcommand(args, description, "accuracy",
                       "Top-1 accuracy of a classifier on a labelled test set through the modeled NPU, per format.",
                       {"config", "model"});
  if (!parsed) return 0;
  const po::variables_map& values = *parsed;
  if (values.count("calibration-samples")) {
    throw UsageError("accuracy calibrates on training images: use --calibration-count, not --calibration-samples");
  }
  npusim::AccuracyOptions options;
  options.config_path = values["config"].as<std::string>();
  options.model_paths = values["model"].as<std::vector<std::string>>();
  if (values.count("images")) options.images_path = values["images"].as<std::string>();
  if (values.count("labels")) options.labels_path = values["labels"].as<std::string>();
  if (values.count("calibration-images"))
    options.calibration_images_path = values["calibration-images"].as<std::string>();
  if (values.count("calibration-count")) {
    options.calibration_count = values["calibration-count"].as<std::int64_t>();
    if (options.calibration_count < 1) throw OptionValueError("--calibration-count expects a positive count");
  }
  if (values.count("limit")) {
    options.limit = values["limit"].as<std::int64_t>();
    if (*options.limit < 1) throw OptionValueError("--limit expects a positive count");
  }
  if (values.count("formats")) {
    options.formats.clear();
    std::stringstream list(values["formats"].as<std::string>());
    for (std::string item; std::getline(list, item, ',');) {
      if (item.empty()) throw OptionValueError("--formats expects a comma-separated list of formats");
      options.formats.push_back(item);
    }
    if (options.formats.empty()) throw OptionValueError("--formats expects a comma-separated list of formats");
  }
  if (values.count("set")) options.set_overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("threads")) {
    options.threads = values["threads"].as<int>();
    if (options.threads < 1) throw OptionValueError("--threads expects a positive count");
  }
  options.quantization = read_quantization_options(values);
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  options.logits = values.count("logits") > 0;
  if (options.logits && !options.json_path) throw UsageError("--logits needs --json FILE (the logits go in the JSON)");
  if (values.count("csv")) options.csv_path = values["csv"].as<std::string>();
  options.show_progress = isatty(STDERR_FILENO) != 0;
  return npusim::accuracy_command(options, std::cout, std::cerr);
}

}  // namespace npusim::cli
