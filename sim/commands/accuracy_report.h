// `npusim accuracy`'s outputs: the text table, the JSON (schema
// npusim.accuracy/1) and the CSV, from the runs of sim/commands/accuracy_runs.h.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/commands/accuracy_command.h"
#include "sim/commands/accuracy_runs.h"

namespace npusim {

struct AccuracySummary {
  std::string config_name;
  std::int64_t images = 0;  // test images run
  std::int64_t calibration_images = 0;
  std::vector<ModelResult> models;
};

// The header lines, the table (one line per model and format) and its legend.
void print_accuracy_report(std::ostream& out, const AccuracyOptions& options, const AccuracySummary& summary);

// The JSON document, ending in a newline. With options.logits each model has
// "fp32_reference_logits" and each row "logits": one list per image, in
// test-set order, of the network output as float32 (integer outputs
// dequantized as DequantizeLinear does), each number the shortest decimal
// that reads back as the same float32.
std::string accuracy_json(const AccuracyOptions& options, const AccuracySummary& summary);

std::string accuracy_csv(const AccuracySummary& summary);

}  // namespace npusim
