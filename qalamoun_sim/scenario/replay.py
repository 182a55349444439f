"""The weather replay CSV (``[weather] replay_csv``): read and checked once, for ``validate`` and for the run.

A replay file has a header row and one row per date: ``date, temperature_c, precipitation_mm``
and optionally ``storm`` (0/1 or true/false). Every problem names the file, the line and the column:
a binary or oversized file, a missing column, text in a number column, an empty cell, NaN or
infinity, a temperature outside -90..60 degC, negative or absurd precipitation, an unparseable or
duplicated date, a scenario day the file does not cover.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScenarioError

__all__ = ["ReplayWeather", "read_replay_csv", "REPLAY_COLUMNS", "MAX_REPLAY_BYTES", "TEMPERATURE_RANGE_C",
           "MAX_PRECIPITATION_MM"]

#: The columns a replay file must have (``storm`` may follow).
REPLAY_COLUMNS: tuple[str, ...] = ("date", "temperature_c", "precipitation_mm")
#: Larger files are refused before they are read (a century of days is about 4 MB).
MAX_REPLAY_BYTES = 64 * 2**20
#: Daily temperatures outside this range are refused (the records on Earth are -89 and +57 degC).
TEMPERATURE_RANGE_C = (-90.0, 60.0)
#: Daily precipitation above this is refused (the world's record day is about 1,825 mm).
MAX_PRECIPITATION_MM = 2000.0


@dataclass(frozen=True)
class ReplayWeather:
    """The replayed days of a scenario, arrays shaped (days,): temperature, precipitation, storm."""

    temperature_c: np.ndarray
    precipitation_mm: np.ndarray
    storm: np.ndarray


def read_replay_csv(path: str | Path, dates: Sequence[dt.date]) -> ReplayWeather:
    """Read a replay CSV, check every row, and return its values on ``dates`` (in that order).

    Parameters
    ----------
    path : path
        The CSV file.
    dates : sequence of date
        The scenario's days; each must have exactly one row.

    Raises
    ------
    ScenarioError
        At the first problem, naming the file, the line (1 is the header) and the column.

    Examples
    --------
    >>> import datetime as dt, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> _ = open(f, "w").write("date,temperature_c,precipitation_mm\\n2013-12-01,-2.5,4\\n2013-12-02,1,0\\n")
    >>> read_replay_csv(f, [dt.date(2013, 12, 2)]).temperature_c
    array([1.])
    >>> read_replay_csv(f, [dt.date(2013, 12, 3)])
    Traceback (most recent call last):
    ...
    qalamoun_sim.errors.ScenarioError: ...w.csv: date: no row for 2013-12-03 (1 scenario day missing; the file covers 2013-12-01 .. 2013-12-02)
    """
    source = str(path)
    table = _parse(_read_text(Path(path), source), source)
    days = _dates(table, source)
    temp = _numbers(table, "temperature_c", source, TEMPERATURE_RANGE_C)
    precip = _numbers(table, "precipitation_mm", source, (0.0, MAX_PRECIPITATION_MM))
    storm = _storm(table, source)
    rows = _rows_for(days, dates, source)
    return ReplayWeather(temp[rows], precip[rows], storm[rows])


def _read_text(path: Path, source: str) -> str:
    """The file as text: refused when missing, not a file, too large, binary or not UTF-8."""
    try:
        if not path.is_file():
            raise ScenarioError(source, None, "not a file" if path.exists() else "file not found")
        with path.open("rb") as fh:
            data = fh.read(MAX_REPLAY_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_REPLAY_BYTES:
        raise ScenarioError(source, None, f"larger than {MAX_REPLAY_BYTES // 2**20} MiB: not a weather CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, None, f"not UTF-8 text (byte {exc.start}): a binary file?") from None
    if "\0" in text:
        raise ScenarioError(source, None, "a binary file, not a weather CSV")
    return text


def _parse(text: str, source: str) -> Any:
    """The CSV as a DataFrame of strings and numbers, with every required column."""
    import pandas as pd

    try:
        table = pd.read_csv(io.StringIO(text))
    except Exception as exc:  # whatever the parser raises is bad input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError(source, None, f"cannot read weather CSV: {first}") from None
    table.columns = [str(c).strip() for c in table.columns]
    for col in REPLAY_COLUMNS:
        if col not in table.columns:
            raise ScenarioError(source, col, f"missing column (need {', '.join(REPLAY_COLUMNS)}; "
                                             f"have {', '.join(map(str, table.columns)) or 'none'})")
    if len(table) == 0:
        raise ScenarioError(source, None, "no rows after the header")
    return table


def _line(i: int) -> str:
    """Row ``i`` of the table as a line of the file (the header is line 1)."""
    return f"line {i + 2}"


def _numbers(table: Any, col: str, source: str, bounds: tuple[float, float]) -> np.ndarray:
    """A number column as floats: every cell a finite number within ``bounds``."""
    import pandas as pd

    raw = table[col]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    lo, hi = bounds
    bad = ~np.isfinite(values) | (values < lo) | (values > hi)
    if bad.any():
        i = int(np.argmax(bad))
        cell, v = raw.iloc[i], values[i]
        if isinstance(cell, float) and math.isnan(cell) or str(cell).strip() == "":
            problem = "no value (an empty cell or NaN)"
        elif math.isnan(v):
            problem = f"not a number: '{str(cell)[:40]}'"
        elif math.isinf(v):
            problem = "must be finite"
        else:
            problem = f"must be between {lo:g} and {hi:g}, got {v:g}"
        raise ScenarioError(source, f"{_line(i)}, {col}", problem)
    return values


def _storm(table: Any, source: str) -> np.ndarray:
    """The optional storm column as booleans: numbers (non-zero is a storm) or true/false; empty is no storm."""
    if "storm" not in table.columns:
        return np.zeros(len(table), dtype=bool)
    import pandas as pd

    raw = table["storm"]
    if raw.dtype == bool:
        return raw.to_numpy(dtype=bool)
    text = raw.astype("string").str.strip().str.lower()
    named = text.map({"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0})
    values = pd.to_numeric(raw.where(named.isna(), named), errors="coerce").to_numpy(dtype=float)
    empty = raw.isna().to_numpy()
    bad = ~empty & ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise ScenarioError(source, f"{_line(i)}, storm", f"must be 0 or 1 (or true/false), got '{str(raw.iloc[i])[:40]}'")
    return np.where(empty, 0.0, values) != 0


def _dates(table: Any, source: str) -> list[dt.date]:
    """The date column as dates: each parseable, none twice."""
    import pandas as pd

    raw = table["date"]
    parsed = pd.to_datetime(raw.astype("string").str.strip(), errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        cell = raw.iloc[i]
        problem = "empty cell" if cell is None or (isinstance(cell, float) and math.isnan(cell)) \
            else f"not a date: '{str(cell)[:40]}'"
        raise ScenarioError(source, f"{_line(i)}, date", problem)
    days = list(parsed.dt.date)
    seen: dict[dt.date, int] = {}
    for i, d in enumerate(days):
        if d in seen:
            raise ScenarioError(source, f"{_line(i)}, date", f"duplicate date {d} (also {_line(seen[d])})")
        seen[d] = i
    return days


def _rows_for(days: list[dt.date], dates: Sequence[dt.date], source: str) -> np.ndarray:
    """The row of each scenario date; a date without a row is an error."""
    where = {d: i for i, d in enumerate(days)}
    missing = [d for d in dates if d not in where]
    if missing:
        n = len(missing)
        raise ScenarioError(source, "date", f"no row for {missing[0]} ({n} scenario day{'s' if n > 1 else ''} "
                                            f"missing; the file covers {min(days)} .. {max(days)})")
    return np.array([where[d] for d in dates], dtype=int)
