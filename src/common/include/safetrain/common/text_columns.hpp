#pragma once
// Text columns kept beside a numeric table (data.id_columns): values[c][row]. They travel with the rows
// into every predictions file, so a user can join results back to their own records.
#include <string>
#include <vector>

namespace safetrain {

struct TextColumns {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> values;  // one vector per name, one entry per row

  bool empty() const { return names.empty(); }
  void append(const TextColumns& more) {
    if (values.size() < names.size()) values.resize(names.size());
    for (size_t c = 0; c < values.size() && c < more.values.size(); ++c) {
      values[c].insert(values[c].end(), more.values[c].begin(), more.values[c].end());
    }
  }
};

}  // namespace safetrain
