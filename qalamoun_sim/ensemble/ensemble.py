"""Ensembles: many seeded replications on a serial, process-pool or dask backend.

Replications are grouped into chunks of consecutive indices. A chunk computes its exogenous
state in one vectorized block, runs the SimPy engine on each replication, and returns tidy
tables with a ``replication`` column. With an output folder, each finished chunk is written at
once (one Parquet file per table, atomically), so memory stays flat; ``resume`` finishes only the
chunks that are missing. Every replication draws from its own child ``SeedSequence``, so results
are identical whatever the backend, worker count, chunk size or completion order.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..engine.results import TABLES
from ..environment.state import compute_state
from ..errors import BackendError, ResultsError
from ..io import read_json, write_json, write_parquet
from ..network.routes import RouteNetwork
from ..scenario import Scenario, scenario_from_dict, scenario_hash

__all__ = ["TABLES", "BACKENDS", "Chunk", "BackendError", "plan_chunks", "simulate_chunk", "run_ensemble",
           "Ensemble", "replication_summary", "json_records"]

BACKENDS: tuple[str, ...] = ("serial", "processes", "dask")
SCHEDULER_TIMEOUT_S = 10
_CHUNK_RE = re.compile(r"chunk-(\d{5})-(\w+)\.parquet$")


@dataclass(frozen=True)
class Chunk:
    """Replications ``start`` (inclusive) to ``stop`` (exclusive)."""

    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        """Replications in the chunk."""
        return self.stop - self.start


def plan_chunks(replications: int, chunk_size: int) -> list[Chunk]:
    """Split ``replications`` into chunks of at most ``chunk_size``.

    Examples
    --------
    >>> [(c.start, c.stop) for c in plan_chunks(5, 2)]
    [(0, 2), (2, 4), (4, 5)]
    """
    if replications < 1:
        raise BackendError("replications: must be >= 1")
    if chunk_size < 1:
        raise BackendError("chunk_size: must be >= 1")
    return [Chunk(i, lo, min(replications, lo + chunk_size))
            for i, lo in enumerate(range(0, replications, chunk_size))]


def default_chunk_size(replications: int, workers: int) -> int:
    """About four chunks per worker, at most 50 replications each."""
    return max(1, min(50, math.ceil(replications / (4 * max(1, workers)))))


def replication_summary(towns: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Per (replication, town): delivered, shortfall, days without stock, capture and settlement day.

    A day without stock ends with an empty stock while the town needs supply (as in ``Run.town_summary``).
    """
    empty = (towns["stock_t"] <= 1e-9) & (towns["consumed_t"] + towns["shortfall_t"] > 0)
    g = towns.assign(empty=empty).groupby(["replication", "town"], sort=True)
    out = pd.DataFrame({
        "delivered_t": g["delivered_t"].sum(),
        "shortfall_t": g["shortfall_t"].sum(),
        "days_without_stock": g["empty"].sum().astype(int),
        "final_stock_t": g["stock_t"].last(),
    }).reset_index()
    for kind in ("captured", "settled"):
        ev = events[events["event"] == kind] if len(events) else events
        first = ev.groupby(["replication", "town"])["day"].min().rename(f"{kind}_day") if len(ev) else \
            pd.Series(dtype=float, name=f"{kind}_day")
        out = out.merge(first.reset_index() if len(ev) else pd.DataFrame(columns=["replication", "town", f"{kind}_day"]),
                        on=["replication", "town"], how="left")
        out[f"{kind}_day"] = out[f"{kind}_day"].astype(float)
    return out


def simulate_chunk(scenario: Scenario, seed: int, start: int, stop: int) -> dict[str, Any]:
    """Run replications ``start..stop-1``: tables with a ``replication`` column, plus event counts."""
    from ..engine.engine import simulate_replication

    net = RouteNetwork.from_scenario(scenario)
    state = compute_state(scenario, range(start, stop), seed, net)
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    counts: dict[int, int] = {}
    for k, rep in enumerate(range(start, stop)):
        run = simulate_replication(scenario, rep, seed, network=net, state=state.replication(k))
        counts[rep] = int(run.event_count)
        for t in TABLES:
            df = getattr(run, t)
            parts[t].append(df.assign(replication=rep)[["replication", *df.columns]])
    tables = {t: pd.concat(parts[t], ignore_index=True) for t in TABLES}
    summary = replication_summary(tables["towns"], tables["events"])
    summary["event_count"] = summary["replication"].map(counts).astype("int64")
    return {"tables": tables, "event_count": sum(counts.values()), "summary": summary}


# ---------------------------------------------------------------------------- backends
def _serial(scenario: Scenario, seed: int, chunks: list[Chunk]) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    for c in chunks:
        yield c, simulate_chunk(scenario, seed, c.start, c.stop)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which keeps finished chunks and stops the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _processes(scenario: Scenario, seed: int, chunks: list[Chunk],
               workers: int) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    pending = list(chunks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_ignore_sigint) as pool:
        running: dict[Any, Chunk] = {}
        try:
            while pending or running:
                while pending and len(running) < 2 * workers:  # bounded in flight: flat memory
                    c = pending.pop(0)
                    running[pool.submit(simulate_chunk, scenario, seed, c.start, c.stop)] = c
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield running.pop(fut), fut.result()
        except BaseException:
            for fut in running:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _dask_client(workers: int, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BackendError("the dask backend needs dask.distributed: pip install 'qalamoun-sim[dask]'") from None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendError(f"--scheduler {scheduler}: cannot reach a dask scheduler within "
                               f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__})") from None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _dask(scenario: Scenario, seed: int, chunks: list[Chunk], workers: int,
          scheduler: str | None) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    from dask.distributed import as_completed

    client, cluster = _dask_client(workers, scheduler)
    try:
        pending = list(chunks)
        futures = {}
        ac = as_completed()
        limit = 2 * max(1, sum(client.nthreads().values()) if scheduler else workers)
        while pending and len(futures) < limit:
            c = pending.pop(0)
            f = client.submit(simulate_chunk, scenario, seed, c.start, c.stop, pure=False)
            futures[f.key] = c
            ac.add(f)
        for fut in ac:
            c = futures.pop(fut.key)
            result = fut.result()
            fut.release()
            if pending:
                n = pending.pop(0)
                f = client.submit(simulate_chunk, scenario, seed, n.start, n.stop, pure=False)
                futures[f.key] = n
                ac.add(f)
            yield c, result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------- the run
def _chunk_path(folder: Path, index: int, table: str) -> Path:
    return folder / "chunks" / f"chunk-{index:05d}-{table}.parquet"


def finished_chunks(folder: Path) -> set[int]:
    """Chunks whose every table (and summary) is on disk."""
    seen: dict[int, set[str]] = {}
    for p in (folder / "chunks").glob("chunk-*.parquet"):
        m = _CHUNK_RE.search(p.name)
        if m:
            seen.setdefault(int(m.group(1)), set()).add(m.group(2))
    need = set(TABLES) | {"summary"}
    return {i for i, names in seen.items() if need <= names}


def _summary_header(scenario: Scenario, seed: int, replications: int, chunk_size: int) -> dict[str, Any]:
    return {"package": "qalamoun-sim", "version": __version__,
            "scenario": {"name": scenario.scenario.name, "source": scenario.source_path,
                         "hash": scenario_hash(scenario)},
            "seed": seed, "replications": replications, "chunk_size": chunk_size}


def _check_resume(folder: Path, header: dict[str, Any]) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.exists():
        raise ResultsError(f"{folder}: nothing to resume (no summary.json)")
    old = read_json(path)
    for key, label in (("seed", "seed"), ("replications", "replication count")):
        if old.get(key) != header[key]:
            raise ResultsError(f"{folder}: made with {label} {old.get(key)}, not {header[key]}; "
                               "use another --out folder")
    if old.get("scenario", {}).get("hash") != header["scenario"]["hash"]:
        raise ResultsError(f"{folder}: made from a different scenario "
                           f"('{old.get('scenario', {}).get('name')}'); use another --out folder")
    return old


def _prepare_folder(folder: Path, header: dict[str, Any], resume: bool) -> set[int]:
    """Check an output folder before a run; returns the chunks already finished (resume).

    A fresh run needs an empty (or new) folder, or one left by a run that finished no chunk
    (e.g. an unreachable scheduler). A resume needs the same scenario, seed and count; it keeps
    the recorded chunk size (``header`` is updated) and removes temporary files a hard kill left.
    """
    if resume:
        old = _check_resume(folder, header)
        header["chunk_size"] = int(old["chunk_size"])
        for tmp in (folder / "chunks").glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return finished_chunks(folder)
    if folder.exists() and any(folder.iterdir()):
        if (folder / "summary.json").exists() and not finished_chunks(folder):
            return set()  # nothing worth keeping: start again
        raise ResultsError(f"{folder}: folder exists and is not empty; use --resume or another --out folder")
    return set()


def run_ensemble(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                 backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
                 out: str | Path | None = None, resume: bool = False, chunk_size: int | None = None,
                 progress: Callable[[int], None] | None = None) -> Ensemble:
    """Run replications of a scenario and return them as an :class:`Ensemble`.

    Parameters
    ----------
    scenario : Scenario
    replications, seed : int, optional
        Defaults: the scenario's.
    backend : {"serial", "processes", "dask"}
    workers : int, optional
        Processes (``processes``) or local dask workers; default 2.
    scheduler : str, optional
        Address of an existing dask scheduler (``dask`` backend); default an embedded LocalCluster.
    out : path, optional
        Folder for the Parquet chunks, ``summary.json`` and ``scenario.json``; without it, tables stay in memory.
    resume : bool
        Finish only the chunks missing from ``out`` (same scenario, seed and count, or refused).
    progress : callable, optional
        Called with the number of replications finished after each chunk.

    Raises
    ------
    BackendError, ResultsError
        Bad backend settings; an output folder that cannot be used.
    """
    n = scenario.scenario.replications if replications is None else int(replications)
    seed = scenario.scenario.seed if seed is None else int(seed)
    if backend not in BACKENDS:
        raise BackendError(f"--backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")
    if n < 1:
        raise BackendError(f"--replications: must be >= 1, got {n}")
    if workers is not None and workers < 1:
        raise BackendError(f"--workers: must be >= 1, got {workers}")
    workers = workers or 2
    if scheduler and backend != "dask":
        raise BackendError("--scheduler: only with --backend dask")
    if chunk_size is not None and chunk_size < 1:
        raise BackendError(f"chunk_size: must be >= 1, got {chunk_size}")
    folder = Path(out) if out is not None else None
    size = chunk_size or default_chunk_size(n, workers if backend != "serial" else 1)
    header = _summary_header(scenario, seed, n, size)
    done: set[int] = set()
    if folder is not None:
        done = _prepare_folder(folder, header, resume)
    elif resume:
        raise ResultsError("--resume needs --out")
    size = header["chunk_size"]
    chunks = plan_chunks(n, size)
    todo = [c for c in chunks if c.index not in done]
    if progress is not None and done:
        progress(sum(c.size for c in chunks if c.index in done))

    memory: dict[int, dict[str, Any]] = {}
    if folder is not None:
        write_json(scenario.model_dump(mode="json", by_alias=True), folder / "scenario.json")
        write_json({**header, "status": "running", "started": _now()}, folder / "summary.json")
    if backend == "serial":
        stream = _serial(scenario, seed, todo)
    elif backend == "processes":
        stream = _processes(scenario, seed, todo, workers)
    else:
        stream = _dask(scenario, seed, todo, workers, scheduler)
    try:
        for chunk, result in stream:
            if folder is not None:
                for t in TABLES:
                    write_parquet(result["tables"][t], _chunk_path(folder, chunk.index, t))
                write_parquet(result["summary"], _chunk_path(folder, chunk.index, "summary"))
            else:
                memory[chunk.index] = result
            if progress is not None:
                progress(chunk.size)
    except BaseException as exc:  # keep what finished; say why the rest did not
        if folder is not None:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            write_json({**header, "status": status, "finished": _now(), "chunks": len(chunks),
                        "chunks_done": len(finished_chunks(folder))}, folder / "summary.json")
        raise
    if folder is not None:
        ens = Ensemble(folder)
        write_json({**header, "status": "complete", "finished": _now(), "chunks": len(chunks),
                    "chunks_done": len(chunks), "event_count": ens.event_count,
                    "towns": json_records(ens.town_report())}, folder / "summary.json")
        return Ensemble(folder)  # read again: its meta is the final summary
    ordered = [memory[i] for i in sorted(memory)]
    tables = {t: pd.concat([r["tables"][t] for r in ordered], ignore_index=True) for t in TABLES}
    summary = pd.concat([r["summary"] for r in ordered], ignore_index=True)
    return Ensemble.from_tables(scenario, seed, tables, summary)


def json_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN becomes null (strict JSON has no NaN)."""
    rows = table.reset_index().to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in rows]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- reading back
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
        ens.meta = {**_summary_header(scenario, seed, int(summary["replication"].nunique()), 0), "status": "complete"}
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
        files = sorted((self.folder / "chunks").glob(f"chunk-*-{table}.parquet"))
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
