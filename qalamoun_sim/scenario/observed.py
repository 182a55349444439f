"""Observed days (``[weather.observed] csv``): what dated reports say of some days, blank where they are silent.

Unlike a replay file, which fixes every day, an observed-days file fixes only what a report gives:
a day's temperature at the reference elevation (``temperature_c``), its departure from the seasonal
normal (``temperature_anomaly_c``) or the snow line that day (``snow_line_m``, turned into a reference
temperature through the lapse rate and the rain/snow threshold), its precipitation and whether it was
a storm day. A blank cell, or a day the file does not list, is left to the stochastic generator.
A ``source`` column names the report each row rests on. Every problem names the file, the line and
the column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScenarioError

__all__ = ["ObservedDays", "read_observed_csv", "OBSERVED_COLUMNS"]

#: Columns an observed-days file may have; ``date`` is required, every other column may be blank.
OBSERVED_COLUMNS: tuple[str, ...] = ("date", "temperature_c", "temperature_anomaly_c", "snow_line_m",
                                     "precipitation_mm", "storm", "source")
_RANGES = {"temperature_c": (-60.0, 50.0), "temperature_anomaly_c": (-40.0, 40.0), "snow_line_m": (-500.0, 9000.0),
           "precipitation_mm": (0.0, 2000.0), "storm": (0.0, 1.0)}


@dataclass(frozen=True)
class ObservedDays:
    """What the reports say of each scenario day, arrays shaped (days,): NaN where they are silent."""

    temperature_c: np.ndarray
    temperature_anomaly_c: np.ndarray
    snow_line_m: np.ndarray
    precipitation_mm: np.ndarray
    storm: np.ndarray
    source: tuple[str, ...]

    @property
    def reported_days(self) -> int:
        """Days on which some report gives a figure."""
        given = np.column_stack([~np.isnan(getattr(self, c)) for c in _RANGES])
        return int(given.any(axis=1).sum())


def read_observed_csv(path: str | Path, dates: Sequence[dt.date]) -> ObservedDays:
    """Read an observed-days file and align it with the scenario's ``dates`` (NaN where silent).

    Raises
    ------
    ScenarioError
        An unreadable file, an unknown or missing column, a bad or repeated date, a number that is not
        one or lies outside its range, two temperature columns on one row.

    Examples
    --------
    >>> import datetime as dt, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "o.csv")
    >>> _ = open(f, "w").write("date,snow_line_m,precipitation_mm,source\\n2013-12-11,1300,12,report\\n")
    >>> o = read_observed_csv(f, [dt.date(2013, 12, 10), dt.date(2013, 12, 11)])
    >>> o.snow_line_m.tolist(), o.precipitation_mm.tolist(), o.source
    ([nan, 1300.0], [nan, 12.0], ('', 'report'))
    """
    source = str(path)
    table = _table(Path(path), source)
    index = {d: i for i, d in enumerate(dates)}
    rows = [index.get(d, -1) for d in _dates(table, source)]
    out: dict[str, Any] = {}
    for col in _RANGES:
        values = _column(table, col, source)
        aligned = np.full(len(dates), np.nan)
        for at, v in zip(rows, values, strict=True):
            if at >= 0:
                aligned[at] = v
        out[col] = aligned
    temps = np.column_stack([~np.isnan(out[c]) for c in ("temperature_c", "temperature_anomaly_c", "snow_line_m")])
    if (temps.sum(axis=1) > 1).any():
        day = dates[int(np.argmax(temps.sum(axis=1) > 1))]
        raise ScenarioError(source, "temperature_c", f"{day}: give one of temperature_c, temperature_anomaly_c, "
                                                     "snow_line_m per day")
    notes = [""] * len(dates)
    if "source" in table.columns:
        for at, text in zip(rows, table["source"].fillna("").astype(str), strict=True):
            if at >= 0:
                notes[at] = text
    return ObservedDays(out["temperature_c"], out["temperature_anomaly_c"], out["snow_line_m"],
                        out["precipitation_mm"], out["storm"], tuple(notes))


def _table(path: Path, source: str) -> Any:
    """The file as a DataFrame with known columns only."""
    import pandas as pd

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot read: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise ScenarioError(source, None, "a binary file, not an observed-days CSV")
    try:
        import io

        table = pd.read_csv(io.StringIO(data.decode("utf-8-sig")), dtype=str, keep_default_na=False)
    except Exception as exc:  # whatever the parser raises is bad input
        raise ScenarioError(source, None, f"cannot read observed-days CSV: {str(exc).strip()[:120]}") from None
    table.columns = [str(c).strip() for c in table.columns]
    unknown = [c for c in table.columns if c not in OBSERVED_COLUMNS]
    if unknown or "date" not in table.columns:
        raise ScenarioError(source, unknown[0] if unknown else "date",
                            ("unknown column" if unknown else "missing column") + f" (columns: {', '.join(OBSERVED_COLUMNS)})")
    return table


def _dates(table: Any, source: str) -> list[dt.date]:
    seen: dict[dt.date, int] = {}
    for line, text in enumerate(table["date"], start=2):
        try:
            day = dt.date.fromisoformat(str(text).strip())
        except ValueError:
            raise ScenarioError(source, f"line {line}.date", f"not a date (YYYY-MM-DD): '{text}'") from None
        if day in seen:
            raise ScenarioError(source, f"line {line}.date", f"{day} repeats line {seen[day]}")
        seen[day] = line
    return list(seen)


def _column(table: Any, col: str, source: str) -> list[float]:
    """A numeric column: NaN where blank; anything else must be a finite number in its range."""
    if col not in table.columns:
        return [math.nan] * len(table)
    lo, hi = _RANGES[col]
    out = []
    for line, text in enumerate(table[col], start=2):
        text = str(text).strip()
        if not text:
            out.append(math.nan)
            continue
        try:
            value = float({"true": "1", "false": "0"}.get(text.lower(), text))
        except ValueError:
            raise ScenarioError(source, f"line {line}.{col}", f"not a number: '{text}'") from None
        if not (lo <= value <= hi):  # NaN and infinity fail this too
            raise ScenarioError(source, f"line {line}.{col}", f"must be within {lo:g} .. {hi:g}, got {text}")
        out.append(value)
    return out
