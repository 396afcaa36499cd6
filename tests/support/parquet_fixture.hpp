#pragma once
// Parquet fixtures for the table-reader tests: the venv's python with pyarrow (ctest sets SAFETRAIN_PYTHON)
// runs tests/support/write_table.py, whose docstring lists the modes (float32, typed, strings, nested,
// pandas-index).
#include <cstdlib>
#include <filesystem>
#include <string>

namespace safetrain::testing_support {

// `csv` written as Parquet to `out` in row groups of `group_rows`; false when there is no such python.
inline bool write_parquet_fixture(const std::string& mode, const std::filesystem::path& csv,
                                  const std::filesystem::path& out, int group_rows) {
  const char* python = std::getenv("SAFETRAIN_PYTHON");
  if (!python || !*python) return false;
  const std::string command = std::string(python) + " " + SAFETRAIN_SOURCE_DIR + "/tests/support/write_table.py " +
                              mode + " '" + csv.string() + "' '" + out.string() + "' " + std::to_string(group_rows);
  return std::system(command.c_str()) == 0;
}

}  // namespace safetrain::testing_support
