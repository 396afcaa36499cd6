#include "e2e_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;
namespace fs = std::filesystem;

namespace safetrain::e2e {

fs::path binary(const std::string& name) { return fs::path(SAFETRAIN_BINARY_DIR) / "tools" / name; }

fs::path scratch(const std::string& test_name) {
  const fs::path dir = fs::path(SAFETRAIN_BINARY_DIR) / "e2e-scratch" / test_name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

int spawn(const std::vector<std::string>& args, const fs::path& dir, const fs::path& cwd,
          const std::vector<std::string>& extra_env) {
  std::vector<std::string> full = args;
  full[0] = binary(args[0]).string();
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir / "stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, (dir / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  std::vector<std::string> env_text = extra_env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const auto name = entry.substr(0, entry.find('=') + 1);
    bool overridden = false;
    for (const auto& extra : extra_env) overridden = overridden || extra.rfind(name, 0) == 0;
    if (!overridden) env_text.push_back(entry);
  }
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + full[0]);
  return pid;
}

int wait_exit(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool wait_for_file(const fs::path& file, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!fs::exists(file)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

bool wait_for_epochs(const fs::path& metrics_csv, size_t epochs, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!fs::exists(metrics_csv) || read_lines(metrics_csv).size() < epochs + 1) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

Result run(const std::vector<std::string>& args) { return run_in(SAFETRAIN_SOURCE_DIR, args); }

Result run_in(const fs::path& cwd, const std::vector<std::string>& args) {
  static int counter = 0;
  const fs::path dir = fs::path(SAFETRAIN_BINARY_DIR) / "e2e-scratch" / "io" / std::to_string(getpid() * 1000 + ++counter);
  fs::create_directories(dir);
  Result result;
  // The policy the tools would re-exec themselves to get (openmp_policy.hpp), given up front: each
  // re-exec costs a second LibTorch start (~0.4 s CPU), and this suite starts the tools ~200 times.
  // TrainerRun.RunsWithPassiveOpenMpWaitPolicy spawns without it and so covers the re-exec.
  result.exit_code = wait_exit(spawn(args, dir, cwd, {"OMP_WAIT_POLICY=PASSIVE"}));
  result.out = read_text(dir / "stdout.txt");
  result.err = read_text(dir / "stderr.txt");
  fs::remove_all(dir);
  return result;
}

fs::path tiny_config(const fs::path& dir, const std::string& extra_yaml) {
  // The tiny base, then the test's own settings in a config extending it (YAML forbids repeating a section).
  const fs::path base = dir / "tiny_base.yaml";
  std::ofstream(base) << "extends: " << (fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml").string() << "\n"
                      << "output:\n  dir: " << (dir / "runs").string() << "\n  run_name: tiny\n"
                      << "data:\n  num_workers: 1\n  synthetic:\n    rows: 1500\n    descriptor_columns: 16\n"
                      << "model:\n  hidden: 32\n"
                      << "training:\n  max_epochs: 2\n  threads: 1\n"
                      << "monitor:\n  interval_ms: 50\n"
                      << "logging:\n  progress: lines\n";
  const fs::path file = dir / "tiny.yaml";
  std::ofstream(file) << "extends: tiny_base.yaml\n" << extra_yaml;
  return file;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace safetrain::e2e
