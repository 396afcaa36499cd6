"""Writes the Parquet fixtures the table-reader tests need, with the pyarrow of tools/requirements.txt
(SAFETRAIN_PYTHON). Usage: write_table.py MODE INPUT.csv OUTPUT.parquet [ROW_GROUP_ROWS]
  float32   every column of INPUT as float32 (text columns stay strings)
  nested    INPUT as float32 plus a list<float> column 'nested'
  strings   INPUT with column 'b' as strings
  pandas-index  INPUT as float32, written by pandas with a row index that is not a range (a filtered
            DataFrame): pandas stores it as the column __index_level_0__ and names it in its metadata
  typed     INPUT's numeric columns typed by their name's prefix: f64_ float64, i64_ int64, u32_ uint32,
            u64_ uint64, i8_ int8, f16_ float16, null_ Arrow's null type (all missing); others float32
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

mode, source, target = sys.argv[1:4]
rows_per_group = int(sys.argv[4]) if len(sys.argv) > 4 else 64
table = pacsv.read_csv(source)
TYPED = {"f64_": pa.float64(), "i64_": pa.int64(), "u32_": pa.uint32(), "u64_": pa.uint64(), "i8_": pa.int8()}
columns = []
for name, column in zip(table.column_names, table.columns):
    prefix = name[: name.find("_") + 1]
    if mode == "typed" and prefix == "null_":
        columns.append(pa.nulls(table.num_rows))
    elif mode == "typed" and prefix == "f16_":
        columns.append(pa.array(column.to_numpy(zero_copy_only=False).astype(np.float16), pa.float16()))
    elif mode == "typed" and prefix in TYPED:
        columns.append(column.cast(TYPED[prefix]))
    elif mode == "strings" and name == "b":
        columns.append(column.cast(pa.string()))
    elif pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        columns.append(column.cast(pa.float32()))
    else:
        columns.append(column)
out = pa.table(columns, names=table.column_names)
if mode == "nested":
    out = out.append_column("nested", pa.array([[float(i), 1.0] for i in range(out.num_rows)], pa.list_(pa.float32())))
if mode == "pandas-index":
    frame = out.to_pandas()
    frame.index = np.arange(frame.shape[0]) * 3 + 7
    out = pa.Table.from_pandas(frame, preserve_index=True)
pq.write_table(out, target, row_group_size=rows_per_group)
