// The table layer's formats: CSV as real tools export it (RFC 4180 quoting, CRLF, BOM, ';' and tab,
// .gz and .zst), Parquet (projection, row groups, nulls), and the inputs each must refuse, by name.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../support/parquet_fixture.hpp"
#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

fs::path formats_dir(const std::string& name) { return safetrain::testing_support::scratch_dir("formats_" + name); }

fs::path put_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

std::string table_error(const std::string& input, const TableReadOptions& options = {}, const CsvColumnRoles& roles = {}) {
  try {
    read_table(input, options, roles);
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

bool write_parquet(const std::string& mode, const fs::path& csv, const fs::path& out, int group_rows = 64) {
  return safetrain::testing_support::write_parquet_fixture(mode, csv, out, group_rows);
}

const std::string kPlain = "name,a,b,target\nx1,1.5,2,3\nx2,4,5.25,6\nx3,7,8,9.5\n";

}  // namespace

TEST(TableFormats, QuotedCommasDoubledQuotesAndLineBreaksReadAsOneCell) {
  const auto dir = formats_dir("quoted");
  const auto file = put_text(dir / "q.csv",
                          "name,a,b,target\n\"1,2-dichloroethane\",1.5,2,3\n\"say \"\"hi\"\"\",4,5.25,6\n"
                          "\"two\nlines\",7,8,9.5\n");
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  const auto t = read_table(file.string(), {}, roles);
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  EXPECT_TRUE(torch::equal(t.values, plain.values));
  ASSERT_EQ(t.ids.values.size(), 1u);
  EXPECT_EQ(t.ids.values[0], (std::vector<std::string>{"1,2-dichloroethane", "say \"hi\"", "two\nlines"}));
}

TEST(TableFormats, ABadCellAfterAQuotedLineBreakIsNamedByItsLine) {
  const auto dir = formats_dir("line");
  const auto file = put_text(dir / "l.csv", "name,a\n\"two\nlines\",1\n\nx,abc\n");
  EXPECT_NE(table_error(file.string()).find("l.csv:5:2: column 'a': 'abc' is not a number"), std::string::npos)
      << table_error(file.string());
}

TEST(TableFormats, CrlfBomSemicolonAndTabFilesReadLikeThePlainOne) {
  const auto dir = formats_dir("dialects");
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  const auto crlf = read_table(put_text(dir / "crlf.csv", "\xEF\xBB\xBFname,a,b,target\r\nx1,1.5,2,3\r\nx2,4,5.25,6\r\n"
                                                        "x3,7,8,9.5\r\n").string());
  const auto semi = read_table(put_text(dir / "semi.csv", "name;a;b;target\nx1;1.5;2;3\nx2;4;5.25;6\nx3;7;8;9.5\n").string());
  const auto tab = read_table(put_text(dir / "tab.tsv", "name\ta\tb\ttarget\nx1\t1.5\t2\t3\nx2\t4\t5.25\t6\nx3\t7\t8\t9.5\n").string());
  for (const auto* t : {&crlf, &semi, &tab}) {
    EXPECT_EQ(t->columns, plain.columns);
    EXPECT_TRUE(torch::equal(t->values, plain.values));
  }
}

// "a, b, y" names a, b and y, as its cells' blanks are not part of their numbers (a target 'y' was "not in" it).
TEST(TableFormats, BlanksAroundHeaderNamesAreNotPartOfTheNames) {
  const auto dir = formats_dir("header_blanks");
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  const auto spaced = read_table(put_text(dir / "s.csv", "name, a ,\tb, target\nx1, 1.5, 2, 3\nx2, 4, 5.25, 6\n"
                                                         "x3, 7, 8, 9.5\n").string());
  EXPECT_EQ(spaced.columns, plain.columns);
  EXPECT_TRUE(torch::equal(spaced.values, plain.values));
}

TEST(TableFormats, DelimiterAndQuoteOptionsOverrideTheSniffing) {
  const auto dir = formats_dir("options");
  const auto file = put_text(dir / "o.csv", "a;b\n1;2,5\n");
  TableReadOptions options;  // auto: ';' is the delimiter of the header line
  EXPECT_NE(table_error(file.string(), options).find("o.csv:2:2: column 'b': '2,5' is not a number"), std::string::npos)
      << table_error(file.string(), options);
  options.csv.delimiter = ",";
  EXPECT_NE(table_error(file.string(), options).find("o.csv:2: expected 1 cells"), std::string::npos)
      << table_error(file.string(), options);
  const auto quoted = put_text(dir / "s.csv", "a,b\n'1,5',2\n");
  options = {};
  options.csv.quote = "'";
  EXPECT_EQ(table_error(quoted.string(), options).find("'1,5' is not a number") != std::string::npos, true);
}

// A spreadsheet export in a decimal-comma locale (';' between fields, ',' in numbers): refused with the option
// that reads it named, read like the plain file with data.csv.decimal: ',', and a '.' in it (a thousands
// separator there) refused rather than read as the decimal mark.
TEST(TableFormats, ADecimalCommaExportReadsLikeThePlainOneWhenSaidSo) {
  const auto dir = formats_dir("decimal_comma");
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  const auto file = put_text(dir / "eu.csv", "name;a;b;target\nx1;1,5;2;3\nx2;4;5,25;6\nx3;7;8;+9,50\n");
  EXPECT_NE(table_error(file.string()).find("eu.csv:2:2: column 'a': '1,5' is not a number (a decimal comma? set "
                                            "data.csv.decimal: ',')"),
            std::string::npos)
      << table_error(file.string());
  TableReadOptions comma;
  comma.csv.decimal = ",";
  const auto eu = read_table(file.string(), comma);
  EXPECT_EQ(eu.columns, plain.columns);
  EXPECT_TRUE(torch::equal(eu.values, plain.values));
  const auto thousands = put_text(dir / "k.csv", "a;b\n1,5;2\n3;1.234,5\n");
  EXPECT_NE(table_error(thousands.string(), comma).find("k.csv:3:2: column 'b': '1.234,5' is not a number"),
            std::string::npos)
      << table_error(thousands.string(), comma);
  const auto point = put_text(dir / "pt.csv", "a;b\n1,5;2\n3;2.5\n");
  EXPECT_NE(table_error(point.string(), comma).find("'2.5' is not a number (data.csv.decimal is ',')"), std::string::npos)
      << table_error(point.string(), comma);
  const auto long_cell = put_text(dir / "l.csv", "a;b\n1;2," + std::string(70, '0') + "\n");  // beyond a small copy
  const auto long_read = read_table(long_cell.string(), comma);
  EXPECT_EQ(long_read.values[0][1].item<float>(), 2.0f);
  // The delimiter sniffed from a ','-separated header cannot also be the decimal mark.
  EXPECT_NE(table_error((dir / "p.csv").string(), comma).find("p.csv: data.csv.decimal is ',', the file's delimiter too"),
            std::string::npos)
      << table_error((dir / "p.csv").string(), comma);
}

// pandas writes its row index into the table: to_csv as a first column with no name, to_parquet (for an index
// that is not a range, as after filtering rows) as __index_level_0__, named in its metadata. Neither is a
// feature (the row index can only be memorised); each can be carried as an id; an empty name elsewhere is
// still refused.
TEST(TableFormats, APandasRowIndexIsNotAFeature) {
  const auto dir = formats_dir("pandas_index");
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  const auto csv = put_text(dir / "pd.csv", ",name,a,b,target\n0,x1,1.5,2,3\n3,x2,4,5.25,6\n8,x3,7,8,9.5\n");
  const auto t = read_table(csv.string());
  EXPECT_EQ(t.columns, plain.columns);
  EXPECT_TRUE(torch::equal(t.values, plain.values));
  CsvColumnRoles carried;
  carried.id_columns = {"Unnamed: 0"};
  const auto ids = read_table(csv.string(), {}, carried);
  EXPECT_EQ(ids.columns, plain.columns);
  ASSERT_EQ(ids.ids.values.size(), 1u);
  EXPECT_EQ(ids.ids.values[0], (std::vector<std::string>{"0", "3", "8"}));
  const auto middle = put_text(dir / "m.csv", "a,,b\n1,2,3\n");
  EXPECT_NE(table_error(middle.string()).find("m.csv:1:2: empty column name"), std::string::npos) << table_error(middle.string());
  if (!write_parquet("pandas-index", dir / "p.csv", dir / "pd.parquet")) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  const auto parquet = read_table((dir / "pd.parquet").string());
  EXPECT_EQ(parquet.columns, plain.columns);
  EXPECT_TRUE(torch::equal(parquet.values, plain.values));
  CsvColumnRoles parquet_ids;
  parquet_ids.id_columns = {"__index_level_0__"};
  const auto parquet_carried = read_table((dir / "pd.parquet").string(), {}, parquet_ids);
  ASSERT_EQ(parquet_carried.ids.values.size(), 1u);
  EXPECT_EQ(parquet_carried.ids.values[0], (std::vector<std::string>{"7", "10", "13"}));
}

TEST(TableFormats, GzipAndZstdReadLikeThePlainFileAndATruncatedGzipIsRefused) {
  const auto dir = formats_dir("compressed");
  put_text(dir / "g.csv", kPlain);
  put_text(dir / "z.csv", kPlain);
  ASSERT_EQ(std::system(("gzip -f '" + (dir / "g.csv").string() + "'").c_str()), 0);
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  EXPECT_TRUE(torch::equal(read_table((dir / "g.csv.gz").string()).values, plain.values));
  if (std::system(("zstd -q -f --rm '" + (dir / "z.csv").string() + "' 2>/dev/null").c_str()) == 0) {
    EXPECT_TRUE(torch::equal(read_table((dir / "z.csv.zst").string()).values, plain.values));
  }
  std::string big = "a,b\n";
  for (int i = 0; i < 20000; ++i) big += std::to_string(i) + "," + std::to_string(i * 7 % 13) + "\n";
  put_text(dir / "big.csv", big);
  ASSERT_EQ(std::system(("gzip -f '" + (dir / "big.csv").string() + "'").c_str()), 0);
  fs::resize_file(dir / "big.csv.gz", fs::file_size(dir / "big.csv.gz") / 2);
  const auto error = table_error((dir / "big.csv.gz").string());
  EXPECT_NE(error.find("big.csv.gz"), std::string::npos) << error;
}

// Bytes this process has read through read(2) and the like (/proc/self/io's rchar), page cache included.
int64_t bytes_read_so_far() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

// The trainer counts a table for its memory forecast, then again to size the load's buffer: a .csv.gz is
// inflated for the count once per process (it was twice, 2.4 s each on a 1M x 70 table), and counted anew
// once the file is rewritten.
TEST(TableFormats, ACompressedTableIsCountedOnceUntilItChanges) {
  const auto dir = formats_dir("count_once");
  const auto write_gz = [&](int rows) {
    std::string text = "a,b\n";
    for (int64_t i = 0; i < rows; ++i) text += std::to_string(i * 7919 % 100003) + "," + std::to_string(i) + "\n";
    put_text(dir / "t.csv", text);
    ASSERT_EQ(std::system(("gzip -f '" + (dir / "t.csv").string() + "'").c_str()), 0);
  };
  write_gz(300000);
  const std::string gz = (dir / "t.csv.gz").string();
  const auto compressed = static_cast<int64_t>(fs::file_size(gz));
  ASSERT_GT(compressed, 1 << 20);
  EXPECT_EQ(open_table_source(gz, {})->row_upper_bound(), 300000);
  const auto again = open_table_source(gz, {});  // opening reads a head of the file, not counted here
  const int64_t before = bytes_read_so_far();
  EXPECT_EQ(again->row_upper_bound(), 300000);
  EXPECT_LT(bytes_read_so_far() - before, compressed / 10) << "the second count inflated the file again";
  write_gz(1000);
  EXPECT_EQ(open_table_source(gz, {})->row_upper_bound(), 1000);
}

// A directory is a dataset as Spark, Dask and pyarrow.dataset write one: its files at any depth, in path
// order, without _SUCCESS, _metadata or hidden files (it was refused as "a directory").
TEST(TableFormats, ADatasetDirectoryReadsAsItsFiles) {
  const auto dir = formats_dir("dataset");
  const auto plain = read_table(put_text(dir / "p.csv", kPlain).string());
  const auto data = dir / "out.csv";
  fs::create_directories(data / "part=0");
  fs::create_directories(data / "part=1");
  fs::create_directories(data / "_temporary" / "0");
  put_text(data / "part=0" / "part-00000.csv", "name,a,b,target\nx1,1.5,2,3\nx2,4,5.25,6\n");
  put_text(data / "part=1" / "part-00000.csv", "name,a,b,target\nx3,7,8,9.5\n");
  put_text(data / "_SUCCESS", "");
  put_text(data / ".part-00000.csv.crc", "binary");
  put_text(data / "_temporary" / "0" / "stale.csv", "other,columns\n1,2\n");
  const auto t = read_table(data.string());
  EXPECT_EQ(t.columns, plain.columns);
  EXPECT_TRUE(torch::equal(t.values, plain.values));
  const auto empty = dir / "empty";
  fs::create_directories(empty / "_logs");
  EXPECT_NE(table_error(empty.string()).find("empty: a directory with no table files"), std::string::npos)
      << table_error(empty.string());
  EXPECT_NE(table_error((dir / "*").string()).find("is a directory among a glob's matches"), std::string::npos)
      << table_error((dir / "*").string());
}

TEST(TableFormats, AFifoOrADeviceIsRefusedByName) {
  const auto dir = formats_dir("fifo");
  const auto fifo = dir / "pipe.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(table_error(fifo.string()).find("pipe.csv: is a FIFO"), std::string::npos) << table_error(fifo.string());
  TableReadOptions csv;
  csv.format = TableFormat::csv;
  EXPECT_NE(table_error("/dev/zero", csv).find("/dev/zero: is a device"), std::string::npos);
}

TEST(TableFormats, ARowLongerThanTheBlockIsRefusedNotBuffered) {
  const auto dir = formats_dir("long_row");
  const auto file = put_text(dir / "long.csv", "a,b\n1,2\n\"" + std::string(17 << 20, 'x') + "\",1\n1,2\n");
  EXPECT_NE(table_error(file.string()).find("long.csv: a row or quoted field longer than 16 MB"), std::string::npos)
      << table_error(file.string()).substr(0, 200);
  const auto unclosed = put_text(dir / "unclosed.csv", "a,b\n1,2\n\"" + std::string(17 << 20, 'x') + ",1\n1,2\n");
  EXPECT_NE(table_error(unclosed.string()).find("unclosed.csv: a row or quoted field longer than 16 MB"),
            std::string::npos) << table_error(unclosed.string()).substr(0, 200);
}

TEST(TableFormats, UnknownExtensionNeedsDataFormat) {
  const auto dir = formats_dir("extension");
  const auto file = put_text(dir / "t.data", "a,b\n1,2\n");
  EXPECT_NE(table_error(file.string()).find("unknown table format"), std::string::npos);
  TableReadOptions csv;
  csv.format = TableFormat::csv;
  EXPECT_EQ(read_table(file.string(), csv).values.size(0), 1);
}

TEST(TableFormats, ParquetGlobReadsTheSameFloat32TableRowGroupByRowGroup) {
  const auto dir = formats_dir("parquet");
  std::string text = "name,a,b,target\n";
  for (int i = 0; i < 300; ++i) text += "m" + std::to_string(i) + "," + std::to_string(i * 0.37) + ",NA,3\n";
  put_text(dir / "all.csv", text);
  put_text(dir / "p1.csv", text.substr(0, text.find("m150,")));
  put_text(dir / "p2.csv", "name,a,b,target\n" + text.substr(text.find("m150,")));
  if (!write_parquet("float32", dir / "p1.csv", dir / "part1.parquet", 64) ||
      !write_parquet("float32", dir / "p2.csv", dir / "part2.parquet", 64)) {
    GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  }
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  auto source = open_table_source((dir / "part*.parquet").string(), {}, roles);
  EXPECT_EQ(source->row_count().value_or(-1), 300);
  const auto parquet = read_table(*source);
  const auto csv = read_table((dir / "all.csv").string(), {}, roles);
  EXPECT_EQ(parquet.columns, csv.columns);
  EXPECT_TRUE(torch::equal(parquet.values.nan_to_num(-1), csv.values.nan_to_num(-1)));  // NA and null: NaN
  EXPECT_EQ(parquet.ids.values, csv.ids.values);
}

// Every numeric Parquet type converts as the same number written in a CSV cell does (through double), nulls are
// NaN, and a table read in parts (the pruner's batches; ids too) equals the one read whole.
TEST(TableFormats, ParquetTypesAndBatchesReadLikeTheCsv) {
  const auto dir = formats_dir("parquet_typed");
  std::string text = "name,f_a,f64_b,i64_c,u32_d,u64_e,i8_f,f16_g,null_h,target\n";
  for (int i = 0; i < 150; ++i) {
    text += "m" + std::to_string(i) + "," + (i % 7 ? std::to_string(i * 0.37) : "") + "," + std::to_string(i) +
            ".1e30," + std::to_string(9007199254740993LL - i) + "," + std::to_string(4000000000LL - i) + "," +
            std::to_string(18000000000000000000ULL - static_cast<unsigned long long>(i)) + "," +
            std::to_string(i % 100 - 50) + "," + std::to_string(i % 8) + ".5,," + std::to_string(i % 5) + "\n";
  }
  put_text(dir / "t.csv", text);
  if (!write_parquet("typed", dir / "t.csv", dir / "t.parquet", 64)) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  const auto csv = read_table((dir / "t.csv").string(), {}, roles);
  const auto parquet = read_table((dir / "t.parquet").string(), {}, roles);
  ASSERT_EQ(parquet.columns, csv.columns);
  EXPECT_TRUE(torch::equal(parquet.values.nan_to_num(-1), csv.values.nan_to_num(-1)));
  EXPECT_EQ(parquet.ids.values, csv.ids.values);
  EXPECT_TRUE(parquet.values.select(1, 7).isnan().all().item<bool>());  // null_h
  EXPECT_EQ(parquet.values[149][3].item<float>(), static_cast<float>(4000000000.0 - 149));  // u32 past 2^31

  auto source = open_table_source((dir / "t.parquet").string(), {}, roles);
  std::vector<float> rows(7 * parquet.columns.size());
  TextColumns ids{{"name"}, {{}}};
  std::vector<torch::Tensor> parts;
  for (int64_t n; (n = source->read_rows(rows.data(), 7, &ids)) > 0;) {
    parts.push_back(torch::from_blob(rows.data(), {n, static_cast<int64_t>(parquet.columns.size())}).clone());
  }
  EXPECT_TRUE(torch::equal(torch::cat(parts).nan_to_num(-1), parquet.values.nan_to_num(-1)));
  EXPECT_EQ(ids.values, parquet.ids.values);

  put_text(dir / "big.csv", "f64_x,target\n1.5,1\n1e39,2\n");
  ASSERT_TRUE(write_parquet("typed", dir / "big.csv", dir / "big.parquet", 64));
  const auto refused = table_error((dir / "big.parquet").string());
  EXPECT_NE(refused.find("big.parquet: row 2: column 'f64_x': '1e+39' is not a finite 32-bit number"), std::string::npos)
      << refused;
}

TEST(TableFormats, ParquetRefusalsNameTheFileAndColumn) {
  const auto dir = formats_dir("parquet_bad");
  put_text(dir / "t.csv", kPlain);
  put_text(dir / "other.csv", "name,a,c,target\nx,1,2,3\n");
  if (!write_parquet("float32", dir / "t.csv", dir / "a1.parquet") ||
      !write_parquet("strings", dir / "t.csv", dir / "strings.parquet") ||
      !write_parquet("nested", dir / "t.csv", dir / "nested.parquet") ||
      !write_parquet("float32", dir / "other.csv", dir / "a2.parquet")) {
    GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  }
  CsvColumnRoles wants_b;
  wants_b.numeric = {"b"};
  EXPECT_NE(table_error((dir / "strings.parquet").string(), {}, wants_b).find("strings.parquet: column 'b' is a Parquet "
                                                                          "column of string, not numbers"),
            std::string::npos);
  EXPECT_EQ(read_table((dir / "nested.parquet").string()).columns, (std::vector<std::string>{"a", "b", "target"}));
  CsvColumnRoles wants_nested;
  wants_nested.numeric = {"nested"};
  EXPECT_NE(table_error((dir / "nested.parquet").string(), {}, wants_nested).find("is a nested Parquet type"),
            std::string::npos);
  const auto mixed = table_error((dir / "a*.parquet").string());
  EXPECT_NE(mixed.find("a2.parquet:1:3: header differs from"), std::string::npos) << mixed;
  EXPECT_NE(mixed.find("a1.parquet"), std::string::npos) << mixed;
  fs::copy_file(dir / "a1.parquet", dir / "half.parquet");
  fs::resize_file(dir / "half.parquet", fs::file_size(dir / "half.parquet") / 2);
  EXPECT_NE(table_error((dir / "half.parquet").string()).find("half.parquet: not a readable Parquet file"),
            std::string::npos) << table_error((dir / "half.parquet").string());
}
