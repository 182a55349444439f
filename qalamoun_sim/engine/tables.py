"""The tables of a :class:`~qalamoun_sim.results.Run`, built from one replication's records.

Plain pandas frames with categorical ids (docs/reference.md, Outputs). Built once per replication at the end
of the run, so the constructors' fixed costs matter: each frame comes from one dict of fresh arrays that it
takes as they are (no copy into consolidated blocks: a routes table of 713,000 rows spent four fifths of its
time there), categorical dtypes are made once per set of names, and codes the engine made are not re-checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..environment.state import ROUTE_STATES, ExogenousState
from ..network.routes import RouteNetwork
from .convoys import ConvoyLog
from .results import FATES, TOWN_EVENTS

__all__ = ["routes_table", "towns_table", "convoys_table", "weather_table", "events_table"]


def routes_table(state: ExogenousState, network: RouteNetwork, flow: np.ndarray | Callable[[], np.ndarray],
                 days: np.ndarray, dates: np.ndarray) -> pd.DataFrame:
    """One row per day and route: snow depth, capacity factor, state and the tonnes carried (``flow`` (D, N), or
    what makes it)."""
    n_routes = network.n_routes
    if callable(flow):
        flow = flow()
    return _frame({
        "day": np.repeat(days, n_routes),
        "date": np.repeat(dates, n_routes),
        "route": _from_codes(np.tile(np.arange(n_routes, dtype=np.int32), len(days)),
                             tuple(network.route_ids)),
        "snow_depth_cm": _unshared(state.route_depth_cm[0], state),
        "capacity_factor": _unshared(state.capacity_factor[0], state),
        "state": _from_codes(_unshared(state.state_code[0], state), tuple(ROUTE_STATES)),
        "flow_t": flow.ravel(),
    })


def towns_table(rows: dict[str, np.ndarray], town_ids: Sequence[str], days: np.ndarray,
                dates: np.ndarray) -> pd.DataFrame:
    """One row per day and town from the ledger's (D, T) arrays ``delivered``, ``stock``, ``consumed``, ``shortfall``."""
    n_towns = len(town_ids)
    return _frame({
        "day": np.repeat(days, n_towns),
        "date": np.repeat(dates, n_towns),
        "town": _from_codes(np.tile(np.arange(n_towns), len(days)), tuple(town_ids)),
        **{f"{name}_t": rows[name].ravel() for name in ("delivered", "stock", "consumed", "shortfall")},
    })


def convoys_table(log: ConvoyLog, town_ids: Sequence[str], source_ids: Sequence[str],
                  dates: np.ndarray) -> pd.DataFrame:
    """One row per convoy: where from and to, when (day numbers and their dates), how much, and how it ended."""
    dispatched = np.asarray(log.dispatched_day, dtype=np.int64)
    arrived, end = _nullable(log.arrived_day), _nullable(log.end_day)
    return _frame({
        "id": np.arange(len(log), dtype=np.int64),
        "source": _from_codes(np.asarray(log.source, dtype=np.int64), tuple(source_ids)),
        "town": _from_codes(np.asarray(log.town, dtype=np.int64), tuple(town_ids)),
        "dispatched_day": dispatched,
        "date": dates[dispatched],
        "arrived_day": arrived,
        "arrived_date": _dates_of(arrived, dates),
        "tonnes": np.asarray(log.tonnes, dtype=float),
        "fate": _from_codes(np.asarray(log.fate, dtype=np.int64), FATES),
        "end_day": end,
        "end_date": _dates_of(end, dates),
        "reason": pd.array(log.reason, dtype=str),
    })


def weather_table(state: ExogenousState, days: np.ndarray, dates: np.ndarray) -> pd.DataFrame:
    """One row per day and elevation band: the band's snow depth, and the day's weather at the reference elevation.

    Long, as tools read it (``df.pivot(index="day", columns="elevation_m", values="snow_depth_cm")`` gives
    the wide grid back). ``temperature_c``, ``precipitation_mm`` and ``storm`` are the day's, repeated
    on each of its bands' rows: take one band's rows (or ``drop_duplicates("day")``) before summing them.
    """
    bands = np.asarray(state.band_elevations_m, dtype=float)
    n_bands = len(bands)
    return pd.DataFrame({
        "day": np.repeat(days, n_bands),
        "date": np.repeat(dates, n_bands),
        "elevation_m": np.tile(bands, len(days)),
        "snow_depth_cm": np.asarray(state.band_depth_cm[0], dtype=float).ravel(),
        "temperature_c": np.repeat(state.temperature_c[0], n_bands),
        "precipitation_mm": np.repeat(state.precipitation_mm[0], n_bands),
        "storm": np.repeat(np.asarray(state.storm[0], dtype=bool), n_bands),
    })


def events_table(events: Sequence[tuple[int, int, str, str]], dates: Sequence[dt.date],
                 town_ids: Sequence[str]) -> pd.DataFrame:
    """One row per capture or settlement ``(day, town, event, cause)``, in order of day."""
    ev = sorted(events)
    kinds = {kind: i for i, kind in enumerate(TOWN_EVENTS)}
    return pd.DataFrame({
        "day": np.asarray([e[0] for e in ev], dtype=np.int64),
        "date": np.array([dates[e[0]] for e in ev], dtype="datetime64[ms]"),
        "town": _from_codes(np.asarray([e[1] for e in ev], dtype=np.int64), tuple(town_ids)),
        "event": _from_codes(np.asarray([kinds[e[2]] for e in ev], dtype=np.int64), TOWN_EVENTS),
        "cause": pd.array([e[3] for e in ev], dtype=str),
    })


def _unshared(values: np.ndarray, state: ExogenousState) -> np.ndarray:
    """``values`` flat, copied if it may be a view of one of the state's own arrays (a frame takes its
    columns as they are: it must not share the state's memory)."""
    flat = values.ravel()
    held = (getattr(state, f.name) for f in dataclasses.fields(state))
    if any(isinstance(a, np.ndarray) and np.may_share_memory(flat, a) for a in held):
        return flat.copy()
    return flat


def _frame(columns: dict[str, object]) -> pd.DataFrame:
    """A frame of ``columns``, fresh arrays of the rows' length that it takes without copying them."""
    return pd.DataFrame(columns, copy=False)


@functools.lru_cache(maxsize=64)
def _categories(names: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical dtype of ``names`` (built once per set of names: checking them costs more than the
    columns that use them)."""
    return pd.CategoricalDtype(list(names))


def _from_codes(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical:
    """A categorical of ``names[codes]``; the codes are the engine's own, valid by construction."""
    return pd.Categorical.from_codes(codes, dtype=_categories(names), validate=False)


def _nullable(values: list[int]) -> pd.arrays.IntegerArray:
    """An ``Int64`` array of ``values``, null where negative."""
    data = np.asarray(values, dtype=np.int64)
    return pd.arrays.IntegerArray(data, data < 0)


def _dates_of(days: pd.arrays.IntegerArray, dates: np.ndarray) -> np.ndarray:
    """The dates of nullable day numbers, NaT where null."""
    mask = np.asarray(days.isna())
    idx = np.where(mask, 0, np.asarray(days.fillna(0), dtype=np.int64))
    out = np.asarray(dates)[idx] if len(dates) else np.array([], dtype="datetime64[ms]")[idx]
    return np.where(mask, np.datetime64("NaT", "ms"), out).astype("datetime64[ms]")
