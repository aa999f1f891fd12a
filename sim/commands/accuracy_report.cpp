#include "sim/commands/accuracy_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "sim/report/text_table.h"

namespace npusim {
namespace {

using Json = nlohmann::ordered_json;

std::string percent(std::int64_t n, std::int64_t count) {
  return fixed(100.0 * static_cast<double>(n) / static_cast<double>(count), 2);
}

std::string sqnr_text(double db) { return std::isinf(db) ? std::string(db > 0 ? "inf" : "-inf") : fixed(db, 1); }

bool classes_fit_digits(const std::vector<std::size_t>& top1) {
  return std::all_of(top1.begin(), top1.end(), [](std::size_t c) { return c < 10; });
}

// One digit per image (classes below 10), in test-set order.
std::string predictions_text(const std::vector<std::size_t>& top1) {
  std::string text;
  text.reserve(top1.size());
  for (const std::size_t c : top1) text.push_back(static_cast<char>('0' + c));
  return text;
}

// `value` as the double nearest its shortest float32 decimal (std::to_chars),
// so the JSON shows "0.1", not 0.10000000149011612, and reads back as the
// same float32. NaN and infinity (not JSON numbers) become null.
Json json_float(float value) {
  if (!std::isfinite(value)) return nullptr;
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text - 1, value).ptr;
  *end = '\0';
  return std::strtod(text, nullptr);
}

Json logits_json(const std::vector<std::vector<float>>& logits) {
  Json images = Json::array();
  for (const auto& image : logits) {
    Json values = Json::array();
    for (const float v : image) values.push_back(json_float(v));
    images.push_back(std::move(values));
  }
  return images;
}

std::vector<std::vector<float>> as_floats(const std::vector<std::vector<double>>& outputs) {
  std::vector<std::vector<float>> floats;
  for (const auto& image : outputs) floats.emplace_back(image.begin(), image.end());  // fp32 values: exact
  return floats;
}

Json row_json(const FormatRow& row, std::int64_t images, bool logits) {
  Json j;
  j["format"] = row.format;
  j["mac"] = row.mac;
  j["quantization"] = row.source;
  j["correct"] = row.correct;
  j["top1_accuracy"] = rounded(static_cast<double>(row.correct) / static_cast<double>(images), 6);
  j["agree_fp32"] = row.agree;
  j["network_sqnr_db"] = std::isfinite(row.sqnr_db) ? Json(rounded(row.sqnr_db, 4)) : Json(nullptr);
  j["macs"] = row.macs;
  j["weight_bytes"] = row.weight_bytes;
  j["energy_uj"] = rounded(row.energy_uj, 6);
  j["latency_us"] = rounded(row.latency_us, 6);
  j["bit_exact"] = row.bit_exact;
  j["note"] = row.note;
  if (classes_fit_digits(row.top1)) j["predictions"] = predictions_text(row.top1);
  if (logits) j["logits"] = logits_json(row.logits);
  return j;
}

Json model_json(const ModelResult& r, std::int64_t images, bool logits) {
  Json m;
  m["name"] = r.name;
  m["file"] = r.path;
  m["macs"] = r.macs;
  m["preprocess"] = {{"scale", r.preprocess.scale}, {"offset", r.preprocess.offset}};
  if (!r.preprocess.mean.empty()) m["preprocess"]["mean"] = r.preprocess.mean;
  if (!r.preprocess.stddev.empty()) m["preprocess"]["std"] = r.preprocess.stddev;
  m["fp32_reference_correct"] = r.fp32_correct;
  if (classes_fit_digits(r.golden.top1)) m["fp32_reference_predictions"] = predictions_text(r.golden.top1);
  if (logits) m["fp32_reference_logits"] = logits_json(as_floats(r.golden.outputs));
  Json rows = Json::array();
  for (const auto& row : r.rows) rows.push_back(row_json(row, images, logits));
  m["rows"] = std::move(rows);
  return m;
}

void print_header(std::ostream& out, const AccuracyOptions& options, const AccuracySummary& s) {
  out << "npusim accuracy: " << s.images << " test images (" << options.images_path << "), calibration on the first "
      << s.calibration_images << " of " << options.calibration_images_path << " ("
      << to_string(options.quantization.method) << "), config " << s.config_name << "\n";
  for (const auto& r : s.models) {
    out << r.name << ": " << r.macs << " MACs; fp32 reference executor top-1 " << percent(r.fp32_correct, s.images)
        << " %";
    if (r.preprocess.torch_fp32_accuracy && !options.limit) {
      out << " (torch, from the training script: " << fixed(100.0 * *r.preprocess.torch_fp32_accuracy, 2) << " %)";
    }
    if (r.preprocess.torch_int8_accuracy && !options.limit) {
      out << "; torch's own int8 model " << fixed(100.0 * *r.preprocess.torch_int8_accuracy, 2) << " %";
    }
    out << "\n";
  }
  out << "\n";
}

}  // namespace

void print_accuracy_report(std::ostream& out, const AccuracyOptions& options, const AccuracySummary& s) {
  print_header(out, options, s);
  const std::vector<std::string> titles{"model",     "format",         "mac",     "top1_pct",
                                        "correct",   "agree_fp32_pct", "sqnr_db", "weight_bytes",
                                        "energy_uj", "latency_us",     "check",   "note"};
  std::vector<std::vector<std::string>> table;
  for (const auto& r : s.models) {
    for (const auto& row : r.rows) {
      table.push_back({r.name, row.format, row.mac, percent(row.correct, s.images), std::to_string(row.correct),
                       percent(row.agree, s.images), sqnr_text(row.sqnr_db), std::to_string(row.weight_bytes),
                       fixed(row.energy_uj, 4), fixed(row.latency_us, 3), row.bit_exact ? "bit-exact" : "MISMATCH",
                       row.note});
    }
  }
  auto columns = table_columns(titles, 3);
  columns[10].numeric = false;
  columns[11].numeric = false;
  print_table(out, columns, table);
  out << "\nagree_fp32_pct: top-1 equal to the fp32 reference executor's; sqnr_db: network output against fp32, "
         "over all images; energy_uj, latency_us: one inference (the first image, with the config's memory); "
         "check: that run against the reference executor\n";
  out.flush();
}

std::string accuracy_json(const AccuracyOptions& options, const AccuracySummary& s) {
  Json json;
  json["schema"] = "npusim.accuracy/1";
  json["config"] = s.config_name;
  json["test_images"] = {{"images", options.images_path}, {"labels", options.labels_path}, {"count", s.images}};
  json["calibration"] = {{"images", options.calibration_images_path},
                         {"count", s.calibration_images},
                         {"method", std::string(to_string(options.quantization.method))},
                         {"per_channel_weights", options.quantization.per_channel}};
  Json models = Json::array();
  for (const auto& r : s.models) models.push_back(model_json(r, s.images, options.logits));
  json["models"] = std::move(models);
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string accuracy_csv(const AccuracySummary& s) {
  std::string csv =
      "model,format,mac,top1_pct,correct,images,agree_fp32_pct,sqnr_db,macs,weight_bytes,energy_uj,"
      "latency_us,bit_exact,note\n";
  for (const auto& r : s.models) {
    for (const auto& row : r.rows) {
      csv += r.name + "," + row.format + "," + row.mac + "," + percent(row.correct, s.images) + "," +
             std::to_string(row.correct) + "," + std::to_string(s.images) + "," + percent(row.agree, s.images) + "," +
             (std::isfinite(row.sqnr_db) ? fixed(row.sqnr_db, 4) : std::string()) + "," + std::to_string(row.macs) +
             "," + std::to_string(row.weight_bytes) + "," + fixed(row.energy_uj, 6) + "," + fixed(row.latency_us, 6) +
             "," + (row.bit_exact ? "true" : "false") + ",\"" + row.note + "\"\n";
    }
  }
  return csv;
}

}  // namespace npusim
