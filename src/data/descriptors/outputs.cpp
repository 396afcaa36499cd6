// The pipeline's files and its cache key.
#include <functional>
#include <sstream>

#include "passes.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/common/atomic_file.hpp"

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

std::string cache_key(const TableSource& source, const DescriptorOptions& o) {
  std::ostringstream text;
  text.precision(17);
  text << "v4|" << source.fingerprint() << '|' << o.max_missing_fraction << '|' << o.min_variance << '|' << o.spearman
       << '|' << o.spearman_threshold << '|' << o.leiden_resolution << '|' << o.nan_policy << '|' << o.hsic << '|'
       << o.hsic_sample_rows << '|' << o.hsic_threshold << '|' << o.rdc << '|' << o.rdc_k << '|' << o.rdc_s << '|'
       << o.rdc_threshold << '|' << o.seed;
  for (const auto& t : o.targets) text << "|t:" << t;
  for (const auto& k : o.keep) text << "|k:" << k;
  for (const auto& c : source.columns()) text << "|c:" << c;
  std::ostringstream hashed;
  hashed << std::hex << std::hash<std::string>{}(text.str());
  return hashed.str();
}

}  // namespace safetrain::data::descriptors
