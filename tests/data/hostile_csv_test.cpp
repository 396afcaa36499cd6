// The hostile-CSV corpus in tests/hostile/csv: every file must be refused with an
// InputError naming the file and the line:column listed in expected.txt (never a
// crash, a silently dropped row or a value that poisons training).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/data/prepare.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

const fs::path kCorpus = fs::path(SAFETRAIN_SOURCE_DIR) / "tests" / "hostile" / "csv";

std::map<std::string, std::string> expected_locations() {
  std::map<std::string, std::string> expected;
  std::ifstream in(kCorpus / "expected.txt");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, location;
    fields >> file >> location;
    expected[file] = location;
  }
  return expected;
}

}  // namespace

TEST(HostileCsv, EveryFileIsRefusedNamingFileLineAndColumn) {
  const auto expected = expected_locations();
  ASSERT_GE(expected.size(), 10u);
  size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".csv") continue;
    const std::string name = entry.path().filename().string();
    const auto location = expected.find(name);
    ASSERT_NE(location, expected.end()) << name << " has no line in expected.txt";
    try {
      read_table(entry.path().string());
      ADD_FAILURE() << name << ": accepted";
    } catch (const InputError& e) {
      const std::string where = entry.path().string() + ":" + location->second + ":";
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << name << ": " << e.what();
    }
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
}

TEST(HostileCsv, Utf8ByteOrderMarkIsNotPartOfTheFirstName) {
  const auto file = safetrain::testing_support::scratch_dir("bom") / "bom.csv";
  std::ofstream(file, std::ios::binary) << "\xEF\xBB\xBFtarget_a,b\n1,2\n3,4\n";
  const auto table = read_table(file.string());
  ASSERT_EQ(table.columns.size(), 2u);
  EXPECT_EQ(table.columns[0], "target_a");
  EXPECT_EQ(column_index(table, "target_a"), 0);
}

TEST(HostileCsv, ConstantTargetIsAcceptedWithAWarning) {
  Table table;
  table.columns = {"f1", "f2", "flat", "moving"};
  torch::manual_seed(0);
  table.values = torch::randn({200, 4});
  table.values.select(1, 2).fill_(7.0f);
  table.source = "constant.csv";
  ColumnSelection selection;
  selection.targets = {"flat", "moving"};
  testing::internal::CaptureStderr();
  const auto prepared = prepare(table, selection, SplitOptions{});
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("target 'flat' is constant (7)"), std::string::npos) << log;
  EXPECT_EQ(log.find("'moving'"), std::string::npos) << log;
  EXPECT_EQ(prepared.target_names.size(), 2u);
}
