"""Every column of the result tables: its Arrow type, its units and what it means.

:data:`COLUMNS` is the one description of the tables a run (:class:`~qalamoun_sim.engine.results.Run`)
and a results folder hold; the folder's Parquet files are written with :func:`arrow_schema`, so every
file of a table has the same column types whatever its chunk holds (an empty events table, a chunk
whose convoys all arrived), and each field carries its ``units`` and ``description`` as Parquet
field metadata. docs/reference.md renders the same table.

Units follow UDUNITS as CF names them: ``1`` is dimensionless, ``d`` a day number, ``t d-1``
tonnes per day; an empty unit is a label (an id, a category) or a date.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = ["COLUMNS", "FOLDER_TABLES", "arrow_schema", "to_arrow"]

_ID = pa.dictionary(pa.int32(), pa.string())
_DATE = pa.timestamp("ms")
_REP = ("replication", pa.int64(), "1", "replication index (ensembles and results folders only)")

#: Table -> ((column, Arrow type, units, description), ...), in the order the columns are written.
COLUMNS: dict[str, tuple[tuple[str, pa.DataType, str, str], ...]] = {
    "routes": (
        _REP,
        ("day", pa.int64(), "d", "day of the scenario, 0 = its first day"),
        ("date", _DATE, "", "calendar date of the day"),
        ("route", _ID, "", "route id"),
        ("snow_depth_cm", pa.float64(), "cm", "snow depth at the route's highest point, end of the day"),
        ("capacity_factor", pa.float64(), "1", "share of the route's capacity left by snow and interdiction "
                                              "(0 closed, 1 open)"),
        ("state", _ID, "", "open, snow (closed by snow), interdicted, or both"),
        ("flow_t", pa.float64(), "t d-1", "tonnes of the route's capacity used by convoys that day"),
    ),
    "towns": (
        _REP,
        ("day", pa.int64(), "d", "day of the scenario, 0 = its first day"),
        ("date", _DATE, "", "calendar date of the day"),
        ("town", _ID, "", "town id"),
        ("delivered_t", pa.float64(), "t d-1", "tonnes delivered to the town that day"),
        ("stock_t", pa.float64(), "t", "the town's stock at the end of the day"),
        ("consumed_t", pa.float64(), "t d-1", "tonnes the town consumed that day"),
        ("shortfall_t", pa.float64(), "t d-1", "the day's need its stock could not meet"),
    ),
    "convoys": (
        _REP,
        ("id", pa.int64(), "1", "convoy number within its replication, in order of dispatch"),
        ("source", _ID, "", "source id the convoy left from"),
        ("town", _ID, "", "town id of its last destination"),
        ("dispatched_day", pa.int64(), "d", "day it was dispatched"),
        ("date", _DATE, "", "calendar date of dispatched_day"),
        ("arrived_day", pa.int64(), "d", "day it delivered (null unless delivered)"),
        ("arrived_date", _DATE, "", "calendar date of arrived_day (null unless delivered)"),
        ("tonnes", pa.float64(), "t", "tonnes carried"),
        ("fate", _ID, "", "delivered, intercepted, stranded or in_transit (at the horizon)"),
        ("end_day", pa.int64(), "d", "day its fate was settled (null while in transit)"),
        ("end_date", _DATE, "", "calendar date of end_day (null while in transit)"),
        ("reason", pa.string(), "", "checkpoint, strike, max_wait, turned_back, or empty"),
    ),
    "weather": (
        _REP,
        ("day", pa.int64(), "d", "day of the scenario, 0 = its first day"),
        ("date", _DATE, "", "calendar date of the day"),
        ("elevation_m", pa.float64(), "m", "elevation of the snow band (one row per band and day)"),
        ("snow_depth_cm", pa.float64(), "cm", "snow depth in the band at the end of the day"),
        ("temperature_c", pa.float64(), "degC", "air temperature at the reference elevation, daily mean "
                                                "(the same on every band's row of a day)"),
        ("precipitation_mm", pa.float64(), "mm", "precipitation at the reference elevation, daily total, water "
                                                 "equivalent (the same on every band's row of a day)"),
        ("storm", pa.bool_(), "", "a storm day (the same on every band's row of a day)"),
    ),
    "events": (
        _REP,
        ("day", pa.int64(), "d", "first day the event holds"),
        ("date", _DATE, "", "calendar date of the day"),
        ("town", _ID, "", "town id"),
        ("event", _ID, "", "captured or settled"),
        ("cause", pa.string(), "", "scripted or cut_off (captures), shortage (settlements)"),
    ),
    "summary": (
        _REP,
        ("town", _ID, "", "town id"),
        ("delivered_t", pa.float64(), "t", "tonnes delivered over the horizon"),
        ("shortfall_t", pa.float64(), "t", "need not met over the horizon"),
        ("days_without_stock", pa.int64(), "d", "days ending with an empty stock while the town needs supply"),
        ("final_stock_t", pa.float64(), "t", "stock at the end of the last day"),
        ("captured_day", pa.float64(), "d", "first day captured (NaN if never)"),
        ("captured_date", _DATE, "", "calendar date of captured_day (null if never)"),
        ("settled_day", pa.float64(), "d", "first day settled (NaN if never)"),
        ("settled_date", _DATE, "", "calendar date of settled_day (null if never)"),
        ("event_count", pa.int64(), "1", "SimPy events the replication processed (the same on its every row)"),
    ),
}

#: The tables of a results folder, each a folder of Parquet files: the run's tables and the per-replication
#: ``summary`` (one row per replication and town).
FOLDER_TABLES: tuple[str, ...] = tuple(COLUMNS)


#: Integer columns that may be null: pandas reads them as ``Int64``.
_NULLABLE_INT = {("convoys", "arrived_day"), ("convoys", "end_day")}


def _pandas_dtype(table: str, name: str, typ: pa.DataType) -> Any:
    """The pandas dtype a column reads back as (what the ``pandas`` metadata of every file says)."""
    if pa.types.is_dictionary(typ):
        return pd.CategoricalDtype([])
    if pa.types.is_timestamp(typ):
        return "datetime64[ms]"
    if pa.types.is_string(typ):
        return "str"
    if pa.types.is_integer(typ):
        return "Int64" if (table, name) in _NULLABLE_INT else "int64"
    return typ.to_pandas_dtype()


@functools.cache
def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of one table of a results folder, units and descriptions as field metadata.

    The schema's ``pandas`` metadata is the same for every file of the table (built from the columns'
    types, not from one chunk's frame), so pandas reads a folder of them back with one set of dtypes.

    Examples
    --------
    >>> s = arrow_schema("towns")
    >>> s.field("stock_t").metadata[b"units"], str(s.field("town").type)
    (b't', 'dictionary<values=string, indices=int32, ordered=0>')
    """
    cols = COLUMNS[table]
    empty = pd.DataFrame({name: pd.Series([], dtype=_pandas_dtype(table, name, typ)) for name, typ, _, _ in cols})
    pandas_meta = pa.Schema.from_pandas(empty, preserve_index=False).metadata[b"pandas"]
    fields = [pa.field(name, typ, nullable=True, metadata={"units": units, "description": text})
              for name, typ, units, text in cols]
    return pa.schema(fields, metadata={b"pandas": pandas_meta, b"qalamoun_sim.table": table.encode()})


def to_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    """A table's frame as Arrow with the table's schema: its columns in order, each cast to its type.

    Raises
    ------
    KeyError
        A column of the schema missing from ``df``.
    """
    schema = arrow_schema(table)
    missing = [n for n in schema.names if n not in df.columns]
    if missing:
        raise KeyError(f"table '{table}' lacks column(s) {', '.join(missing)}")
    return pa.Table.from_arrays([_array(df[f.name], f.type) for f in schema], schema=schema)


def _array(col: pd.Series, typ: pa.DataType) -> Any:
    """One column as an Arrow array of ``typ``: categories kept whole (every id, used or not), nulls as nulls."""
    if pa.types.is_dictionary(typ):
        cat = col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("category")
        codes = cat.cat.codes.to_numpy()
        indices = pa.array(codes.astype("int32"), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array([str(c) for c in cat.cat.categories], pa.string()))
    return pa.array(col, from_pandas=True).cast(typ)
