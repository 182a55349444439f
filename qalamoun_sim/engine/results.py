"""The record of one replication: tidy tables of routes, towns, convoys, weather and events.

A :class:`Run` is what :func:`qalamoun_sim.engine.simulate_replication` returns (docs/reference.md, Outputs).
Every table uses day numbers ``0 .. days-1`` and carries their calendar dates too (a ``date`` column in
each); :data:`~qalamoun_sim.engine.columns.COLUMNS` gives every column's type, units and meaning.

The engine hands a run its records (arrays and lists) with a builder per table: each pandas frame is
made on first access, so a replication whose tables nobody reads never imports pandas nor pays for
them (a fresh process running one replication of 3,960 routes: about a fifth of its CPU).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import write_parquet

if TYPE_CHECKING:  # pragma: no cover - pandas and xarray are imported where a table is made or read
    from collections.abc import Callable
    from typing import TypeAlias

    import pandas as pd
    import xarray as xr

    #: A table, or what makes it on first access.
    TableOrBuilder: TypeAlias = pd.DataFrame | Callable[[], pd.DataFrame]

__all__ = ["Run", "TABLES", "FATES", "TOWN_EVENTS"]

#: The tables of a run, in the order they are written.
TABLES: tuple[str, ...] = ("routes", "towns", "convoys", "weather", "events")

#: What becomes of a convoy's tonnes: every convoy ends in exactly one fate.
FATES: tuple[str, ...] = ("delivered", "intercepted", "stranded", "in_transit")

#: Town events recorded in :attr:`Run.events`.
TOWN_EVENTS: tuple[str, ...] = ("captured", "settled")


class Run:
    """One simulated replication.

    Attributes
    ----------
    routes : DataFrame
        One row per day and route: ``day``, ``date``, ``route``, ``snow_depth_cm``, ``capacity_factor``,
        ``state`` (open / snow / interdicted / both, the exogenous state) and ``flow_t`` (tonnes of route
        capacity used by convoys that day).
    towns : DataFrame
        One row per day and town: ``day``, ``date``, ``town``, ``delivered_t``, ``stock_t`` (end of day),
        ``consumed_t``, ``shortfall_t``. ``stock_t[d] = stock_t[d-1] + delivered_t[d] - consumed_t[d]``.
    convoys : DataFrame
        One row per convoy: ``id``, ``source``, ``town`` (its last destination), ``dispatched_day`` and its
        ``date``, ``arrived_day`` and ``arrived_date`` (delivered convoys only, else null), ``tonnes``,
        ``fate`` (see :data:`FATES`), ``end_day`` and ``end_date`` (when its fate was settled, null while
        in transit) and ``reason`` (``checkpoint``, ``strike``, ``max_wait``, ``turned_back`` or empty).
    weather : DataFrame
        One row per day and snow band (long): ``day``, ``date``, ``elevation_m``, ``snow_depth_cm`` (the
        band's, end of day), and the day's ``temperature_c``, ``precipitation_mm`` (at the reference
        elevation) and ``storm``, the same on each of the day's rows.
    events : DataFrame
        Town events: ``day`` (first day the event holds), ``date``, ``town``, ``event`` (captured / settled),
        ``cause`` (scripted / cut_off for captures, shortage for settlements).
    replication : int
        Replication index.
    seed : int
        Root seed.
    event_count : int
        Number of SimPy events processed.
    meta : dict
        Scenario name, policy, tonnes supplied and left undispatched per source, path computations.

    Each table may be given as a frame or as a function of no arguments that makes it: it is then made
    on first access (once) and kept. A run that is pickled makes its tables first.
    """


    __slots__ = ("_tables", "replication", "seed", "event_count", "meta")

    def __init__(self, routes: TableOrBuilder, towns: TableOrBuilder, convoys: TableOrBuilder,
                 weather: TableOrBuilder, events: TableOrBuilder, replication: int, seed: int,
                 event_count: int, meta: dict[str, Any] | None = None) -> None:
        self._tables: dict[str, TableOrBuilder] = {"routes": routes, "towns": towns, "convoys": convoys,
                                                   "weather": weather, "events": events}
        self.replication = replication
        self.seed = seed
        self.event_count = event_count
        self.meta: dict[str, Any] = {} if meta is None else meta

    def _table(self, name: str) -> pd.DataFrame:
        """Table ``name``, made now if it was given as a builder."""
        table = self._tables[name]
        if callable(table):
            table = self._tables[name] = table()
        return table

    @property
    def routes(self) -> pd.DataFrame:
        """One row per day and route (see the class docstring)."""
        return self._table("routes")

    @property
    def towns(self) -> pd.DataFrame:
        """One row per day and town (see the class docstring)."""
        return self._table("towns")

    @property
    def convoys(self) -> pd.DataFrame:
        """One row per convoy (see the class docstring)."""
        return self._table("convoys")

    @property
    def weather(self) -> pd.DataFrame:
        """One row per day and snow band (see the class docstring)."""
        return self._table("weather")

    @property
    def events(self) -> pd.DataFrame:
        """Town events (see the class docstring)."""
        return self._table("events")

    def __getstate__(self) -> dict[str, Any]:
        """The run's tables (made now where they were not yet) and scalars, for pickling."""
        return {"tables": self.tables(), "replication": self.replication, "seed": self.seed,
                "event_count": self.event_count, "meta": self.meta}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self._tables = dict(state["tables"])
        self.replication, self.seed = state["replication"], state["seed"]
        self.event_count, self.meta = state["event_count"], state["meta"]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The five tables by name (see :data:`TABLES`)."""
        return {name: getattr(self, name) for name in TABLES}

    def town_summary(self) -> pd.DataFrame:
        """Per town: tonnes delivered, shortfall, days without stock, capture and settlement.

        Returns
        -------
        DataFrame
            Indexed by town, with columns ``delivered_t``, ``consumed_t``, ``shortfall_t``,
            ``final_stock_t``, ``days_without_stock`` (end-of-day stock zero while the town needs
            supply), ``shortfall_days``, ``first_shortfall_day`` (nullable), ``captured``,
            ``captured_day`` (nullable), ``settled``, ``settled_day`` (nullable).
        """
        import pandas as pd

        t = self.towns
        order = list(dict.fromkeys(t["town"].astype(str)))
        g = t.assign(town=t["town"].astype(str)).groupby("town", sort=False)
        need = t["consumed_t"] + t["shortfall_t"]
        empty = (t["stock_t"] <= 1e-9) & (need > 0)
        short = t["shortfall_t"] > 1e-9
        out = pd.DataFrame({
            "delivered_t": g["delivered_t"].sum(),
            "consumed_t": g["consumed_t"].sum(),
            "shortfall_t": g["shortfall_t"].sum(),
            "final_stock_t": g["stock_t"].last(),
            "days_without_stock": empty.groupby(t["town"].astype(str), sort=False).sum().astype(int),
            "shortfall_days": short.groupby(t["town"].astype(str), sort=False).sum().astype(int),
        }).reindex(order)
        first = t.loc[short].assign(town=lambda f: f["town"].astype(str)).groupby("town")["day"].min()
        out["first_shortfall_day"] = first.reindex(order).astype("Int64")
        ev = self.events.assign(town=self.events["town"].astype(str), event=self.events["event"].astype(str))
        for kind, col in (("captured", "captured"), ("settled", "settled")):
            days = ev.loc[ev["event"] == kind].groupby("town")["day"].min().reindex(order).astype("Int64")
            out[col] = days.notna().to_numpy()
            out[f"{col}_day"] = days
        out.index.name = "town"
        return out

    def to_parquet(self, folder: str | Path, prefix: str = "") -> list[Path]:
        """Write one Parquet file per table, ``<prefix><table>.parquet``, each atomically.

        Each file is written by :func:`qalamoun_sim.io.write_parquet` (a temporary name in the same
        folder, then :func:`os.replace`), so a reader never sees a half-written file.

        Parameters
        ----------
        folder : path
            Created if missing.
        prefix : str
            Prepended to each file name (e.g. ``"chunk-0003-"``).

        Returns
        -------
        list of Path
            The files written, in :data:`TABLES` order.
        """
        folder = Path(folder)
        return [write_parquet(frame, folder / f"{prefix}{name}.parquet") for name, frame in self.tables().items()]

    @classmethod
    def read_parquet(cls, folder: str | Path, prefix: str = "", replication: int = 0, seed: int = 0,
                     event_count: int = 0, meta: dict[str, Any] | None = None) -> Run:
        """Read back the tables written by :meth:`to_parquet` (the scalars are not stored there)."""
        import pandas as pd

        folder = Path(folder)
        frames = {name: pd.read_parquet(folder / f"{prefix}{name}.parquet") for name in TABLES}
        return cls(**frames, replication=replication, seed=seed, event_count=event_count, meta=dict(meta or {}))

    def to_xarray(self) -> xr.Dataset:
        """The routes, towns and weather tables as one :class:`xarray.Dataset`.

        Dimensions ``time`` (dates), ``route``, ``town`` and ``elevation`` (the weather table's snow
        bands); see :func:`qalamoun_sim.environment.labelled.tables_dataset`. The convoys and events
        are records, not a grid: they stay DataFrames. xarray is imported on this call only.
        """
        from ..environment.labelled import GRIDDED_TABLES, tables_dataset

        tables = {name: getattr(self, name) for name in GRIDDED_TABLES}
        return tables_dataset(tables, scenario=self.meta.get("scenario"), seed=self.seed,
                              attrs={"replication": self.replication})

    def __repr__(self) -> str:
        """A short summary (the dataclass repr would print every table)."""
        days = self.meta.get("days")
        if days is None:
            days = int(self.towns["day"].nunique()) if "day" in self.towns else 0
        return (f"Run(replication={self.replication}, seed={self.seed}, {days} days, "
                f"{len(self.convoys)} convoys, {self.event_count} events)")

    def check(self, tol: float = 1e-9) -> None:
        """Assert the run's invariants: stock identity, stocks non-negative, convoy mass balance.

        Raises
        ------
        AssertionError
            Naming the first broken invariant.
        """
        t = self.towns.sort_values(["town", "day"], kind="stable")
        stock = t["stock_t"].to_numpy()
        if (stock < 0).any():
            raise AssertionError("negative stock")
        prev = t.groupby("town", observed=True)["stock_t"].shift(1).to_numpy()
        bal = prev + t["delivered_t"].to_numpy() - t["consumed_t"].to_numpy() - stock
        bad = np.nanmax(np.abs(bal)) if len(bal) > 1 and not np.isnan(bal).all() else 0.0
        if bad > tol * max(1.0, float(stock.max(initial=0.0))):
            raise AssertionError(f"stock identity broken by {bad}")
        c = self.convoys
        got = float(c.loc[c["fate"] == "delivered", "tonnes"].sum())
        rec = float(self.towns["delivered_t"].sum())
        if abs(got - rec) > tol * max(1.0, rec):
            raise AssertionError(f"convoys delivered {got} t, towns received {rec} t")
        fates = set(map(str, c["fate"].unique()))
        if not fates <= set(FATES):
            raise AssertionError(f"unknown fates {fates - set(FATES)}")
