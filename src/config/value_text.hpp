#pragma once
// Private to src/config: the one parser for each kind of scalar, shared by
// validation (loader.cpp) and by storing values into members (binding.hpp),
// so a value validates exactly as it is used. Integers are decimal only:
// "010" is ten, never octal eight.
#include <string>

namespace safetrain::config {

bool parse_int(const std::string& text, long long& out);
bool parse_double(const std::string& text, double& out);
bool parse_bool(const std::string& text, bool& out);  // YAML 1.2 core: true/false (any case), yes/no, on/off
// The shortest decimal text that reads back as the same double ("0.0003", not "0.00029999999999999997").
std::string shortest_text(double value);

}  // namespace safetrain::config
