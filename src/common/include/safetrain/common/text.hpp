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

// Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or std::string::npos when `text` is valid UTF-8.
std::size_t invalid_utf8_offset(std::string_view text);

}  // namespace safetrain::text
