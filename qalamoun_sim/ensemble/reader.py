"""An ensemble's results, from a results folder or in memory: tables, per-replication summary, bands.

A folder's files are read through its manifest: only the files it lists, each checked against its
size and SHA-256 the first time it is read (a damaged file is an error naming it; a file the
manifest does not list is ignored, with a warning naming it). :meth:`Ensemble.iter_table` reads a
table one chunk file at a time, only the columns asked for, so a reader of 10,000 replications
holds one chunk's rows at once; :meth:`Ensemble.table` stacks them. Folders of qalamoun-sim 0.1.0
(``chunks/``, :mod:`.legacy`) are read too, each file upgraded to this version's tables as it is read.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..engine.columns import FOLDER_TABLES
from ..errors import ResultsError
from ..io import os_problem
from ..network.routes import RouteNetwork
from ..scenario import Scenario, scenario_from_dict
from .folder import CHUNK_RE, ResultsWarning, chunk_rel, stray_files, summary_header
from .legacy import LEGACY_DIR, LEGACY_RE, legacy_rel, upgrade_frame
from .manifest import MANIFEST, Manifest

if TYPE_CHECKING:  # pragma: no cover - xarray is imported by to_xarray only
    import xarray as xr

__all__ = ["Ensemble", "Part"]


@dataclass(frozen=True)
class Part:
    """One file of a table: its path relative to the folder and, where the chunk plan says, its replications."""

    rel: str
    replications: range | None


class Ensemble:
    """Replications of one scenario, read lazily from a results folder (or held in memory).

    Examples
    --------
    ``Ensemble("results/").town_bands("delivered_t")`` gives per-day p05/p50/p95 per town;
    ``for part in Ensemble("results/").iter_table("towns", ["day", "town", "stock_t"]): ...`` reads one
    chunk of replications at a time.
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
        #: ``tables`` (one folder per table) or ``chunks`` (qalamoun-sim 0.1.0: every file in ``chunks/``).
        self.layout = "tables" if (self.manifest.format >= 2 if self.manifest is not None
                                   else not (self.folder / LEGACY_DIR).is_dir()) else "chunks"
        if self.layout == "chunks" and not quiet:
            warnings.warn(f"{self.folder}: the layout of qalamoun-sim 0.1.0 (every table in {LEGACY_DIR}/): read "
                          "here; for pandas, pyarrow, polars or duckdb (a folder per table) convert it with "
                          "qalamoun_sim.ensemble.upgrade_folder(old, new)", ResultsWarning, stacklevel=2)
        self._tables: dict[str, pd.DataFrame] = {}
        self._summary: pd.DataFrame | None = None
        self._scenario: Scenario | None = None
        self._verified: dict[str, tuple[int, int]] = {}

    @classmethod
    def from_tables(cls, scenario: Scenario, seed: int, tables: dict[str, pd.DataFrame],
                    summary: pd.DataFrame) -> Ensemble:
        """An in-memory ensemble (what :func:`run_ensemble` returns without ``out``)."""
        ens = cls.__new__(cls)
        ens.folder = None  # type: ignore[assignment]
        ens.meta = {**summary_header(scenario, seed, int(summary["replication"].nunique()), 0), "status": "complete"}
        ens.seed = seed
        ens.manifest = None
        ens.layout = "memory"
        ens._tables = dict(tables)
        ens._summary = summary
        ens._scenario = scenario
        ens._verified = {}
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

    def parts(self, table: str) -> list[Part]:
        """The listed files of one table, in chunk order, with the replications each holds where known.

        Raises
        ------
        ResultsError
            When the folder holds no file of the table.
        """
        rel = chunk_rel if self.layout == "tables" else legacy_rel
        if self.manifest is not None:
            found = [Part(r, range(*self.manifest.chunks[i])) for i in range(len(self.manifest.chunks))
                     if (r := rel(i, table)) in self.manifest.files]
        elif self.layout == "tables":
            found = [Part(f"{table}/{p.name}", None) for p in sorted((self.folder / table).glob("chunk-*.parquet"))]
        else:
            found = [Part(f"{LEGACY_DIR}/{p.name}", None)
                     for p in sorted((self.folder / LEGACY_DIR).glob(f"chunk-*-{table}.parquet"))]
        if not found:
            raise ResultsError(f"{self.folder}: no '{table}' tables")
        return found

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

    def _source(self, rel: str) -> Any:
        """What pyarrow reads ``rel`` from: its path once it has been verified (and is unchanged since), else
        its verified bytes (the first read hashes the whole file; later reads take only their columns)."""
        path = self.folder / rel
        try:
            st = path.stat()
        except OSError:
            st = None
        if st is not None and self._verified.get(rel) == (st.st_size, st.st_mtime_ns):
            return str(path)
        data = self._read(rel)
        if st is not None and len(data) == st.st_size:
            self._verified[rel] = (st.st_size, st.st_mtime_ns)
        return io.BytesIO(data)

    def _parquet(self, table: str, rel: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One file of ``table``: ``columns`` only (all by default), as this version writes the table."""
        import pyarrow.parquet as pq

        try:
            source = self._source(rel)
            if self.layout != "tables":  # 0.1.0's files: read whole, then upgraded
                df = upgrade_frame(table, pd.read_parquet(source), self.scenario.scenario.start)
                return df if columns is None else df[_known(df.columns, columns, table)]
            with pq.ParquetFile(source) as pf:
                cols = None if columns is None else _known(pf.schema_arrow.names, columns, table)
                return pf.read(columns=cols).to_pandas()
        except (ResultsError, KeyError):
            raise
        except Exception as exc:  # an unlisted legacy file pyarrow cannot read
            raise ResultsError(f"{self.folder}: {rel} is not a readable Parquet file ({type(exc).__name__})") from None

    def _warn_unlisted(self) -> None:
        """Warn once of files in the chunk folders the manifest does not list: they are never read."""
        assert self.manifest is not None
        running = self.meta.get("status") == "running"
        if self.manifest.format >= 2:
            strays = [r for r in stray_files(self.folder, None, set(self.manifest.files))
                      if not (running and CHUNK_RE.match(Path(r).name))]
        else:
            chunks = self.folder / LEGACY_DIR
            names = [p.name for p in sorted(chunks.iterdir())] if chunks.is_dir() else []
            strays = [f"{LEGACY_DIR}/{n}" for n in names if f"{LEGACY_DIR}/{n}" not in self.manifest.files
                      and not n.endswith(".tmp") and not (running and LEGACY_RE.match(n))]
        if strays:
            more = f" and {len(strays) - 3} more" if len(strays) > 3 else ""
            warnings.warn(f"{self.folder}: ignoring {len(strays)} file(s) the manifest does not list: "
                          f"{', '.join(strays[:3])}{more}", ResultsWarning, stacklevel=3)

    def iter_table(self, name: str, columns: list[str] | None = None,
                   replications: Iterable[int] | None = None) -> Iterator[pd.DataFrame]:
        """One table, a chunk of whole replications at a time (one file of a folder; all at once in memory).

        Parameters
        ----------
        name : str
            ``routes``, ``towns``, ``convoys``, ``weather``, ``events`` or ``summary``.
        columns : list of str, optional
            The columns to read (default all); ask for ``replication`` to have it.
        replications : iterable of int, optional
            Only these replications (the files of other chunks are not opened).
        """
        if name not in FOLDER_TABLES:
            raise KeyError(f"unknown table '{name}' (have {', '.join(FOLDER_TABLES)})")
        wanted = None if replications is None else np.unique(np.fromiter(replications, dtype=np.int64))
        if self.folder is None:
            df = self._summary if name == "summary" else self._tables[name]
            assert df is not None
            yield _rows(df, wanted, columns)
            return
        for part in self.parts(name):
            if wanted is not None and part.replications is not None and not _meets(part.replications, wanted):
                continue
            cols = columns if wanted is None or columns is None or "replication" in columns \
                else ["replication", *columns]
            yield _rows(self._parquet(name, part.rel, cols), wanted, columns)

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One table of every replication (``routes``, ``towns``, ``convoys``, ``weather``, ``events``)."""
        if name not in FOLDER_TABLES or name == "summary":
            raise KeyError(f"unknown table '{name}' (have {', '.join(t for t in FOLDER_TABLES if t != 'summary')})")
        return pd.concat(list(self.iter_table(name, columns)), ignore_index=True)

    def replication_ids(self, table: str = "towns") -> np.ndarray:
        """The replications a table holds, sorted (from the chunk plan where the manifest has one)."""
        if self.folder is not None and self.manifest is not None:
            return np.concatenate([np.arange(p.replications.start, p.replications.stop) for p in self.parts(table)
                                   if p.replications is not None]).astype(np.int64)
        return np.unique(np.concatenate([df["replication"].to_numpy(dtype=np.int64)
                                         for df in self.iter_table(table, ["replication"])]))

    def summary(self) -> pd.DataFrame:
        """Per (replication, town) totals: delivered, shortfall, days without stock, capture and settlement day."""
        if self._summary is None:
            self._summary = pd.concat(list(self.iter_table("summary")), ignore_index=True)
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


def _known(have: Iterable[str], columns: list[str], table: str) -> list[str]:
    """``columns`` when the table has them all, else a KeyError naming those it lacks."""
    have = list(have)
    missing = [c for c in columns if c not in have]
    if missing:
        raise KeyError(f"table '{table}' has no column(s) {', '.join(missing)} (have {', '.join(have)})")
    return list(dict.fromkeys(columns))


def _meets(reps: range, wanted: np.ndarray) -> bool:
    """Whether a chunk's replications include any of ``wanted`` (sorted)."""
    i = int(np.searchsorted(wanted, reps.start))
    return i < len(wanted) and wanted[i] < reps.stop


def _rows(df: pd.DataFrame, wanted: np.ndarray | None, columns: list[str] | None) -> pd.DataFrame:
    """The rows of the ``wanted`` replications (all when None), ``columns`` only (all when None)."""
    if wanted is not None:
        df = df[np.isin(df["replication"].to_numpy(), wanted)]
    if columns is not None:
        df = df[_known(df.columns, columns, "?")]
    return df.reset_index(drop=True) if wanted is not None else df


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
