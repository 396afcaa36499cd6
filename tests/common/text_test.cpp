#include <gtest/gtest.h>

#include "safetrain/common/text.hpp"

namespace safetrain::text {

TEST(Levenshtein, CountsEdits) {
  EXPECT_EQ(levenshtein("", ""), 0u);
  EXPECT_EQ(levenshtein("batch_size", "batch_size"), 0u);
  EXPECT_EQ(levenshtein("batch_sise", "batch_size"), 1u);
  EXPECT_EQ(levenshtein("kitten", "sitting"), 3u);
}

TEST(ClosestMatch, SuggestsNearMissOnly) {
  const std::vector<std::string> keys{"batch_size", "max_epochs", "precision"};
  EXPECT_EQ(closest_match("bach_size", keys), "batch_size");
  EXPECT_EQ(closest_match("max_epoch", keys), "max_epochs");
  EXPECT_EQ(closest_match("completely_unrelated", keys), "");
  // Regression: `training.epochs` got no suggestion; a whole token of a key is matched too.
  EXPECT_EQ(closest_match("epochs", {"batch_size", "max_epochs", "min_lr"}), "max_epochs");
}

TEST(Split, KeepsEmptyFields) {
  const auto parts = split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(trim("  x \t"), "x");
}

}  // namespace safetrain::text

namespace safetrain::text {

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(invalid_utf8_offset("plain"), std::string::npos);
  EXPECT_EQ(invalid_utf8_offset("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::string::npos);
  EXPECT_EQ(invalid_utf8_offset("ab\xFF"), 2u);           // never valid
  EXPECT_EQ(invalid_utf8_offset("ab\xE9t\xE9"), 2u);      // Latin-1 é
  EXPECT_EQ(invalid_utf8_offset("x\xC0\xAF"), 1u);        // overlong '/'
  EXPECT_EQ(invalid_utf8_offset("x\xED\xA0\x80"), 1u);    // UTF-16 surrogate
  EXPECT_EQ(invalid_utf8_offset("x\xE2\x82"), 1u);        // cut short
}

}  // namespace safetrain::text

TEST(Text, ControlCharactersAreEscapedSoNoneReachesTheTerminal) {
  EXPECT_EQ(safetrain::text::escape_control("col\x1b[31mred\n\r\x7f"), "col\\x1B[31mred\\n\\r\\x7F");
  EXPECT_EQ(safetrain::text::escape_control("tab\tand d\xc3\xa9j\xc3\xa0"), "tab\tand d\xc3\xa9j\xc3\xa0");  // valid UTF-8 stays
  EXPECT_EQ(safetrain::text::escape_control("\xff\xfe"), "\\xFF\\xFE");
  EXPECT_EQ(safetrain::text::excerpt(std::string(100, 'a'), 10), "aaaaaaaaaa...");
}
