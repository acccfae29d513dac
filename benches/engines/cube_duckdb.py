"""The columnar cube plan on DuckDB, for the cube bench's side-by-side figure.

Usage: python3 cube_duckdb.py PLAN.json
PLAN.json (written by `cargo bench --bench cube`) names the snapshot's
folder and tables and holds the very statements the gateway's columnar
build runs.
Prints one JSON line: seconds, cells and a checksum of every cell.
"""

import json
import os
import sys
import time

import duckdb

def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        plan = json.load(f)
    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count()}")
    # The plan's SQL divides integers as integers.
    con.execute("SET integer_division = true")
    start = time.perf_counter()
    for table in plan["snapshot_tables"]:
        path = os.path.join(plan["snapshot"], f"{table}.parquet")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    for name, sql in plan["tables"]:
        con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
    for index, (_, sql) in enumerate(plan["parts"]):
        con.execute(f"CREATE TEMP TABLE part_{index} AS {sql}")
    seconds = time.perf_counter() - start
    cells = 0
    checksum = 0
    for index, (multi_dim, _) in enumerate(plan["parts"]):
        count, total = con.execute(
            f"SELECT COUNT(*), COALESCE(SUM({plan['checksum'].replace('MULTI_DIM', str(multi_dim))}), 0) FROM part_{index}"
        ).fetchone()
        cells += count
        checksum += total
    print(json.dumps({"engine": f"duckdb {duckdb.__version__}", "seconds": seconds, "cells": cells, "checksum": checksum}))


if __name__ == "__main__":
    main()
