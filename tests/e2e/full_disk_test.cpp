// The real trainer on a real full disk: a small tmpfs mounted in a private
// user + mount namespace (unshare -rm), so no root and no host mount is needed.
// Where the machine forbids that, the test skips with the reason; the
// injected-failure tests (tests/common, tests/train) always run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool can_mount_tmpfs(const fs::path& dir) {
  const fs::path probe = dir / "probe";
  fs::create_directories(probe);
  return shell("unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs " + probe.string() + "' >/dev/null 2>&1") == 0;
}

// A healthy 2-epoch run on a 64 MB tmpfs, then the disk filled to a third of a checkpoint's size,
// then a resume that must fail at its next checkpoint. Results are copied out of the namespace.
const char* kScript = R"(set -u
MNT=$1; TRAINER=$2; CONFIG=$3; OUT=$4
mount -t tmpfs -o size=64m tmpfs "$MNT" || exit 200
"$TRAINER" --config "$CONFIG" --set "output.dir=$MNT/runs" >"$OUT/first.out" 2>"$OUT/first.err" || exit 201
RUN="$MNT/runs/tiny"
cp -r "$RUN/checkpoints/last" "$OUT/last_before"
checkpoint_kb=$(du -sk "$RUN/checkpoints/last" | cut -f1)
free_kb=$(df -k --output=avail "$MNT" | tail -1)
keep_kb=$((checkpoint_kb / 3))
if [ "$free_kb" -gt "$keep_kb" ]; then head -c $(( (free_kb - keep_kb) * 1024 )) /dev/zero >"$MNT/filler" 2>/dev/null; fi
"$TRAINER" --resume "$RUN" --set training.max_epochs=4 >"$OUT/second.out" 2>"$OUT/second.err"
echo $? >"$OUT/second.rc"
cp -r "$RUN/checkpoints/last" "$OUT/last_after"
ls -a "$RUN/checkpoints" >"$OUT/listing"
)";

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(FullDisk, TrainerSaysDiskFullExitsOneAndKeepsThePreviousCheckpoint) {
  const auto dir = scratch("full_disk");
  if (!can_mount_tmpfs(dir)) GTEST_SKIP() << "cannot mount a tmpfs here (unshare -rm + mount refused)";
  const fs::path mnt = dir / "mnt", out = dir / "out", script = dir / "full_disk.sh";
  fs::create_directories(mnt);
  fs::create_directories(out);
  std::ofstream(script) << kScript;
  const auto config = tiny_config(dir, "training:\n  early_stopping: false\n");
  const int rc = shell("cd " + std::string(SAFETRAIN_SOURCE_DIR) + " && unshare -rm sh " + script.string() + " " +
                       mnt.string() + " " + binary("trainer").string() + " " + config.string() + " " + out.string());
  ASSERT_EQ(rc, 0) << read_text(out / "first.err");
  EXPECT_EQ(read_text(out / "second.rc"), "1\n") << read_text(out / "second.err");
  const std::string err = read_text(out / "second.err");
  EXPECT_NE(err.find("disk full at " + mnt.string()), std::string::npos) << err;
  EXPECT_EQ(err.find("terminate called"), std::string::npos) << err;
  EXPECT_EQ(read_text(out / "listing").find(".last.partial"), std::string::npos) << read_text(out / "listing");
  for (const char* file : {"model.pt", "optimizer.pt", "extras.pt", "state.json", "config.yaml"}) {
    EXPECT_EQ(bytes_of(out / "last_after" / file), bytes_of(out / "last_before" / file)) << file;
  }
}
