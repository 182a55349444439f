"""An ensemble's results, from a results folder or in memory: tables, per-replication summary, bands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.results import TABLES
from ..errors import ResultsError
from ..io import read_json
from ..network.routes import RouteNetwork
from ..scenario import Scenario, scenario_from_dict
from .folder import chunk_files, summary_header

__all__ = ["Ensemble"]


class Ensemble:
    """Replications of one scenario, read lazily from a results folder (or held in memory).

    Examples
    --------
    ``Ensemble("results/").town_bands("delivered_t")`` gives per-day p05/p50/p95 per town.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        path = self.folder / "summary.json"
        if not path.exists():
            raise ResultsError(f"{self.folder}: not a results folder (no summary.json)")
        self.meta: dict[str, Any] = read_json(path)
        self.seed = int(self.meta["seed"])
        self._tables: dict[str, pd.DataFrame] = {}
        self._summary: pd.DataFrame | None = None
        self._scenario: Scenario | None = None

    @classmethod
    def from_tables(cls, scenario: Scenario, seed: int, tables: dict[str, pd.DataFrame],
                    summary: pd.DataFrame) -> Ensemble:
        """An in-memory ensemble (what :func:`run_ensemble` returns without ``out``)."""
        ens = cls.__new__(cls)
        ens.folder = None  # type: ignore[assignment]
        ens.meta = {**summary_header(scenario, seed, int(summary["replication"].nunique()), 0), "status": "complete"}
        ens.seed = seed
        ens._tables = dict(tables)
        ens._summary = summary
        ens._scenario = scenario
        return ens

    @property
    def scenario(self) -> Scenario:
        """The resolved scenario the ensemble was made from."""
        if self._scenario is None:
            doc = read_json(self.folder / "scenario.json")
            self._scenario = scenario_from_dict(doc, source=str(self.folder / "scenario.json"))
        return self._scenario

    @property
    def replications(self) -> int:
        """Number of replications requested."""
        return int(self.meta["replications"])

    def _files(self, table: str) -> list[Path]:
        files = chunk_files(self.folder, table)
        if not files:
            raise ResultsError(f"{self.folder}: no '{table}' tables")
        return files

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One table of every replication (``routes``, ``towns``, ``convoys``, ``weather``, ``events``)."""
        if name not in TABLES:
            raise KeyError(f"unknown table '{name}' (have {', '.join(TABLES)})")
        if name in self._tables:
            df = self._tables[name]
            return df[columns] if columns else df
        return pd.concat([pd.read_parquet(f, columns=columns) for f in self._files(name)], ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Per (replication, town) totals: delivered, shortfall, days without stock, capture and settlement day."""
        if self._summary is None:
            self._summary = pd.concat([pd.read_parquet(f) for f in self._files("summary")], ignore_index=True)
        return self._summary

    @property
    def event_count(self) -> int:
        """SimPy events processed over all replications."""
        s = self.summary()
        return int(s.groupby("replication")["event_count"].first().sum()) if len(s) else 0  # one per replication

    def town_report(self) -> pd.DataFrame:
        """Per town across replications: mean delivered and shortfall, days without stock, P(captured), P(settled)."""
        s = self.summary()
        g = s.groupby("town", sort=False)
        return pd.DataFrame({
            "delivered_t": g["delivered_t"].mean(),
            "shortfall_t": g["shortfall_t"].mean(),
            "days_without_stock": g["days_without_stock"].mean(),
            "p_captured": g["captured_day"].apply(lambda x: float(x.notna().mean())),
            "captured_day_p50": g["captured_day"].median(),
            "p_settled": g["settled_day"].apply(lambda x: float(x.notna().mean())),
            "settled_day_p50": g["settled_day"].median(),
        }).round(3)

    def bands(self, table: str, value: str, by: str, quantiles: tuple[float, ...] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Per-day quantiles of ``value`` across replications, for each ``by`` (town or route)."""
        df = self.table(table, columns=["replication", "day", by, value])
        q = df.groupby([by, "day"])[value].quantile(list(quantiles)).unstack()
        q.columns = [f"p{round(x * 100):02d}" for x in quantiles]
        return q.reset_index()

    def town_bands(self, value: str = "delivered_t") -> pd.DataFrame:
        """Per-day p05/p50/p95 of a town column (``delivered_t``, ``stock_t``, ``shortfall_t`` ...)."""
        return self.bands("towns", value, "town")

    def route_bands(self, value: str = "flow_t") -> pd.DataFrame:
        """Per-day p05/p50/p95 of a route column (``flow_t``, ``snow_depth_cm``, ``capacity_factor``)."""
        return self.bands("routes", value, "route")

    def share_bands(self, corridor: str | None = None,
                    quantiles: tuple[float, ...] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Per-day quantiles of the corridor's capacity share cut (snow and interdiction together)."""
        scn = self.scenario
        corridor = corridor or scn.claim.corridor
        net = RouteNetwork.from_scenario(scn)
        caps = pd.Series(net.capacity_tpd, index=list(net.route_ids))[net.corridor_mask(corridor)]
        df = self.table("routes", columns=["replication", "day", "route", "capacity_factor"])
        df = df[df["route"].isin(caps.index)]
        open_cap = (df["capacity_factor"] * df["route"].map(caps)).groupby([df["replication"], df["day"]]).sum()
        share = (1.0 - open_cap / caps.sum()).rename("share").reset_index()
        q = share.groupby("day")["share"].quantile(list(quantiles)).unstack()
        q.columns = [f"p{round(x * 100):02d}" for x in quantiles]
        return q.reset_index()
