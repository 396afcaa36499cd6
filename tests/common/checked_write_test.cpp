// Checked writes: every failure names the file and the reason, a full disk says
// "disk full", the previous file survives, and the process cannot exit 0 after.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <new>
#include <sstream>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/output_status.hpp"

namespace fs = std::filesystem;
using safetrain::testing_support::scratch_dir;

namespace safetrain {
namespace {

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class CheckedWrite : public ::testing::Test {
 protected:
  void SetUp() override { reset_output_write_failures(); }
  void TearDown() override {
    inject_write_fault(std::nullopt);
    reset_output_write_failures();
  }
};

TEST_F(CheckedWrite, FullDiskKeepsThePreviousFileAndSaysDiskFull) {
  const auto dir = scratch_dir("full_disk");
  const auto target = dir / "report.json";
  write_file_atomically(target, "old contents\n");
  // 10 bytes get through, then ENOSPC: a short write followed by a failing one.
  inject_write_fault(WriteFault{ENOSPC, 10, "report.json"});
  try {
    write_file_atomically(target, std::string(4096, 'x'));
    FAIL() << "expected DiskFullError";
  } catch (const DiskFullError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("disk full at " + dir.string()), std::string::npos) << message;
    EXPECT_NE(message.find("MB free)"), std::string::npos) << message;
  }
  EXPECT_EQ(read(target), "old contents\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "temporary file left behind";
  EXPECT_TRUE(output_write_failed());
}

TEST_F(CheckedWrite, OtherErrorsNameTheFileAndStrerror) {
  const auto dir = scratch_dir("eio");
  inject_write_fault(WriteFault{EIO, 0, "metrics.csv"});
  CheckedFile file(dir / "metrics.csv", CheckedFile::Mode::kTruncate);
  try {
    file.write("epoch\n");
    FAIL() << "expected IoError";
  } catch (const DiskFullError&) {
    FAIL() << "EIO is not a full disk";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "metrics.csv").string() + ": Input/output error"), std::string::npos)
        << e.what();
  }
  EXPECT_NE(first_output_write_failure().find("metrics.csv"), std::string::npos);
}

TEST_F(CheckedWrite, RealEnospcFromDevFull) {
  CheckedFile file("/dev/full", CheckedFile::Mode::kAppend);
  EXPECT_THROW(file.write("a line\n"), DiskFullError);
}

TEST_F(CheckedWrite, UnwritableDirectoryNamesTheFile) {
  try {
    write_file_atomically("/proc/safetrain_no_such_dir/x.json", "{}");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/safetrain_no_such_dir/x.json"), std::string::npos) << e.what();
  }
}

TEST_F(CheckedWrite, AppendsAndFaultsOnlyMatchingPaths) {
  const auto dir = scratch_dir("append");
  inject_write_fault(WriteFault{ENOSPC, 0, "other.csv"});
  {
    CheckedFile file(dir / "rows.csv", CheckedFile::Mode::kTruncate);
    file.write("a\n");
    file.close();
  }
  CheckedFile more(dir / "rows.csv", CheckedFile::Mode::kAppend);
  more.write("b\n");
  more.sync();
  more.close();
  EXPECT_EQ(read(dir / "rows.csv"), "a\nb\n");
  EXPECT_FALSE(output_write_failed());
}

TEST_F(CheckedWrite, GuardedMainNeverExitsZeroAfterALostOutput) {
  EXPECT_EQ(guarded_main("tool", [] { return 0; }), kExitOk);
  note_output_write_failure("disk full at /x/memory.png (0.0 MB free)");
  testing::internal::CaptureStderr();
  EXPECT_EQ(guarded_main("tool", [] { return 0; }), kExitRuntimeError);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("memory.png"), std::string::npos);
  // Other exit codes (signals, refusals) keep their meaning.
  EXPECT_EQ(guarded_main("tool", [] { return 130; }), 130);
}

TEST_F(CheckedWrite, GuardedMainMapsWriteErrorsToOne) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(guarded_main("tool", []() -> int { throw DiskFullError("disk full at /x (0.0 MB free)"); }),
            kExitRuntimeError);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("disk full at /x"), std::string::npos);
}

TEST_F(CheckedWrite, GuardedMainNamesTheFilesystemErrorsPathFirst) {
  const auto dir = scratch_dir("fs_error");
  std::ofstream(dir / "file") << "x";
  fs::create_symlink("loop", dir / "loop");
  testing::internal::CaptureStderr();
  EXPECT_EQ(guarded_main("tool", [&]() -> int { fs::create_directories(dir / "file" / "runs"); return 0; }),
            kExitRuntimeError);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("tool: failed: " + (dir / "file" / "runs").string() +
                                                        ": Not a directory (cannot create directories)"),
            std::string::npos);
  testing::internal::CaptureStderr();
  EXPECT_EQ(guarded_main("tool", [&]() -> int { fs::create_directories(dir / "loop" / "runs"); return 0; }),
            kExitRuntimeError);
  EXPECT_NE(testing::internal::GetCapturedStderr().find(": Too many levels of symbolic links"), std::string::npos);
}

TEST(AllocationRefusal, LibTorchCpuAllocatorFailureIsARefusalWithTheSize) {
  const std::string what =
      "[enforce fail at alloc_cpu.cpp:75] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
      "allocate 17179869184 bytes. Error code 12 (Cannot allocate memory)";
  const auto refusal = allocation_refusal(what);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_NE(refusal->find("16384.0 MB"), std::string::npos) << *refusal;
  EXPECT_NE(refusal->find("training.batch_size"), std::string::npos) << *refusal;
  EXPECT_FALSE(allocation_refusal("some other error").has_value());
  testing::internal::CaptureStderr();
  EXPECT_EQ(guarded_main("tool", [&]() -> int { throw std::runtime_error(what); }), kExitResourceError);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("refused: out of memory"), std::string::npos);
  testing::internal::CaptureStderr();
  EXPECT_EQ(guarded_main("tool", []() -> int { throw std::bad_alloc(); }), kExitResourceError);
  testing::internal::GetCapturedStderr();
}

}  // namespace
}  // namespace safetrain
