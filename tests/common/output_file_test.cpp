// The output policy: a tool's output never destroys what its path names. Regular files and new
// paths are replaced atomically; a symlink keeps being a link to the rewritten target; FIFOs and
// devices are written in place; a directory or an input is refused with an InputError.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/output_file.hpp"

namespace fs = std::filesystem;
using safetrain::testing_support::scratch_dir;

namespace safetrain {
namespace {

std::string contents_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string refusal(const fs::path& out, const std::vector<fs::path>& inputs = {}) {
  try {
    resolve_output_target(out, inputs);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(OutputFile, ANewPathAndARegularFileAreReplacedAtomically) {
  const auto dir = scratch_dir("output_regular");
  write_output_file(dir / "new.csv", "a\n");
  EXPECT_EQ(contents_of(dir / "new.csv"), "a\n");
  write_output_file(dir / "new.csv", "b\n");
  EXPECT_EQ(contents_of(dir / "new.csv"), "b\n");
  EXPECT_EQ(resolve_output_target(dir / "new.csv").mode, OutputTarget::Mode::kAtomicReplace);
}

TEST(OutputFile, ASymlinkStaysALinkAndItsTargetIsWritten) {
  const auto dir = scratch_dir("output_symlink");
  std::ofstream(dir / "real.csv") << "old\n";
  fs::create_symlink("real.csv", dir / "link.csv");
  write_output_file(dir / "link.csv", "new\n");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir / "link.csv")));
  EXPECT_EQ(contents_of(dir / "real.csv"), "new\n");
  // A dangling link creates its target.
  fs::create_symlink("later.csv", dir / "dangling.csv");
  write_output_file(dir / "dangling.csv", "x\n");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir / "dangling.csv")));
  EXPECT_EQ(contents_of(dir / "later.csv"), "x\n");
}

TEST(OutputFile, AFifoIsWrittenInPlaceNotReplacedByAFile) {
  const auto dir = scratch_dir("output_fifo");
  const fs::path fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = contents_of(fifo); });
  write_output_file(fifo, "through the pipe\n");
  reader.join();
  EXPECT_EQ(received, "through the pipe\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
}

TEST(OutputFile, ADeviceIsWrittenInPlace) {
  write_output_file("/dev/null", "gone\n");
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_EQ(resolve_output_target("/dev/null").mode, OutputTarget::Mode::kInPlace);
}

TEST(OutputFile, StdoutIsItsOwnDescriptor) {
  const auto target = resolve_output_target("/dev/stdout");
  EXPECT_EQ(target.mode, OutputTarget::Mode::kDescriptor);
  EXPECT_EQ(target.descriptor, 1);
  EXPECT_EQ(resolve_output_target("/proc/self/fd/2").descriptor, 2);
}

TEST(OutputFile, ADirectoryOrAnInputIsRefusedNamingThePath) {
  const auto dir = scratch_dir("output_refused");
  EXPECT_NE(refusal(dir).find(dir.string() + ": is a directory"), std::string::npos);
  std::ofstream(dir / "in.csv") << "a\n";
  EXPECT_NE(refusal(dir / "in.csv", {dir / "in.csv"}).find("is the same file as the input"), std::string::npos);
  fs::create_hard_link(dir / "in.csv", dir / "hard.csv");
  EXPECT_NE(refusal(dir / "hard.csv", {dir / "in.csv"}).find("same file"), std::string::npos);
  fs::create_directory(dir / "ckpt");
  std::ofstream(dir / "ckpt" / "model.pt") << "w";
  EXPECT_NE(refusal(dir / "ckpt" / "model.pt", {dir / "ckpt"}).find("model.pt"), std::string::npos);
  EXPECT_EQ(contents_of(dir / "in.csv"), "a\n");
  EXPECT_EQ(refusal(dir / "other.csv", {dir / "in.csv"}), "");
}

TEST(OutputFile, ASymlinkLoopIsRefused) {
  const auto dir = scratch_dir("output_loop");
  fs::create_symlink("b", dir / "a");
  fs::create_symlink("a", dir / "b");
  EXPECT_NE(refusal(dir / "a").find("symbolic links"), std::string::npos);
}

}  // namespace
}  // namespace safetrain
