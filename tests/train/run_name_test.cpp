// output.run_name is one folder inside output.dir: anything that could escape it
// (or that the file system would refuse) is an InputError naming the key.
#include <gtest/gtest.h>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/train/run_files.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::train;

TEST(RunName, UnsafeNamesAreRefusedNamingTheKey) {
  const auto output = testing_support::scratch_dir("run_names") / "runs";
  for (const std::string& bad : std::vector<std::string>{"../../escaped_run", "..", ".", "a/b", "/abs", "with space", "tab\tname",
                                "semi;colon", std::string("nul\0byte", 8), std::string(101, 'x'), std::string(5000, 'y'),
                                "caf\xC3\xA9"}) {
    try {
      create_run_dir(output.string(), bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("output.run_name: ", 0), 0u) << e.what();
      EXPECT_LT(std::string(e.what()).size(), 400u) << "a 5000-character name is not echoed whole";
    }
  }
  EXPECT_FALSE(fs::exists(output.parent_path().parent_path() / "escaped_run"));
}

TEST(RunName, SafeNamesAreCreatedInsideOutputDir) {
  const auto output = testing_support::scratch_dir("run_names_ok") / "runs";
  for (const std::string& good : std::vector<std::string>{"tiny", "run-2.v1_final", std::string(100, 'z'), "..hidden"}) {
    const auto dir = create_run_dir(output.string(), good);
    EXPECT_EQ(dir.parent_path(), output) << good;
    EXPECT_TRUE(fs::is_directory(dir / "checkpoints")) << good;
  }
  // An empty name is the timestamp, still inside output.dir.
  EXPECT_EQ(create_run_dir(output.string(), "").parent_path(), output);
}
