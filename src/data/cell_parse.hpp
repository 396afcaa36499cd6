#pragma once
// Text cells to float32, with safetrain's rules (Arrow's own conversion accepts "inf", rejects a leading '+'
// and names no column): missing tokens (empty, NA, nan, null) are NaN; a value float32 cannot hold, inf and
// text are refused. The caller names the cell in the message, so a location is only built on failure.
#include <string>
#include <string_view>

namespace safetrain::data {

bool is_missing(std::string_view cell);

enum class CellError { none, not_a_number, not_finite, nul_byte };

// Parses `cell` into `out`, its decimal mark `decimal` ('.' or ','); the error kind when it is not a usable
// number. With ',' a cell holding a '.' is refused: in those locales it separates thousands (1.234,5).
CellError parse_cell(std::string_view cell, float& out, char decimal = '.');

// The message for a refused cell: "column 'x': '1.5x' is not a number" and its kin; a number written with
// the other decimal mark says which data.csv.decimal reads it.
std::string cell_error_text(CellError error, std::string_view cell, const std::string& column, char decimal = '.');

// Words, IDs and SMILES strings have letters; a malformed number ("1.2.3", "1;2") does not and stays an error.
bool looks_like_text(std::string_view cell, char decimal = '.');

}  // namespace safetrain::data
