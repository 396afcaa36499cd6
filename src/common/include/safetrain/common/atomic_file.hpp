#pragma once
// Crash-safe file replacement: write to a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
// A reader sees either the old file or the new one, never a torn write.
// Every step is checked: failures throw IoError / DiskFullError (checked_write.hpp)
// naming the file and the reason, and the temporary file is removed.
#include <filesystem>
#include <functional>
#include <string>

namespace safetrain {

void write_file_atomically(const std::filesystem::path& target, const std::string& contents);

// For writers that stream to a path (e.g. torch::save): `write_to` receives a
// temporary path; the result is fsynced and renamed over `target`.
void replace_file_atomically(const std::filesystem::path& target,
                             const std::function<void(const std::filesystem::path&)>& write_to);

// A writer killed outright (SIGKILL, a second signal, power loss) leaves its temporary file,
// NAME.tmp.PID; once no process of that id runs, nothing will finish it: removes those in `dir`
// (not recursive). Returns how many.
int remove_abandoned_temporaries(const std::filesystem::path& dir);

// fsync a directory so a rename inside it is durable.
void fsync_directory(const std::filesystem::path& dir);

}  // namespace safetrain
