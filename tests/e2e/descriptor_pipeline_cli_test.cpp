// descriptor_pipeline on a chemist's table of descriptors alone: no targets, a numeric id, a text column.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// mol_id: unique increasing integers (numeric, so read as a number unless named an id); smiles: text;
// d1..d3 unrelated descriptors; d4 = 2 * d1 (redundant); y: a column a config may name as a target.
fs::path descriptor_table(const fs::path& dir) {
  const fs::path csv = dir / "descriptors.csv";
  std::ofstream out(csv);
  out << "mol_id,smiles,d1,d2,d3,d4,y\n";
  for (int i = 0; i < 300; ++i) {
    const double a = std::sin(i * 0.7), b = std::cos(i * 1.3), c = ((i * 7) % 11) * 0.1;
    out << 5000 + i << ",C" << std::string(1 + i % 5, 'C') << "O," << a << ',' << b << ',' << c << ',' << 2 * a
        << ',' << a + 0.01 * b << '\n';
  }
  return csv;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

Result prune(const fs::path& dir, std::vector<std::string> more) {
  std::vector<std::string> args{"descriptor_pipeline", "--input", (dir / "descriptors.csv").string(), "--output-dir",
                                (dir / "out").string()};
  args.insert(args.end(), more.begin(), more.end());
  return run(args);
}

}  // namespace

TEST(DescriptorPipelineCli, PrunesATableWithoutTargets) {
  // Regression: the synthetic arm's default targets [x, y, z, ...] applied: "data.targets: column 'x' is not in".
  const auto dir = scratch("descriptor_cli_no_targets");
  descriptor_table(dir);
  const auto r = prune(dir, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto selected = read_lines(dir / "out" / "selected_columns.txt");
  const auto kept = [&](const std::string& name) { return std::count(selected.begin(), selected.end(), name) == 1; };
  EXPECT_NE(kept("d1"), kept("d4"));  // d4 = 2 * d1: one stands for both
  EXPECT_TRUE(kept("d2") && kept("d3"));
  EXPECT_NE(read_text(dir / "out" / "report.json").find("\"targets\": []"), std::string::npos);
  // The text column is named once, not once per streaming pass.
  EXPECT_EQ(count_of(r.out + r.err, "column 'smiles'"), 1u) << r.out << r.err;
}

TEST(DescriptorPipelineCli, EmptyTargetsMeanNone) {
  const auto dir = scratch("descriptor_cli_empty_targets");
  descriptor_table(dir);
  for (const std::string none : {"", "[]"}) {
    const auto r = prune(dir, {"--targets", none});
    EXPECT_EQ(r.exit_code, 0) << "--targets '" << none << "': " << r.err;
  }
}

TEST(DescriptorPipelineCli, NumericIdColumnIsNeverADescriptor) {
  const auto dir = scratch("descriptor_cli_ids");
  descriptor_table(dir);
  // Without --id-columns the unique integers look like any descriptor and are kept as one.
  ASSERT_EQ(prune(dir, {}).exit_code, 0);
  EXPECT_NE(read_text(dir / "out" / "selected_columns.txt").find("mol_id"), std::string::npos);
  const auto r = prune(dir, {"--id-columns", "mol_id,smiles", "--ignore-columns", "d3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto selected = read_text(dir / "out" / "selected_columns.txt");
  EXPECT_EQ(selected.find("mol_id"), std::string::npos) << selected;
  EXPECT_EQ(selected.find("d3"), std::string::npos) << selected;
  EXPECT_NE(selected.find("d2"), std::string::npos) << selected;
  EXPECT_EQ(count_of(r.out + r.err, "not numeric"), 0u) << r.err;  // smiles is an id now, not a skipped column
}

TEST(DescriptorPipelineCli, TargetsComeFromTheConfigWhenItNamesThem) {
  const auto dir = scratch("descriptor_cli_config_targets");
  descriptor_table(dir);
  const fs::path config = dir / "roles.yaml";
  std::ofstream(config) << "data:\n  targets: [y]\n  id_columns: [mol_id]\n";
  const auto r = prune(dir, {"--config", config.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = read_text(dir / "out" / "report.json");
  EXPECT_NE(report.find("\"targets\": [\n    \"y\"\n  ]"), std::string::npos) << report.substr(0, 400);
  EXPECT_EQ(read_text(dir / "out" / "selected_columns.txt").find("mol_id"), std::string::npos);
  // A config without data.targets: no targets, not the built-in synthetic ones.
  std::ofstream(config) << "descriptors:\n  rdc: false\n";
  const auto plain = prune(dir, {"--config", config.string()});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
}
