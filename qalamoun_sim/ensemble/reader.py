"""An ensemble's results, from a results folder or in memory: tables, per-replication summary, bands.

A folder's files are read through its manifest: only the files it lists, each checked against its
size and SHA-256 as it is read (a damaged file is an error naming it; a file the manifest does not
list is ignored, with a warning naming it).
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..engine.results import TABLES
from ..errors import ResultsError
from ..io import os_problem
from ..network.routes import RouteNetwork
from ..scenario import Scenario, scenario_from_dict
from .folder import CHUNK_RE, ResultsWarning, chunk_rel, summary_header
from .manifest import MANIFEST, Manifest

if TYPE_CHECKING:  # pragma: no cover - xarray is imported by to_xarray only
    import xarray as xr

__all__ = ["Ensemble"]


class Ensemble:
    """Replications of one scenario, read lazily from a results folder (or held in memory).

    Examples
    --------
    ``Ensemble("results/").town_bands("delivered_t")`` gives per-day p05/p50/p95 per town.
    """

    def __init__(self, folder: str | Path, *, quiet: bool = False) -> None:
        """Open a results folder; ``quiet`` leaves out the warnings about files it will not read."""
        self.folder = Path(folder)
        path = self.folder / "summary.json"
        if not path.exists():
            raise ResultsError(f"{self.folder}: not a results folder (no summary.json)")
        self.meta: dict[str, Any] = _read_summary(path)
        self.seed = int(self.meta["seed"])
        self.manifest: Manifest | None = None
        if (self.folder / MANIFEST).exists():
            self.manifest = Manifest.read(self.folder)
            if not quiet:
                self._warn_unlisted()
        elif not quiet:
            warnings.warn(f"{self.folder}: no {MANIFEST} (made by qalamoun-sim 0.1): its files are not verified",
                          ResultsWarning, stacklevel=2)
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
        ens.manifest = None
        ens._tables = dict(tables)
        ens._summary = summary
        ens._scenario = scenario
        return ens

    @property
    def scenario(self) -> Scenario:
        """The resolved scenario the ensemble was made from."""
        if self._scenario is None:
            data = self._read("scenario.json")
            try:
                doc = json.loads(data)
            except ValueError:
                raise ResultsError(f"{self.folder / 'scenario.json'}: damaged (not JSON)") from None
            self._scenario = scenario_from_dict(doc, source=str(self.folder / "scenario.json"))
        return self._scenario

    @property
    def replications(self) -> int:
        """Number of replications requested."""
        return int(self.meta["replications"])

    def _files(self, table: str) -> list[str]:
        """The listed files of one table, in chunk order (relative paths)."""
        if self.manifest is None:
            files = [f"chunks/{p.name}" for p in sorted((self.folder / "chunks").glob(f"chunk-*-{table}.parquet"))]
        else:
            files = [r for i in range(len(self.manifest.chunks))
                     if (r := chunk_rel(i, table)) in self.manifest.files]
        if not files:
            raise ResultsError(f"{self.folder}: no '{table}' tables")
        return files

    def _read(self, rel: str) -> bytes:
        """A file's bytes, checked against the manifest (size and SHA-256)."""
        try:
            data = (self.folder / rel).read_bytes()
        except FileNotFoundError:
            raise ResultsError(f"{self.folder}: {rel} is missing; rerun with --resume to redo it") from None
        except OSError as exc:
            raise ResultsError(f"{self.folder / rel}: cannot read: {os_problem(exc)}") from None
        problem = self.manifest.problem_with(data, rel) if self.manifest is not None else None
        if problem is not None:
            raise ResultsError(f"{self.folder}: {rel} is damaged ({problem}); rerun with --resume to redo it")
        return data

    def _parquet(self, rel: str, columns: list[str] | None = None) -> pd.DataFrame:
        try:
            return pd.read_parquet(io.BytesIO(self._read(rel)), columns=columns)
        except ResultsError:
            raise
        except Exception as exc:  # an unlisted legacy file pyarrow cannot read
            raise ResultsError(f"{self.folder}: {rel} is not a readable Parquet file ({type(exc).__name__})") from None

    def _warn_unlisted(self) -> None:
        """Warn once of files under ``chunks/`` the manifest does not list: they are never read."""
        assert self.manifest is not None
        chunks = self.folder / "chunks"
        strays = [p.name for p in sorted(chunks.iterdir())] if chunks.is_dir() else []
        strays = [n for n in strays if f"chunks/{n}" not in self.manifest.files and not n.endswith(".tmp")
                  and not (CHUNK_RE.match(n) and self.meta.get("status") == "running")]
        if strays:
            more = f" and {len(strays) - 3} more" if len(strays) > 3 else ""
            warnings.warn(f"{self.folder}: ignoring {len(strays)} file(s) the manifest does not list: "
                          f"{', '.join(strays[:3])}{more}", ResultsWarning, stacklevel=3)

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One table of every replication (``routes``, ``towns``, ``convoys``, ``weather``, ``events``)."""
        if name not in TABLES:
            raise KeyError(f"unknown table '{name}' (have {', '.join(TABLES)})")
        if name in self._tables:
            df = self._tables[name]
            return df[columns] if columns else df
        return pd.concat([self._parquet(f, columns) for f in self._files(name)], ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Per (replication, town) totals: delivered, shortfall, days without stock, capture and settlement day."""
        if self._summary is None:
            self._summary = pd.concat([self._parquet(f) for f in self._files("summary")], ignore_index=True)
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

    def to_xarray(self, table: str | None = None) -> xr.Dataset:
        """A gridded table (``routes``, ``towns`` or ``weather``), or all three, as an :class:`xarray.Dataset`.

        Dimensions ``realization`` (the replication), ``time`` (dates), and ``route``, ``town`` or
        ``elevation`` as the table holds them; see
        :func:`qalamoun_sim.environment.labelled.tables_dataset`. The whole table is read into memory.

        Examples
        --------
        ``Ensemble("results/").to_xarray("towns")["stock_t"].quantile(0.5, "realization")``
        """
        from ..environment.labelled import GRIDDED_TABLES, tables_dataset

        names = list(GRIDDED_TABLES) if table is None else [table]
        if any(n not in GRIDDED_TABLES for n in names):
            raise KeyError(f"table '{table}' is not gridded (have {', '.join(GRIDDED_TABLES)})")
        scn = self.scenario
        return tables_dataset({n: self.table(n) for n in names}, scn.dates, scenario=scn.scenario.name,
                              seed=self.seed, attrs={"replications": self.replications})

    def __repr__(self) -> str:
        """A short summary: scenario, replications, seed, folder (or in memory) and status when not complete."""
        where = f"folder '{self.folder}'" if self.folder is not None else "in memory"
        scn = self.meta.get("scenario")
        name = str(scn.get("name", "?") if isinstance(scn, dict) else scn)[:60]
        status = str(self.meta.get("status", "complete"))
        tail = "" if status == "complete" else f", {status}"
        return f"Ensemble('{name}', {self.replications} replications, seed {self.seed}, {where}{tail})"


def _read_summary(path: Path) -> dict[str, Any]:
    """``summary.json``, or a one-line error when it is damaged."""
    try:
        meta = json.loads(path.read_bytes())
        int(meta["seed"])
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {os_problem(exc)}") from None
    except (ValueError, KeyError, TypeError):
        raise ResultsError(f"{path}: damaged (not the JSON a run writes); rerun with --resume to rewrite it") \
            from None
    return dict(meta)
