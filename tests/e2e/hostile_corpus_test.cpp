// The hostile-input corpus of tests/hostile, run through the real executables as a user would:
// configs, CSV files, tables as tools export them (quoted, ';', CRLF, BOM, .gz, Parquet) and damaged checkpoints. Every case listed in tests/hostile/cases.txt (and every
// file of tests/hostile/csv/expected.txt) must end with the exit code it names and one message line
// holding the named text: no crash, no silent acceptance, no second line of noise after the error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/parquet_fixture.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

const fs::path kCorpus = fs::path(SAFETRAIN_SOURCE_DIR) / "tests" / "hostile";

struct Case {
  std::string kind, input;
  int exit_code = 0;
  std::string text;
};

std::vector<Case> cases(const std::string& kind) {
  std::vector<Case> out;
  std::ifstream in(kCorpus / "cases.txt");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Case c;
    fields >> c.kind >> c.input >> c.exit_code >> std::ws;
    std::getline(fields, c.text);
    if (c.kind == kind) out.push_back(c);
  }
  return out;
}

// Lines of `err` that are the tool's own verdict ("trainer: error: ...", "predict: refused: ...").
std::vector<std::string> verdict_lines(const std::string& tool, const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(tool + ": ", 0) == 0) lines.push_back(line);
  }
  return lines;
}

void expect_outcome(const std::string& tool, const Result& r, int exit_code, const std::string& text) {
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
  if (exit_code == 0) {
    EXPECT_NE((r.out + r.err).find(text), std::string::npos) << "expected '" << text << "' in\n" << r.out << r.err;
    return;
  }
  const auto lines = verdict_lines(tool, r.err);
  ASSERT_EQ(lines.size(), 1u) << "want one '" << tool << ": ...' line in\n" << r.err;
  EXPECT_NE(lines[0].find(text), std::string::npos) << "expected '" << text << "' in: " << lines[0];
  EXPECT_EQ(lines[0].find("what()"), std::string::npos) << lines[0];
}

}  // namespace

TEST(HostileCorpus, EveryConfigIsRefusedOrWarnedAboutAsListed) {
  const auto listed = cases("config");
  ASSERT_GE(listed.size(), 25u);
  size_t on_disk = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "configs")) on_disk += entry.path().extension() == ".yaml";
  EXPECT_EQ(on_disk, listed.size()) << "every file of tests/hostile/configs needs a line in cases.txt";
  const auto out = scratch("hostile_configs");
  for (const auto& c : listed) {
    SCOPED_TRACE(c.input);
    // Accepted cases only print the config (their warning comes from loading it); the others run.
    std::vector<std::string> args{"trainer", "--config", (kCorpus / c.input).string(), "--set",
                                  "output.dir=" + (out / "runs").string()};
    if (c.exit_code == 0) args.push_back("--print-config");
    expect_outcome("trainer", run(args), c.exit_code, c.text);
  }
  EXPECT_FALSE(fs::exists(out / "escaped_run"));
}

TEST(HostileCorpus, EveryMalformedCsvStopsTheTrainerNamingFileLineAndColumn) {
  std::ifstream in(kCorpus / "csv" / "expected.txt");
  size_t checked = 0;
  const auto out = scratch("hostile_csv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, location;
    fields >> file >> location;
    SCOPED_TRACE(file);
    const auto r = run({"trainer", "--config", (kCorpus / "rows.yaml").string(), "--set",
                        "data.path=" + (kCorpus / "csv" / file).string(), "--set", "output.dir=" + out.string()});
    expect_outcome("trainer", r, 2, file + ":" + location + ":");
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

TEST(HostileCorpus, TablesThatParseButCannotTrainAreRefusedOrWarnedAbout) {
  const auto listed = cases("rows");
  ASSERT_GE(listed.size(), 4u);
  const auto out = scratch("hostile_rows");
  for (const auto& c : listed) {
    SCOPED_TRACE(c.input);
    const auto r = run({"trainer", "--config", (kCorpus / "rows.yaml").string(), "--set",
                        "data.path=" + (kCorpus / c.input).string(), "--set", "output.dir=" + out.string()});
    expect_outcome("trainer", r, c.exit_code, c.text);
  }
}

namespace {

// The input of a `table` case: a file of tests/hostile/tables, or RECIPE:BASE, a file made here from BASE
// (gzip and Parquet fixtures are written by the test, Parquet through pyarrow: SAFETRAIN_PYTHON). Returns the
// path or glob to train on, and the data.features it needs ("" = none); nullopt without pyarrow.
std::optional<std::pair<std::string, std::string>> table_input(const std::string& input, const fs::path& dir) {
  const auto colon = input.find(':');
  if (colon == std::string::npos) return std::make_pair((kCorpus / "tables" / input).string(), std::string());
  const std::string recipe = input.substr(0, colon);
  const fs::path base = kCorpus / "tables" / input.substr(colon + 1);
  const auto parquet = [](const std::string& mode, const fs::path& csv, const fs::path& out) {
    return safetrain::testing_support::write_parquet_fixture(mode, csv, out, 64);  // write_table.py's default group size
  };
  if (recipe == "gz-truncated") {
    fs::copy_file(base, dir / "truncated.csv", fs::copy_options::overwrite_existing);
    if (std::system(("gzip -f '" + (dir / "truncated.csv").string() + "'").c_str()) != 0) return std::nullopt;
    fs::resize_file(dir / "truncated.csv.gz", fs::file_size(dir / "truncated.csv.gz") / 2);
    return std::make_pair((dir / "truncated.csv.gz").string(), std::string());
  }
  const auto file = dir / (recipe.substr(8) + ".parquet");  // "parquet-half" -> half.parquet
  if (recipe == "parquet-mixed") {
    if (!parquet("float32", base, dir / "mixed_1.parquet") ||
        !parquet("float32", kCorpus / "tables" / "other_columns.csv", dir / "mixed_2.parquet")) {
      return std::nullopt;
    }
    return std::make_pair((dir / "mixed_*.parquet").string(), std::string());
  }
  const std::string mode = recipe == "parquet-half" ? "float32" : recipe.substr(8);
  if (!parquet(mode, base, file)) return std::nullopt;
  if (recipe == "parquet-half") fs::resize_file(file, fs::file_size(file) / 2);
  return std::make_pair(file.string(), std::string(recipe == "parquet-nested" ? "[a,b,nested]" : "[a,b]"));
}

}  // namespace

TEST(HostileCorpus, TablesAsToolsExportThemAreReadOrRefusedByName) {
  const auto listed = cases("table");
  ASSERT_GE(listed.size(), 11u);
  const auto out = scratch("hostile_tables");
  for (const auto& c : listed) {
    SCOPED_TRACE(c.input);
    const auto input = table_input(c.input, out);
    if (!input) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow, or no gzip";
    std::vector<std::string> args = {"trainer", "--config", (kCorpus / "rows.yaml").string(), "--set",
                                     "data.path=" + input->first, "--set", "output.dir=" + out.string()};
    if (!input->second.empty()) args.insert(args.end(), {"--set", "data.features=" + input->second});
    expect_outcome("trainer", run(args), c.exit_code, c.text);
  }
}

namespace {

// Damages one file of a checkpoint directory the way disks and people do.
void damage(const fs::path& checkpoint, const std::string& recipe) {
  const auto colon = recipe.find(':');
  const std::string how = recipe.substr(0, colon);
  const fs::path file = checkpoint / recipe.substr(colon + 1);
  if (how == "remove") {
    fs::remove(file);
  } else if (how == "truncate") {
    fs::resize_file(file, fs::file_size(file) / 2);
  } else if (how == "flip") {  // 64 bytes in the middle of the file, inverted
    std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(fs::file_size(file) / 2);
    std::string bytes(64, '\0');
    io.seekg(middle);
    io.read(bytes.data(), 64);
    for (auto& b : bytes) b = static_cast<char>(~b);
    io.seekp(middle);
    io.write(bytes.data(), static_cast<std::streamsize>(io.gcount() > 0 ? io.gcount() : 0));
  } else if (how == "garbage") {
    std::ofstream(file, std::ios::trunc) << "\x89not what it should be{[";
  } else if (how == "future") {  // a newer format version than this build reads
    nlohmann::json state;
    std::ifstream(file) >> state;
    state["format_version"] = 99;
    std::ofstream(file, std::ios::trunc) << state.dump();
  } else if (how.rfind("counters.", 0) == 0) {  // counters.FIELD=VALUE: state.json edited, checksums still valid
    const auto eq = how.find('=');
    nlohmann::json state;
    std::ifstream(file) >> state;
    state["components"]["counters"][how.substr(9, eq - 9)] = std::stoll(how.substr(eq + 1));
    std::ofstream(file, std::ios::trunc) << state.dump();
  } else if (how == "empty_dir") {
    for (const auto& entry : fs::directory_iterator(checkpoint)) fs::remove_all(entry.path());
  } else {
    FAIL() << "unknown damage " << how;
  }
}

}  // namespace

namespace {

// A one-epoch run on DIR/rows.csv (400 rows, target t1); returns the run directory.
fs::path train_rows_run(const fs::path& dir) {
  const fs::path rows = dir / "rows.csv";
  {
    std::ofstream out(rows);
    out << "f1,f2,t1\n";
    for (int i = 0; i < 400; ++i) out << (i % 17) * 0.1 << ',' << (i % 5) * 0.3 << ',' << (i % 17) * 0.2 - i % 5 << '\n';
  }
  const auto config = tiny_config(dir, "data:\n  source: csv\n  path: " + rows.string() +
                                           "\n  targets: [t1]\ndescriptors:\n  enabled: false\n"
                                           "training:\n  max_epochs: 1\n");
  EXPECT_EQ(run({"trainer", "--config", config.string()}).exit_code, 0);
  return dir / "runs" / "tiny";
}

}  // namespace

TEST(HostileCorpus, EveryDamagedCheckpointIsRefusedByPredictExportAndResume) {
  const auto listed = cases("checkpoint");
  ASSERT_GE(listed.size(), 8u);
  const auto dir = scratch("hostile_checkpoints");
  const fs::path rows = dir / "rows.csv";
  const fs::path run_dir = train_rows_run(dir);
  const fs::path pristine = dir / "pristine";
  fs::copy(run_dir / "checkpoints" / "last", pristine);
  ASSERT_EQ(run({"predict", "--checkpoint", pristine.string(), "--input", rows.string(), "--output",
                 (dir / "p.csv").string()})
                .exit_code,
            0)
      << "the undamaged checkpoint predicts: the harness is sound";
  for (const auto& c : listed) {
    // input is TOOL/DAMAGE:FILE, e.g. predict/flip:model.pt
    const std::string tool = c.input.substr(0, c.input.find('/'));
    const std::string recipe = c.input.substr(c.input.find('/') + 1);
    SCOPED_TRACE(c.input);
    fs::remove_all(run_dir / "checkpoints" / "last");
    fs::copy(pristine, run_dir / "checkpoints" / "last");
    damage(run_dir / "checkpoints" / "last", recipe);
    const std::string checkpoint = (run_dir / "checkpoints" / "last").string();
    Result r;
    if (tool == "predict") {
      r = run({"predict", "--checkpoint", checkpoint, "--input", rows.string(), "--output",
               (dir / "p.csv").string()});
    } else if (tool == "export_weights") {
      r = run({"export_weights", "--checkpoint", checkpoint, "--output", (dir / "w.pt").string()});
    } else {
      r = run({"trainer", "--resume", run_dir.string(), "--set", "training.max_epochs=2"});
    }
    expect_outcome(tool == "resume" ? "trainer" : tool, r, c.exit_code, c.text);
  }
}

// An output that names the input, a file of the checkpoint, a directory or the other output is refused
// before any work, and the file it names is untouched; a symlink stays a link, stdout gets the rows.
TEST(HostileCorpus, NoOutputDestroysWhatItNames) {
  const auto listed = cases("output");
  ASSERT_GE(listed.size(), 5u);
  const auto dir = scratch("hostile_outputs");
  const fs::path rows = dir / "rows.csv", checkpoint = train_rows_run(dir) / "checkpoints" / "best";
  const std::string rows_before = read_text(rows), model_before = read_text(checkpoint / "model.pt");
  const std::map<std::string, std::string> names{{"input", rows.string()},
                                                 {"dir", dir.string()},
                                                 {"model.pt", (checkpoint / "model.pt").string()},
                                                 {"output", (dir / "p.csv").string()}};
  for (const auto& c : listed) {
    // input is TOOL/--FLAG=NAME, e.g. predict/--metrics=input
    const std::string tool = c.input.substr(0, c.input.find('/'));
    const std::string flag = c.input.substr(tool.size() + 1, c.input.find('=') - tool.size() - 1);
    const std::string target = names.at(c.input.substr(c.input.find('=') + 1));
    SCOPED_TRACE(c.input);
    std::vector<std::string> args{tool, "--checkpoint", checkpoint.string()};
    if (tool == "predict") {
      for (const auto& [option, value] : std::map<std::string, std::string>{
               {"--input", rows.string()}, {"--output", (dir / "p.csv").string()}, {flag, target}}) {
        args.insert(args.end(), {option, option == flag ? target : value});
      }
    } else {
      args.insert(args.end(), {flag, target});
    }
    expect_outcome(tool, run(args), c.exit_code, c.text);
    EXPECT_EQ(read_text(rows), rows_before);
    EXPECT_EQ(read_text(checkpoint / "model.pt"), model_before);
    EXPECT_TRUE(fs::is_directory(dir));
  }
  std::ofstream(dir / "real.csv") << "old\n";
  fs::create_symlink("real.csv", dir / "link.csv");
  const auto linked = run({"predict", "--checkpoint", checkpoint.string(), "--input", rows.string(), "--output",
                           (dir / "link.csv").string()});
  ASSERT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir / "link.csv")));
  EXPECT_EQ(read_lines(dir / "real.csv").size(), 401u);
  const auto piped = run({"predict", "--checkpoint", checkpoint.string(), "--input", rows.string(), "--output",
                          "/dev/stdout"});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out.rfind("row_id,split,t1_true,t1_pred\n", 0), 0u) << "the rows, and only they, on stdout:\n" << piped.out;
}
