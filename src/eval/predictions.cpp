#include "safetrain/eval/predictions.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "csv_table.hpp"
#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/common/error.hpp"

namespace safetrain::eval {
namespace {

void append_number(std::string& out, double v) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);  // float32 round-trips with 9 significant digits
  out += buffer;
}

const std::string kTrueSuffix = "_true", kPredSuffix = "_pred";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void write_predictions_csv(const BufferedOutputs& outputs, const std::vector<std::string>& target_names,
                           const std::filesystem::path& csv, const TextColumns* ids) {
  const int64_t n = outputs.size(), dims = static_cast<int64_t>(target_names.size());
  if (n > 0 && (outputs.predictions.size(1) != dims || outputs.targets.size(1) != dims)) {
    throw std::invalid_argument("write_predictions_csv: outputs have " + std::to_string(outputs.predictions.size(1)) +
                                " columns but " + std::to_string(dims) + " target names");
  }
  std::string text = "row_id";
  const size_t id_columns = ids ? ids->names.size() : 0;
  for (size_t c = 0; c < id_columns; ++c) text += "," + text::csv_field(ids->names[c]);
  for (const auto& name : target_names) text += "," + text::csv_field(name + kTrueSuffix) + "," + text::csv_field(name + kPredSuffix);
  text += "\n";
  if (n > 0) {
    const torch::Tensor p = outputs.predictions.to(torch::kDouble).contiguous();
    const torch::Tensor y = outputs.targets.to(torch::kDouble).contiguous();
    const torch::Tensor rows = outputs.row_ids.to(torch::kLong).contiguous();
    const double* pp = p.data_ptr<double>();
    const double* yp = y.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = rows.data_ptr<int64_t>()[i];
      text += std::to_string(row);
      for (size_t c = 0; c < id_columns; ++c) {
        const auto& column = ids->values[c];
        text += "," + (row >= 0 && static_cast<size_t>(row) < column.size() ? text::csv_field(column[row]) : std::string());
      }
      for (int64_t j = 0; j < dims; ++j) {
        text += ',';
        append_number(text, yp[i * dims + j]);
        text += ',';
        append_number(text, pp[i * dims + j]);
      }
      text += '\n';
    }
  }
  if (csv.has_parent_path()) std::filesystem::create_directories(csv.parent_path());
  write_file_atomically(csv, text);
}

void write_metrics_json(const nlohmann::json& metrics, const std::filesystem::path& path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  // nlohmann::json already writes NaN/inf as null.
  write_file_atomically(path, metrics.dump(2) + "\n");
}

PredictionsFile read_predictions_csv(const std::filesystem::path& csv) {
  const CsvTable table = CsvTable::read(csv);
  const auto& header = table.header();
  // Id columns (data.id_columns) sit between row_id and the first <name>_true column.
  size_t first_pair = 1;
  while (first_pair < header.size() && !ends_with(header[first_pair], kTrueSuffix)) ++first_pair;
  if (header.empty() || header[0] != "row_id" || header.size() < first_pair + 2 || (header.size() - first_pair) % 2) {
    throw InputError(csv.string() + ":1: expected header row_id,[id columns,]<name>_true,<name>_pred,...");
  }
  PredictionsFile file;
  for (size_t c = first_pair; c < header.size(); c += 2) {
    if (!ends_with(header[c], kTrueSuffix) || !ends_with(header[c + 1], kPredSuffix) ||
        header[c].substr(0, header[c].size() - kTrueSuffix.size()) !=
            header[c + 1].substr(0, header[c + 1].size() - kPredSuffix.size())) {
      throw InputError(csv.string() + ":1:" + std::to_string(c + 1) + ": expected a '<name>_true,<name>_pred' pair, got '" +
                       header[c] + "," + header[c + 1] + "'");
    }
    file.target_names.push_back(header[c].substr(0, header[c].size() - kTrueSuffix.size()));
  }
  const auto n = static_cast<int64_t>(table.rows());
  const auto dims = static_cast<int64_t>(file.target_names.size());
  auto& out = file.outputs;
  out.predictions = torch::empty({n, dims}, torch::kFloat);
  out.targets = torch::empty({n, dims}, torch::kFloat);
  out.row_ids = torch::empty({n}, torch::kLong);
  out.seen = n;
  for (int64_t i = 0; i < n; ++i) {
    const double id = table.number(i, 0);
    if (!std::isfinite(id)) throw InputError(csv.string() + ": row " + std::to_string(i + 1) + ": missing row_id");
    out.row_ids.data_ptr<int64_t>()[i] = static_cast<int64_t>(id);
    for (int64_t j = 0; j < dims; ++j) {
      const auto column = first_pair + 2 * static_cast<size_t>(j);
      out.targets.data_ptr<float>()[i * dims + j] = static_cast<float>(table.number(i, column));
      out.predictions.data_ptr<float>()[i * dims + j] = static_cast<float>(table.number(i, column + 1));
    }
  }
  return file;
}

}  // namespace safetrain::eval
