#pragma once
// What the CSV format needs beyond Arrow's reader: the decompressing input stream chosen by extension,
// delimiter sniffing, and the line numbers that Arrow does not keep (it counts rows; an editor and our
// messages count lines). Hand-written because Arrow has none of them; only the sniffing and line scans
// look at CSV syntax, and only at the quote character and line ends.
#include <arrow/io/api.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace safetrain::data {

// The file as a stream of CSV text: .gz and .zst (.zstd) decompressed through Arrow's codecs.
std::shared_ptr<arrow::io::InputStream> open_csv_stream(const std::filesystem::path& file);

// The first `bytes` of the decompressed text (less when the file is shorter).
std::string read_csv_head(const std::filesystem::path& file, int64_t bytes);

// A header cell as the column's name: without the blanks (spaces, tabs) around it ("a, b, y" names a, b and
// y). The reader and the cell locations of later messages (row_location.cpp) name columns by this one rule.
std::string column_name_of(std::string_view header_cell);

// ',' ';' or tab: the one of them that occurs most often outside quotes in the first line of `head`;
// ',' when none does.
char sniff_delimiter(const std::string& head, char quote);

// Data lines (lines with a non-blank character, less the header): at least the rows the file holds.
int64_t count_data_lines(const std::filesystem::path& file);

// The 1-based line on which data row `row` (from 0) of `file` starts, counting quoted line breaks and
// skipping empty lines as Arrow's reader does.
int64_t line_of_row(const std::filesystem::path& file, char quote, int64_t row);

// The data rows of `file` (Arrow's count: quoted line breaks inside a row, empty lines carry none).
int64_t count_records(const std::filesystem::path& file, char quote);

}  // namespace safetrain::data
