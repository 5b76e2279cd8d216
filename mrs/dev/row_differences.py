"""Rows one relation has that another has not, both ways (EXCEPT ALL): how a sharded build is
compared with one process (`mrs bench --shards`, tests/python/test_shards.py).

The relations are read into Arrow from their own database first: a sharded deployment's logs
are views that name their own catalog, so the two files cannot be attached side by side.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa


def row_differences(first: pa.Table, other: pa.Table) -> tuple[int, int]:
    """How many rows only `first` has and only `other` has, counting duplicates."""
    with duckdb.connect() as both:
        both.register("first_rows", first)
        both.register("other_rows", other)
        found = both.execute(
            "select (select count(*) from (from first_rows except all from other_rows)), "
            "(select count(*) from (from other_rows except all from first_rows))"
        ).fetchone()
    assert found is not None
    return found[0], found[1]
