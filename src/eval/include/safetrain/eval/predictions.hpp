#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "safetrain/eval/output_buffer.hpp"

#include "safetrain/common/text_columns.hpp"

namespace safetrain::eval {

// header: row_id,[<id column>,...]<name>_true,<name>_pred,... (names quoted per RFC 4180 when needed);
// written atomically. `ids` (values indexed by row_id) adds the source's id columns to each row.
void write_predictions_csv(const BufferedOutputs& outputs, const std::vector<std::string>& target_names,
                           const std::filesystem::path& csv, const TextColumns* ids = nullptr);

// Pretty-printed JSON, written atomically (NaN/inf become null).
void write_metrics_json(const nlohmann::json& metrics, const std::filesystem::path& path);

// Reads a file written by write_predictions_csv back: target names from the header, rows sorted
// as written. Throws InputError naming file/line/column on malformed input.
struct PredictionsFile {
  std::vector<std::string> target_names;
  BufferedOutputs outputs;
};
PredictionsFile read_predictions_csv(const std::filesystem::path& csv);

}  // namespace safetrain::eval
