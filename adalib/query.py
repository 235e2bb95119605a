"""Running Polars queries on small frames: planning and scheduling cost more than the arithmetic.

Chains of steps run as one lazy query on the in-memory engine (the default engine of polars 2
costs more on small frames), without optimisations: every expression runs as written
(simplification would only fold constants and rewrite a few aggregates: same numbers).

>>> import polars as pl
>>> collect(add_columns(pl.LazyFrame({"a": [1, 2]}), ((pl.col("a") * 2).alias("b"),), rows=2))["b"].to_list()
[2, 4]
"""

from __future__ import annotations

import polars as pl

AS_WRITTEN = pl.QueryOptFlags.none()
# Below this many rows a step's expressions run one after another (``with_columns_seq``): handing them
# to the thread pool costs more than it saves.
PARALLEL_ROWS = 100_000


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    """Run ``query`` on the in-memory engine, as written."""
    return query.collect(engine="in-memory", optimizations=AS_WRITTEN)


def add_columns(query: pl.LazyFrame, steps: tuple, rows: int) -> pl.LazyFrame:
    """``query`` with the columns of each step (a tuple of expressions) in turn: a step may use the
    columns of earlier ones. ``rows``: about how many rows the query has (see ``PARALLEL_ROWS``)."""
    for step in steps:
        query = query.with_columns(step) if rows >= PARALLEL_ROWS else query.with_columns_seq(step)
    return query
