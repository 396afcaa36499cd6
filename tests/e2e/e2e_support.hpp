#pragma once
// Runs the built executables as a user would and reads what they wrote.
#include <filesystem>
#include <string>
#include <vector>

namespace safetrain::e2e {

struct Result {
  int exit_code = -1;
  std::string out, err;
};

std::filesystem::path binary(const std::string& name);
// A fresh directory under the build tree for one test.
std::filesystem::path scratch(const std::string& test_name);
// Runs `args` (args[0] = tool name) with cwd = source dir and OMP_WAIT_POLICY=PASSIVE; waits.
Result run(const std::vector<std::string>& args);
// The same with another working directory.
Result run_in(const std::filesystem::path& cwd, const std::vector<std::string>& args);
// Starts without waiting; returns the pid; stdout/stderr go to files in `dir`.
// `extra_env` ("NAME=value") is added to (and overrides) this process's environment.
int spawn(const std::vector<std::string>& args, const std::filesystem::path& dir,
          const std::filesystem::path& cwd = SAFETRAIN_SOURCE_DIR, const std::vector<std::string>& extra_env = {});
int wait_exit(int pid);  // exit code, or 128 + signal
// Polls until `file` exists (a spawned tool reached a stage); false after `timeout_s`.
bool wait_for_file(const std::filesystem::path& file, int timeout_s);
// Polls until a run's metrics.csv holds `epochs` epoch rows; false after `timeout_s`.
bool wait_for_epochs(const std::filesystem::path& metrics_csv, size_t epochs, int timeout_s);

// A tiny config (MLP on small synthetic data) extending configs/quickstart.yaml.
std::filesystem::path tiny_config(const std::filesystem::path& dir, const std::string& extra_yaml = "");
std::string read_text(const std::filesystem::path& file);
std::vector<std::string> read_lines(const std::filesystem::path& file);

}  // namespace safetrain::e2e
