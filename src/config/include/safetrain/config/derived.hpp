#pragma once
// What a library receives from a Config beyond its own section, derived in
// one place, so the trainer and the tools cannot disagree (descriptor_pipeline
// --config C and the trainer's descriptor stage get the same options).
#include <string>
#include <vector>

#include "safetrain/config/config.hpp"

namespace safetrain::config {

// The target columns of a table with these column names under data.targets (a list, or every column with the
// prefix; none when both are empty). InputError naming data.targets when a listed name is missing or no column
// has the prefix.
// Whether `column` is a target under the data.targets rule (listed names, else the prefix).
bool is_target_column(const data::TargetColumns& targets, const std::string& column);
std::vector<std::string> target_names(const data::TargetColumns& targets, const std::vector<std::string>& columns,
                                      const std::string& source);

// How the CSV reader treats each column: ids and ignored columns from data.*, targets and listed features
// required numeric (text there is an error), any other text column skipped.
data::CsvColumnRoles csv_roles(const Config& config);

// descriptors.* plus the run's seed and the table's targets (never pruned).
data::descriptors::DescriptorOptions descriptor_options(const Config& config, const std::vector<std::string>& columns,
                                                        const std::string& source);

}  // namespace safetrain::config
