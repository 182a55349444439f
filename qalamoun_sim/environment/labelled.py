"""Labelled arrays: the exogenous state and a run's tables as :class:`xarray.Dataset` (the tables of docs/reference.md, Outputs).

Dimensions are ``realization`` (the replication index), ``time`` (calendar dates, with the model's
``day`` number as a coordinate beside it), ``route`` (route ids), ``town`` (town ids) and
``elevation`` (the snow bands, metres above sea level). Every variable carries ``units`` and
``long_name`` attributes as the CF conventions name them, so the datasets write to netCDF
(``ds.to_netcdf(path)``, with h5netcdf or SciPy's netCDF3 writer) and zarr (``ds.to_zarr(path)``)
and read back in any tool that understands them.

xarray is imported by this module only, when one of these functions is first used: ``import
qalamoun_sim`` does not load it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

if TYPE_CHECKING:  # pragma: no cover - a cycle at run time (state imports this module)
    from .state import ExogenousState

__all__ = ["state_dataset", "tables_dataset", "write_dataset", "VARIABLES", "GRIDDED_TABLES"]

#: Variable name -> (units, long_name), CF style (``1`` is dimensionless).
VARIABLES: dict[str, tuple[str, str]] = {
    "temperature_c": ("degC", "air temperature at the reference elevation, daily mean"),
    "precipitation_mm": ("mm", "precipitation at the reference elevation, daily total (water equivalent)"),
    "storm": ("1", "storm day"),
    "snow_depth_cm": ("cm", "snow depth at the end of the day"),
    "route_depth_cm": ("cm", "snow depth at the route's highest point, end of the day"),
    "snow_capacity_factor": ("1", "share of the route's capacity left by snow (0 closed, 1 open)"),
    "snow_speed_factor": ("1", "share of the route's speed left by snow"),
    "interdicted": ("1", "closed by a strike or a siege line that day"),
    "capacity_factor": ("1", "share of the route's capacity left by snow and interdiction"),
    "state": ("1", "route state"),
    "flow_t": ("t day-1", "tonnes of route capacity used by convoys"),
    "delivered_t": ("t day-1", "tonnes delivered to the town"),
    "stock_t": ("t", "town stock at the end of the day"),
    "consumed_t": ("t day-1", "tonnes consumed by the town"),
    "shortfall_t": ("t day-1", "need the town's stock could not meet"),
}

#: The tables of a run that lie on a grid, and their dimensions beside ``realization`` and ``time``.
GRIDDED_TABLES: dict[str, tuple[str, ...]] = {"routes": ("route",), "towns": ("town",), "weather": ()}

_STATES: tuple[str, ...] = ("open", "snow", "interdicted", "both")


def _annotate(ds: xr.Dataset) -> xr.Dataset:
    """Units and long names on every known variable and on the coordinates."""
    for name in ds.data_vars:
        units, long_name = VARIABLES.get(str(name), ("", ""))
        if units:
            ds[name].attrs.update(units=units, long_name=long_name)
    if "state" in ds.data_vars and ds["state"].dtype.kind in "iu":
        ds["state"].attrs.update(flag_values=np.arange(len(_STATES), dtype=np.int8),
                                 flag_meanings=" ".join(_STATES), units="1")
    coords = {"time": {"long_name": "date", "standard_name": "time"},
              "day": {"long_name": "day of the scenario (0 = first day)", "units": "1"},
              "realization": {"long_name": "replication index", "standard_name": "realization"},
              "elevation": {"long_name": "snow band elevation", "units": "m", "positive": "up"},
              "route": {"long_name": "route id"}, "town": {"long_name": "town id"}}
    for name, attrs in coords.items():
        if name in ds.coords:
            ds[name].attrs.update(attrs)
    return ds


def _time(dates: Sequence[dt.date] | pd.Series) -> np.ndarray:
    return pd.to_datetime(pd.Series(list(dates))).to_numpy(dtype="datetime64[ns]")


def state_dataset(state: ExogenousState, scenario: str | None = None, seed: int | None = None,
                  attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """The exogenous state as a Dataset over ``realization``, ``time``, ``route`` and ``elevation``.

    The arrays are the state's own (no copy), except ``capacity_factor`` and ``state``, derived.

    Parameters
    ----------
    state : ExogenousState
    scenario : str, optional
        The scenario's name, kept as the ``scenario`` attribute.
    seed : int, optional
        The root seed, kept as the ``seed`` attribute.
    attrs : mapping, optional
        More global attributes.

    Returns
    -------
    xarray.Dataset
        ``temperature_c``, ``precipitation_mm``, ``storm`` (realization, time); ``snow_depth_cm``
        (realization, time, elevation); ``route_depth_cm``, ``snow_capacity_factor``,
        ``snow_speed_factor``, ``interdicted``, ``capacity_factor`` and ``state`` (an int8 index
        into ``flag_meanings``) over (realization, time, route).

    Examples
    --------
    >>> from qalamoun_sim import compute_state, load_scenario
    >>> ds = state_dataset(compute_state(load_scenario(), 2, seed=1), seed=1)
    >>> dict(ds.sizes)["realization"], ds["snow_depth_cm"].dims
    (2, ('realization', 'time', 'elevation'))
    """
    rt, rte, rtr = ("realization", "time"), ("realization", "time", "elevation"), ("realization", "time", "route")
    ds = xr.Dataset(
        {"temperature_c": (rt, state.temperature_c), "precipitation_mm": (rt, state.precipitation_mm),
         "storm": (rt, state.storm), "snow_depth_cm": (rte, state.band_depth_cm),
         "route_depth_cm": (rtr, state.route_depth_cm),
         "snow_capacity_factor": (rtr, state.snow_capacity_factor),
         "snow_speed_factor": (rtr, state.snow_speed_factor), "interdicted": (rtr, state.interdicted),
         "capacity_factor": (rtr, state.capacity_factor), "state": (rtr, state.state_code)},
        coords={"realization": np.asarray(state.replications, dtype=np.int64), "time": _time(state.dates),
                "day": ("time", np.arange(len(state.dates))), "route": list(state.route_ids),
                "elevation": np.asarray(state.band_elevations_m, dtype=float)})
    ds.attrs.update(_global_attrs("exogenous state: weather, snow, closures and strikes", scenario, seed, attrs))
    return _annotate(ds)


def _global_attrs(title: str, scenario: str | None, seed: int | None,
                  attrs: Mapping[str, Any] | None) -> dict[str, Any]:
    from .._version import __version__

    out: dict[str, Any] = {"title": title, "source": f"qalamoun-sim {__version__}", "Conventions": "CF-1.10"}
    if scenario is not None:
        out["scenario"] = str(scenario)
    if seed is not None:
        out["seed"] = int(seed)
    out.update({k: v for k, v in (attrs or {}).items() if v is not None})
    return out


#: The long weather table's columns that belong to a (day, band); the others belong to the day.
_BAND_COLUMNS = ("elevation_m", "snow_depth_cm")


def _weather_parts(df: pd.DataFrame, keys: list[str]) -> list[pd.DataFrame]:
    """The long weather table (a row per day and band) as its day part and its band part (``elevation``)."""
    if "elevation_m" not in df.columns:
        return [df]
    first = df["elevation_m"].iloc[0] if len(df) else 0.0
    day = df.loc[df["elevation_m"] == first].drop(columns=[c for c in _BAND_COLUMNS if c in df.columns])
    band = df[[*keys, *(c for c in _BAND_COLUMNS if c in df.columns)]].rename(columns={"elevation_m": "elevation"})
    return [day, band] if len(day.columns) > len(keys) else [band]


def _route_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """A routes table as the state dataset names it: ``route_depth_cm``, ``state`` an int8 code."""
    frame = frame.rename(columns={"snow_depth_cm": "route_depth_cm"})
    if "state" in frame.columns:
        codes = pd.Categorical(frame["state"].astype(str), categories=list(_STATES)).codes
        frame = frame.assign(state=codes.astype(np.int8))
    return frame


def _table_dataset(name: str, df: pd.DataFrame) -> xr.Dataset:
    """One gridded table as a Dataset over (realization,) time and its own dimension."""
    if name not in GRIDDED_TABLES:
        raise KeyError(f"table '{name}' is not gridded (have {', '.join(GRIDDED_TABLES)})")
    dims = ["replication"] if "replication" in df.columns else []
    dims += ["day", *GRIDDED_TABLES[name]]
    frames = _weather_parts(df, dims) if name == "weather" else [df]
    out = []
    for frame in frames:
        idx = dims + (["elevation"] if "elevation" in frame.columns else [])
        frame = frame.drop(columns=[c for c in ("date", "event_count") if c in frame.columns])
        if name == "routes":
            frame = _route_codes(frame)
        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.CategoricalDtype):
                frame[c] = frame[c].astype(str)
        out.append(xr.Dataset.from_dataframe(frame.set_index(idx)))
    ds = xr.merge(out, compat="no_conflicts", join="outer") if len(out) > 1 else out[0]
    order = {d: list(dict.fromkeys(df[d].astype(str))) for d in GRIDDED_TABLES[name]}
    ds = ds.reindex(order) if order else ds  # the tables' own order (the network's), not sorted
    return ds.rename({"replication": "realization"}) if "replication" in ds.dims else ds


def _dates_of(tables: Mapping[str, pd.DataFrame], days: np.ndarray) -> np.ndarray:
    """The date of each day, from the tables' ``date`` columns."""
    pairs = pd.concat([df[["day", "date"]] for df in tables.values() if {"day", "date"} <= set(df.columns)])
    by_day = pairs.drop_duplicates("day").set_index("day")["date"]
    return pd.to_datetime(by_day.reindex(days)).to_numpy(dtype="datetime64[ns]")


def tables_dataset(tables: Mapping[str, pd.DataFrame], dates: Sequence[dt.date] | None = None,
                   scenario: str | None = None, seed: int | None = None,
                   attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """A run's (or an ensemble's) gridded tables as one Dataset.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Any of ``routes``, ``towns`` and ``weather`` as :class:`~qalamoun_sim.engine.results.Run`
        holds them; with a ``replication`` column (an ensemble's) they gain a ``realization``
        dimension. The routes table's ``snow_depth_cm`` becomes ``route_depth_cm`` and its
        ``state`` an int8 code (``flag_meanings``), as in :func:`state_dataset`.
    dates : sequence of date, optional
        The scenario's dates, day ``0`` first: the ``time`` coordinate. Default the tables' own
        ``date`` column.
    scenario, seed, attrs
        Global attributes, as for :func:`state_dataset`.

    Returns
    -------
    xarray.Dataset
        Dimensions ``time`` and, as the tables hold them, ``realization``, ``route``, ``town`` and
        ``elevation``; a variable per column, missing cells NaN.
    """
    parts = [_table_dataset(name, df) for name, df in tables.items()]
    ds = xr.merge(parts, compat="no_conflicts", join="outer") if parts else xr.Dataset()
    if "day" in ds.dims:
        days = ds["day"].to_numpy().astype(int)
        time = _time(dates)[days] if dates is not None else _dates_of(tables, days)
        ds = ds.assign_coords(time=("day", time)).swap_dims({"day": "time"})
    ds.attrs.update(_global_attrs(f"qalamoun-sim tables: {', '.join(tables)}", scenario, seed, attrs))
    return _annotate(ds)


def _netcdf_engine() -> Literal["h5netcdf", "scipy"]:
    """h5netcdf (netCDF4) when the ``[netcdf]`` extra is installed, else SciPy's netCDF3 writer."""
    import importlib.util

    have = all(importlib.util.find_spec(m) is not None for m in ("h5netcdf", "h5py"))
    return "h5netcdf" if have else "scipy"


def write_dataset(ds: xr.Dataset, path: str | Path, fmt: str | None = None) -> Path:
    """Write a dataset as netCDF (``.nc``) or zarr (``.zarr``), atomically (a temporary name, then a rename).

    Parameters
    ----------
    ds : xarray.Dataset
    path : path
        The file (netCDF) or folder (zarr) to write; it must not exist yet for zarr.
    fmt : {"netcdf", "zarr"}, optional
        Default from the suffix of ``path`` (``.zarr`` for zarr, anything else netCDF).

    Returns
    -------
    Path

    Raises
    ------
    QalamounError
        zarr asked for and not installed (``pip install 'qalamoun-sim[zarr]'``), or the zarr folder exists.
    """
    import os
    import secrets
    import shutil

    from ..errors import QalamounError
    from ..io import atomic_write

    path = Path(path)
    fmt = fmt or ("zarr" if path.suffix == ".zarr" else "netcdf")
    if fmt == "netcdf":
        engine = _netcdf_engine()
        return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine=engine))
    if fmt != "zarr":
        raise QalamounError(f"format: must be netcdf or zarr, got '{fmt}'")
    try:
        import zarr  # noqa: F401
    except ImportError:
        raise QalamounError("zarr is not installed: pip install 'qalamoun-sim[zarr]'") from None
    if path.exists():
        raise QalamounError(f"{path}: exists; remove it first (a zarr store is a folder)")
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        ds.to_zarr(tmp, mode="w")
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
