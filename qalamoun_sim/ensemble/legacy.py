"""Results folders of qalamoun-sim 0.1.0: every table's chunks in one ``chunks/`` folder.

0.1.0 wrote ``chunks/chunk-NNNNN-TABLE.parquet`` (a manifest of format 1, or none before it), a wide
weather table (a ``depth_<elevation>m_cm`` column per snow band) and convoys with day numbers only.
The :class:`~qalamoun_sim.ensemble.Ensemble` reader still reads such a folder: :func:`upgrade_frame`
turns each file it reads into the tables of this version (weather long, the dates added), so the
figures and analyses read both layouts alike. Other tools want one folder per table:
:func:`~qalamoun_sim.ensemble.upgrade.upgrade_folder` writes a copy in this version's layout.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from ..engine.columns import COLUMNS

__all__ = ["LEGACY_DIR", "LEGACY_RE", "DEPTH_COLUMN", "legacy_rel", "upgrade_frame", "weather_long"]

#: The one folder of 0.1.0's chunk files.
LEGACY_DIR = "chunks"
#: A 0.1.0 chunk file's name: its index and its table.
LEGACY_RE = re.compile(r"^chunk-(\d{5})-(\w+)\.parquet$")
#: 0.1.0's wide weather columns: ``depth_<elevation>m_cm``.
DEPTH_COLUMN = re.compile(r"^depth_(-?\d+(?:\.\d+)?)m_cm$")
_MS_PER_DAY = 86_400_000


def legacy_rel(index: int, table: str) -> str:
    """Where 0.1.0 kept chunk ``index`` of ``table``, relative to the folder.

    Examples
    --------
    >>> legacy_rel(3, "towns")
    'chunks/chunk-00003-towns.parquet'
    """
    return f"{LEGACY_DIR}/chunk-{index:05d}-{table}.parquet"


def weather_long(wide: pd.DataFrame) -> pd.DataFrame:
    """0.1.0's wide weather table (a ``depth_<z>m_cm`` column per band) as this version's long one.

    One row per (replication,) day and band, bands in ascending elevation, the day's weather on each.

    Examples
    --------
    >>> w = pd.DataFrame({"day": [0, 1], "temperature_c": [1.0, 2.0], "depth_600m_cm": [0.0, 3.0],
    ...                   "depth_500m_cm": [0.0, 1.0]})
    >>> weather_long(w)[["day", "elevation_m", "snow_depth_cm", "temperature_c"]].to_numpy().tolist()
    [[0.0, 500.0, 0.0, 1.0], [0.0, 600.0, 0.0, 1.0], [1.0, 500.0, 1.0, 2.0], [1.0, 600.0, 3.0, 2.0]]
    """
    found = [(float(m.group(1)), c) for c in wide.columns if (m := DEPTH_COLUMN.match(str(c)))]
    found.sort()
    z = np.array([e for e, _ in found], dtype=float)
    depth = wide[[c for _, c in found]].to_numpy(dtype=float)
    keep = [c for c in wide.columns if not DEPTH_COLUMN.match(str(c))]
    out = {c: np.repeat(wide[c].to_numpy(), len(z)) for c in keep if c in ("replication", "day", "date")}
    out["elevation_m"] = np.tile(z, len(wide))
    out["snow_depth_cm"] = depth.ravel()
    out.update({c: np.repeat(wide[c].to_numpy(), len(z)) for c in keep if c not in out})
    return pd.DataFrame(out)


def _dates(days: pd.Series, start: dt.date) -> np.ndarray:
    """Calendar dates (datetime64[ms]) of day numbers, NaT where null."""
    d = pd.to_numeric(days, errors="coerce").astype(float).to_numpy()
    ms = np.datetime64(start, "ms").astype(np.int64) + np.nan_to_num(d) * _MS_PER_DAY
    return np.where(np.isnan(d), np.datetime64("NaT", "ms"), ms.astype(np.int64).astype("datetime64[ms]"))


def upgrade_frame(table: str, df: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """One table as 0.1.0 wrote it, as this version writes it (``start``: the scenario's first date).

    The weather goes long (:func:`weather_long`); the convoys gain ``date``, ``arrived_date`` and
    ``end_date``, the per-replication summary ``captured_date`` and ``settled_date``. The columns come
    in the order of :data:`~qalamoun_sim.engine.columns.COLUMNS`; the other tables are returned as they are.
    """
    if table == "weather" and any(DEPTH_COLUMN.match(str(c)) for c in df.columns):
        df = weather_long(df)
    elif table == "convoys" and "date" not in df.columns:
        df = df.assign(date=_dates(df["dispatched_day"], start), arrived_date=_dates(df["arrived_day"], start),
                       end_date=_dates(df["end_day"], start))
    elif table == "summary" and "captured_date" not in df.columns:
        df = df.assign(captured_date=_dates(df["captured_day"], start), settled_date=_dates(df["settled_day"], start))
    else:
        return df
    order = [c for c, *_ in COLUMNS[table] if c in df.columns]
    return df[order + [c for c in df.columns if c not in order]]
