#include "csv_text.hpp"

#include <arrow/util/compression.h>

#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "arrow_status.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

arrow::Compression::type codec_by_extension(const fs::path& file) {
  const std::string name = file.filename().string();
  if (name_ends_with(name, ".gz")) return arrow::Compression::GZIP;
  if (name_ends_with(name, ".zst") || name_ends_with(name, ".zstd")) return arrow::Compression::ZSTD;
  return arrow::Compression::UNCOMPRESSED;
}

// Calls `visit` with consecutive chunks of the decompressed text until it returns false or the text ends.
void scan_text(const fs::path& file, const std::function<bool(const char*, int64_t)>& visit) {
  auto stream = open_csv_stream(file);
  std::vector<char> chunk(size_t{1} << 20);
  while (true) {
    const auto n = value_or_throw(stream->Read(static_cast<int64_t>(chunk.size()), chunk.data()), file.string());
    if (n == 0 || !visit(chunk.data(), n)) break;
  }
}

int64_t scan_data_lines(const fs::path& file) {
  int64_t lines = 0;
  bool content = false;  // the current line has a cell character (blank lines carry no row)
  scan_text(file, [&](const char* data, int64_t n) {
    const char* at = data;
    const char* const end = data + n;
    while (at < end) {
      // Only a line's leading blanks are looked at; memchr skips the rest of it to the line end.
      for (; !content && at < end && *at != '\n'; ++at) content = *at != ' ' && *at != '\t' && *at != '\r';
      const auto* line_end = static_cast<const char*>(std::memchr(at, '\n', static_cast<size_t>(end - at)));
      if (!line_end) break;
      lines += content ? 1 : 0;
      content = false;
      at = line_end + 1;
    }
    return true;
  });
  lines += content ? 1 : 0;
  return std::max<int64_t>(0, lines - 1);  // the header
}

}  // namespace

std::shared_ptr<arrow::io::InputStream> open_csv_stream(const fs::path& file) {
  std::shared_ptr<arrow::io::InputStream> raw =
      value_or_throw(arrow::io::ReadableFile::Open(file.string()), file.string() + ": cannot open for reading");
  const auto codec = codec_by_extension(file);
  if (codec == arrow::Compression::UNCOMPRESSED) return raw;
  // CompressedInputStream keeps a raw pointer to its codec: one codec per kind, for the whole program.
  static const auto gzip = value_or_throw(arrow::util::Codec::Create(arrow::Compression::GZIP), "gzip");
  static const auto zstd = value_or_throw(arrow::util::Codec::Create(arrow::Compression::ZSTD), "zstd");
  auto* decoder = codec == arrow::Compression::GZIP ? gzip.get() : zstd.get();
  return value_or_throw(arrow::io::CompressedInputStream::Make(decoder, raw), file.string());
}

std::string read_csv_head(const fs::path& file, int64_t bytes) {
  std::string head;
  scan_text(file, [&](const char* data, int64_t n) {
    head.append(data, static_cast<size_t>(std::min<int64_t>(n, bytes - static_cast<int64_t>(head.size()))));
    return static_cast<int64_t>(head.size()) < bytes;
  });
  return head;
}

std::string column_name_of(std::string_view header_cell) {
  const auto first = header_cell.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(header_cell.substr(first, header_cell.find_last_not_of(" \t") - first + 1));
}

char sniff_delimiter(const std::string& head, char quote) {
  std::array<int64_t, 3> counts{};
  const std::array<char, 3> candidates{',', ';', '\t'};
  bool quoted = false;
  for (const char ch : head) {
    if (quote != '\0' && ch == quote) quoted = !quoted;
    if (quoted) continue;
    if (ch == '\n' || ch == '\r') break;
    for (size_t i = 0; i < candidates.size(); ++i) counts[i] += ch == candidates[i] ? 1 : 0;
  }
  size_t best = 0;
  for (size_t i = 1; i < candidates.size(); ++i) best = counts[i] > counts[best] ? i : best;
  return candidates[best];
}

// The trainer counts a table twice: for its memory forecast, then to size the load's one buffer. Counting a
// .csv.gz inflates all of it (2.4 s of a 1M x 70 table), so a compressed file's count is kept for its size
// and modification time; a file rewritten in between is counted again (and a bound that falls short only
// grows the buffer, see read_table). A plain file's count is a page-cache scan, not worth keeping.
int64_t count_data_lines(const fs::path& file) {
  if (codec_by_extension(file) == arrow::Compression::UNCOMPRESSED) return scan_data_lines(file);
  struct Counted {
    std::uintmax_t bytes;
    fs::file_time_type modified;
    int64_t lines;
  };
  static std::mutex mutex;
  static std::map<std::string, Counted> counted;
  const std::string key = fs::absolute(file).lexically_normal().string();
  std::error_code size_error, time_error;
  const auto bytes = fs::file_size(file, size_error);
  const auto modified = fs::last_write_time(file, time_error);
  const bool known = !size_error && !time_error;
  if (known) {
    const std::lock_guard<std::mutex> lock(mutex);
    const auto it = counted.find(key);
    if (it != counted.end() && it->second.bytes == bytes && it->second.modified == modified) return it->second.lines;
  }
  const int64_t lines = scan_data_lines(file);
  if (known) {
    const std::lock_guard<std::mutex> lock(mutex);
    counted[key] = Counted{bytes, modified, lines};
  }
  return lines;
}

// Calls `at_record(line, row)` where each data row starts (its 1-based line, the row from 0) until it
// returns false: quoted line breaks stay inside a row, empty lines and lines of blanks carry none (as in
// Arrow's reader).
void scan_records(const fs::path& file, char quote, const std::function<bool(int64_t, int64_t)>& at_record) {
  int64_t line = 1, next = -1;  // the record that starts next: the header is -1, data rows count from 0
  bool quoted = false, started = false, after_cr = false, more = true;
  scan_text(file, [&](const char* data, int64_t n) {
    for (int64_t i = 0; i < n && more; ++i) {
      const char ch = data[i];
      const bool crlf = after_cr && ch == '\n';  // the second half of one line end
      after_cr = ch == '\r';
      if (crlf) continue;
      if (ch == '\n' || ch == '\r') {
        ++line;
        if (!quoted && started) ++next;
        started = started && quoted;
        continue;
      }
      if (!started && (ch == ' ' || ch == '\t')) continue;  // a line of blanks carries no row
      if (!started && next >= 0) more = at_record(line, next);
      started = true;
      if (quote != '\0' && ch == quote) quoted = !quoted;
    }
    return more;
  });
}

int64_t line_of_row(const fs::path& file, char quote, int64_t row) {
  int64_t found = -1, last_line = 1;
  scan_records(file, quote, [&](int64_t line, int64_t record) {
    last_line = line;
    if (record == row) found = line;
    return found < 0;
  });
  return found >= 0 ? found : last_line;
}

int64_t count_records(const fs::path& file, char quote) {
  int64_t records = 0;
  scan_records(file, quote, [&](int64_t, int64_t) { return ++records, true; });
  return records;
}

}  // namespace safetrain::data
