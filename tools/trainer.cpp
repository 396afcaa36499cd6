// trainer: train, validate and test a model from a YAML config.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <iostream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/openmp_policy.hpp"
#include "safetrain/common/run_dir_lock.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/dist/launch_env.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/infer/checkpoint.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/config/schema.hpp"
#include "safetrain/train/session.hpp"
#include "safetrain/common/stop_signals.hpp"

namespace fs = std::filesystem;
using namespace safetrain;

namespace {

// The config file plus --set, or, with --resume, the stored config of RUN_DIR/checkpoints/last plus --set
// (and the session told to resume there).
config::Config resolve_run_config(const std::string& config_path, const std::string& resume_dir,
                                  const std::vector<std::string>& overrides, train::SessionOptions& options) {
  std::vector<config::Override> parsed;
  for (const auto& text : overrides) parsed.push_back(config::parse_override(text));
  config::ResolvedConfig resolved;
  if (!resume_dir.empty()) {
    const fs::path checkpoint = fs::path(resume_dir) / "checkpoints" / "last";
    // A trainer still writing the run replaces checkpoints/last every epoch: name that trainer, not a
    // checkpoint caught mid-replacement. The session takes the lock for good when it opens the directory.
    // Only the writer (rank 0) takes it: the other ranks of a data-parallel resume would find rank 0's.
    if (fs::is_directory(resume_dir) && dist::read_launch_env(dist::process_environment()).rank == 0) {
      const RunDirLock probe(RunLayout(resume_dir).writer_lock());
    }
    const auto meta = infer::read_checkpoint_meta(checkpoint);
    resolved = config::resolve_from_text(meta.config_yaml, (checkpoint / "config.yaml").string(), parsed);
    options.run_dir = resume_dir;
    options.resume = checkpoint;
  } else {
    resolved = config::load_config(config_path, parsed);
  }
  return config::make_config(resolved.tree, resolved.file.string());
}

}  // namespace

int main(int argc, char** argv) {
  ensure_passive_openmp(argv);
  CLI::App app{
      "safetrain trainer: trains, validates and tests a regression model with bounded memory.\n"
      "Writes a run directory: config.yaml, metrics.csv, memory.csv, memory_report.json, checkpoints/,\n"
      "predictions/, plots/, metrics.json. Exit codes: 0 done (or early-stopped), 1 runtime failure\n"
      "(non-finite loss), 2 bad config or input, 3 refused or stopped for memory, 128+N after signal N.\n"
      "Signals: SIGINT, SIGTERM, SIGHUP and SIGUSR1 stop cleanly (checkpoint, final outputs; exit\n"
      "130/143/129/138); more signals within 2 s of the first are the same request, one later exits at\n"
      "once without cleanup. SIGQUIT quits at once (core dump, no final outputs). SIGXFSZ is ignored: a\n"
      "write past `ulimit -f` fails naming the file. One trainer writes a run directory at a time."};
  std::string config_path;
  std::vector<std::string> overrides;
  std::string resume_dir;
  bool print_config = false, list_keys = false;
  app.add_option("-c,--config", config_path, "YAML config (e.g. configs/safe_training.yaml)");
  app.add_option("--set", overrides, "override a config key: --set training.batch_size=8 (repeatable)");
  app.add_option("--resume", resume_dir,
                 "continue the run in RUN_DIR from RUN_DIR/checkpoints/last (its stored config, plus --set)");
  app.add_flag("--print-config", print_config, "print the resolved config as YAML and exit");
  app.add_flag("--list-keys", list_keys, "print every config key with its default, range and help (markdown) and exit");
  SAFETRAIN_PARSE(app, argc, argv);

  return guarded_main("trainer", [&] {
    if (list_keys) {
      std::cout << config::markdown_key_table();
      return kExitOk;
    }
    if (config_path.empty() == resume_dir.empty()) {
      throw InputError("give exactly one of --config FILE or --resume RUN_DIR (see --help)");
    }
    train::SessionOptions options;
    auto config = resolve_run_config(config_path, resume_dir, overrides, options);
    if (print_config) {  // after the cross-key rules, as the run would see it
      std::cout << config::typed_yaml(config);
      return kExitOk;
    }
    StopSignals signals;
    train::TrainingSession session(std::move(config), options);
    session.setup();
    const auto outcome = session.run();
    if (outcome.is_writer) {
      std::cout << outcome.summary << std::endl;
    } else {
      log::info(outcome.summary);  // the other ranks of a data-parallel run only log
    }
    return outcome.exit_code();
  });
}
