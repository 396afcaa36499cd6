// The pipeline's files and its cache key.
#include <functional>
#include <sstream>

#include "passes.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/field_list.hpp"

namespace fs = std::filesystem;

namespace safetrain::data::descriptors {

void write_outputs(const PipelineResult& result, const fs::path& output_dir) {
  fs::create_directories(output_dir);
  std::ostringstream list;
  for (const auto& c : result.kept_columns) list << c << '\n';
  write_file_atomically(output_dir / "selected_columns.txt", list.str());
  write_file_atomically(output_dir / "selected_columns.json", nlohmann::json(result.kept_columns).dump(2) + "\n");
  write_file_atomically(output_dir / "report.json", result.report.dump(2) + "\n");
  std::ostringstream clusters;
  clusters << "column,community,representative\n";
  for (const auto& a : result.clusters) {
    clusters << text::csv_field(a.column) << ',' << a.community << ',' << text::csv_field(a.representative) << '\n';
  }
  write_file_atomically(output_dir / "clusters.csv", clusters.str());
}

// The key hashes the table (fingerprint, columns) and the options' setting fields as their field list writes
// them, so a new setting changes it with no edit here. The version leads the hashed text: a cache written under
// an earlier key scheme (v4 listed the options by hand) is never matched, so it is rebuilt, not misread.
std::string cache_key(const TableSource& source, const DescriptorOptions& o) {
  const nlohmann::json keyed = {{"key_version", kCacheKeyVersion},
                                {"table", source.fingerprint()},
                                {"columns", source.columns()},
                                {"options", fields::result_key_json(o)}};
  std::ostringstream hashed;
  hashed << std::hex << std::hash<std::string>{}(keyed.dump());
  return hashed.str();
}

}  // namespace safetrain::data::descriptors
