#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace safetrain::text {

// Edit distance, for "did you mean" suggestions on misspelt keys and columns.
std::size_t levenshtein(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close enough to help.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);

// One CSV cell as RFC 4180 writes it: quoted (inner quotes doubled) when it holds a comma, a quote or a line
// break, else as is. Every CSV the tools write goes through it, so an id like "1,2-dichloroethane" stays one cell.
std::string csv_field(std::string_view text);

// Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or std::string::npos when `text` is valid UTF-8.
std::size_t invalid_utf8_offset(std::string_view text);

// `text` with control characters (C0 but tab, DEL; every byte past ASCII when `text` is not valid
// UTF-8) written as \n, \r or \xHH, so
// a column name or cell holding an ANSI escape cannot reach the terminal; every log and error line
// goes through it.
std::string escape_control(std::string_view text);

// A short excerpt of user text for an error message: escaped as above, at most `max_chars` bytes
// of the original, then "...".
std::string excerpt(std::string_view text, std::size_t max_chars = 40);

}  // namespace safetrain::text
