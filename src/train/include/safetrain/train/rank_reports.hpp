#pragma once
// memory_report.json of a data-parallel run, from every rank's own report (rank order): rank 0's report
// stays at the top level (the single-process fields), "ranks" lists each rank's peaks, growth and
// verdict, "worst_rank" names the rank judged worst and "verdict" is that rank's verdict.
#include <nlohmann/json.hpp>
#include <vector>

namespace safetrain::train {

nlohmann::json combine_rank_reports(const std::vector<nlohmann::json>& reports);

}  // namespace safetrain::train
