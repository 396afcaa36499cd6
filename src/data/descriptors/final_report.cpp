// The report's closing parts: who stands for each dropped column, association with each target.
#include <map>

#include "survivors.hpp"

namespace safetrain::data::descriptors {
namespace {

// Follows partners through later drops to a kept column ("" when the drop had no partner).
std::string stand_in(const std::string& column, const std::map<std::string, const ColumnDecision*>& by_name) {
  std::string at = column;
  for (size_t hops = 0; hops <= by_name.size(); ++hops) {
    const auto it = by_name.find(at);
    if (it == by_name.end()) return "";
    if (it->second->kept) return at;
    if (it->second->partner.empty()) return "";
    at = it->second->partner;
  }
  return "";
}

}  // namespace

void complete_report(PipelineResult& result, const DescriptorOptions& o, const Survivors* survivors) {
  std::map<std::string, const ColumnDecision*> by_name;
  for (const auto& d : result.decisions) by_name[d.column] = &d;
  nlohmann::json columns = nlohmann::json::array();
  for (auto& d : result.decisions) {
    if (!d.kept) d.represented_by = stand_in(d.column, by_name);
    columns.push_back({{"column", d.column},
                       {"kept", d.kept},
                       {"pass", d.pass},
                       {"reason", d.reason},
                       {"partner", d.partner},
                       {"represented_by", d.represented_by}});
  }
  result.report["kept_columns"] = result.kept_columns;
  result.report["columns"] = columns;
  if (survivors && survivors->target_rho.defined()) {
    nlohmann::json association = nlohmann::json::object();
    const auto rho = survivors->target_rho.contiguous();
    for (size_t i = 0; i < survivors->names.size(); ++i) {
      nlohmann::json per_target = nlohmann::json::object();
      for (size_t t = 0; t < o.targets.size(); ++t) {
        per_target[o.targets[t]] = rho[static_cast<int64_t>(i)][static_cast<int64_t>(t)].item<double>();
      }
      association[survivors->names[i]] = per_target;
    }
    result.report["target_association"] = association;  // signed Spearman rho; the order uses max |rho|
  }
  result.report["settings"] = fields::to_json(o);  // numbers as numbers, from the options' field list
}

}  // namespace safetrain::data::descriptors
