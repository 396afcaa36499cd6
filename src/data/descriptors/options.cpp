// Range checks for the descriptors.* settings, each error naming its key.
#include <sstream>

#include "passes.hpp"
#include "safetrain/common/error.hpp"

namespace safetrain::data::descriptors {
namespace {

void require(bool ok, const char* key, double value, const char* range) {
  if (ok) return;
  std::ostringstream message;
  message << "descriptors." << key << ": " << value << " is out of range " << range;
  throw InputError(message.str());
}

}  // namespace

void validate_options(const DescriptorOptions& o) {
  require(o.batch_rows >= 1, "batch_rows", static_cast<double>(o.batch_rows), "[1, inf)");
  require(o.max_missing_fraction >= 0 && o.max_missing_fraction <= 1, "max_missing_fraction", o.max_missing_fraction,
          "[0, 1]");
  require(o.min_variance >= 0, "min_variance", o.min_variance, "[0, inf)");
  require(o.spearman_threshold > 0 && o.spearman_threshold <= 1, "spearman_threshold", o.spearman_threshold, "(0, 1]");
  require(o.leiden_resolution > 0, "leiden_resolution", o.leiden_resolution, "(0, inf)");
  require(o.hsic_sample_rows >= 10, "hsic_sample_rows", static_cast<double>(o.hsic_sample_rows), "[10, inf)");
  require(o.hsic_threshold > 0 && o.hsic_threshold <= 1, "hsic_threshold", o.hsic_threshold, "(0, 1]");
  require(o.rdc_k >= 1, "rdc_k", static_cast<double>(o.rdc_k), "[1, inf)");
  require(o.rdc_s > 0, "rdc_s", o.rdc_s, "(0, inf)");
  require(o.rdc_threshold > 0 && o.rdc_threshold <= 1, "rdc_threshold", o.rdc_threshold, "(0, 1]");
  require(o.max_working_mb >= 1, "max_working_mb", static_cast<double>(o.max_working_mb), "[1, inf)");
  parse_nan_policy(o.nan_policy);
}

}  // namespace safetrain::data::descriptors
