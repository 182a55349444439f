"""The tables of a :class:`~qalamoun_sim.results.Run`, built from one replication's records.

Plain pandas frames with categorical ids (docs/reference.md, Outputs). Built once per replication at the end
of the run, so the constructors' fixed costs matter: each frame comes from one dict, categorical
dtypes are made once per set of names, and codes the engine made are not re-checked.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..environment.state import ROUTE_STATES, ExogenousState
from ..network.routes import RouteNetwork
from .convoys import ConvoyLog
from .results import FATES, TOWN_EVENTS

__all__ = ["routes_table", "towns_table", "convoys_table", "weather_table", "events_table"]


def routes_table(state: ExogenousState, network: RouteNetwork, flow: np.ndarray, days: np.ndarray,
                 dates: np.ndarray) -> pd.DataFrame:
    """One row per day and route: snow depth, capacity factor, state and the tonnes carried (``flow`` (D, N))."""
    n_routes = network.n_routes
    return pd.DataFrame({
        "day": np.repeat(days, n_routes),
        "date": np.repeat(dates, n_routes),
        "route": _from_codes(np.tile(np.arange(n_routes), len(days)), tuple(network.route_ids)),
        "snow_depth_cm": state.route_depth_cm[0].ravel(),
        "capacity_factor": state.capacity_factor[0].ravel(),
        "state": _from_codes(state.state_code[0].ravel().astype(np.int64), tuple(ROUTE_STATES)),
        "flow_t": flow.ravel(),
    })


def towns_table(rows: dict[str, np.ndarray], town_ids: Sequence[str], days: np.ndarray,
                dates: np.ndarray) -> pd.DataFrame:
    """One row per day and town from the ledger's (D, T) arrays ``delivered``, ``stock``, ``consumed``, ``shortfall``."""
    n_towns = len(town_ids)
    return pd.DataFrame({
        "day": np.repeat(days, n_towns),
        "date": np.repeat(dates, n_towns),
        "town": _from_codes(np.tile(np.arange(n_towns), len(days)), tuple(town_ids)),
        **{f"{name}_t": rows[name].ravel() for name in ("delivered", "stock", "consumed", "shortfall")},
    })


def convoys_table(log: ConvoyLog, town_ids: Sequence[str], source_ids: Sequence[str]) -> pd.DataFrame:
    """One row per convoy: where from and to, when, how much, and how it ended."""
    return pd.DataFrame({
        "id": np.arange(len(log), dtype=np.int64),
        "source": _from_codes(np.asarray(log.source, dtype=np.int64), tuple(source_ids)),
        "town": _from_codes(np.asarray(log.town, dtype=np.int64), tuple(town_ids)),
        "dispatched_day": np.asarray(log.dispatched_day, dtype=np.int64),
        "arrived_day": _nullable(log.arrived_day),
        "tonnes": np.asarray(log.tonnes, dtype=float),
        "fate": _from_codes(np.asarray(log.fate, dtype=np.int64), FATES),
        "end_day": _nullable(log.end_day),
        "reason": pd.array(log.reason, dtype=str),
    })


def weather_table(state: ExogenousState, days: np.ndarray, dates: np.ndarray) -> pd.DataFrame:
    """One row per day: the weather at the reference elevation and the snow depth of every band."""
    columns: dict[str, Any] = {
        "day": days,
        "date": dates,
        "temperature_c": state.temperature_c[0],
        "precipitation_mm": state.precipitation_mm[0],
        "storm": np.asarray(state.storm[0], dtype=bool),
    }
    for b, z in enumerate(np.asarray(state.band_elevations_m).tolist()):
        columns[f"depth_{z:g}m_cm"] = state.band_depth_cm[0, :, b]
    return pd.DataFrame(columns)


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
