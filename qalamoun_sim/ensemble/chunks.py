"""Chunks of consecutive replications: the plan, and one chunk simulated into tidy tables.

A chunk computes its exogenous state in one vectorized block and runs the SimPy engine on each of
its replications; every replication draws from its own child ``SeedSequence``, so a chunk's rows
do not depend on the chunk size, the backend or the order chunks finish in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..engine.engine import simulate_replication
from ..engine.results import TABLES
from ..environment.state import compute_state
from ..errors import BackendError
from ..network.routes import RouteNetwork
from ..scenario import Scenario

__all__ = ["Chunk", "plan_chunks", "default_chunk_size", "replication_summary", "simulate_chunk",
           "replication_bytes", "available_memory", "fit_chunk_size", "MAX_REPLICATIONS"]

#: The most replications one run may ask for (as the scenario file's ``replications``).
MAX_REPLICATIONS = 10_000_000


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


def replication_bytes(scenario: Scenario) -> int:
    """About how much memory one replication takes at its peak: its state arrays and its tables.

    A generous estimate (per day: 8 bytes x 4 arrays per snow band and a row of the long ``weather``
    table per band, about 60 bytes; about 200 bytes per route for the state and the ``routes``
    table, 100 per town), so that what it admits fits.

    Examples
    --------
    >>> from qalamoun_sim.scenario import load_scenario
    >>> 0 < replication_bytes(load_scenario()) < 50 * 2**20
    True
    """
    w = scenario.weather
    bands = int((w.band_max_m - w.band_min_m) // w.band_step_m) + 1
    towns = sum(1 for n in scenario.nodes if n.kind == "town")
    per_day = (32 + 64) * bands + 200 * len(scenario.routes) + 100 * towns + 200
    return int(scenario.scenario.days * per_day) + 2**20


def available_memory() -> int:
    """Bytes of memory available to this process now (``MemAvailable`` on Linux; else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not a POSIX system
        return 2**40


def fit_chunk_size(scenario: Scenario, size: int, copies: int, memory: int | None = None) -> int:
    """The largest chunk size up to ``size`` whose ``copies`` chunks in memory at once fit in half of ``memory``.

    Raises
    ------
    BackendError
        When not even one replication fits.
    """
    memory = available_memory() if memory is None else memory
    one = replication_bytes(scenario)
    fits = int(memory // 2 // (one * max(1, copies)))
    if fits < 1:
        raise BackendError(f"one replication of this scenario needs about {_gib(one * copies)} "
                           f"({copies} in memory at once) and {_gib(memory)} is available: use fewer days, "
                           "routes or workers")
    return min(size, fits)


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def replication_summary(towns: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Per (replication, town): delivered, shortfall, days without stock, capture and settlement day and date.

    A day without stock ends with an empty stock while the town needs supply (as in ``Run.town_summary``).
    """
    empty = (towns["stock_t"] <= 1e-9) & (towns["consumed_t"] + towns["shortfall_t"] > 0)
    g = towns.assign(empty=empty).groupby(["replication", "town"], sort=True, observed=True)
    out = pd.DataFrame({
        "delivered_t": g["delivered_t"].sum(),
        "shortfall_t": g["shortfall_t"].sum(),
        "days_without_stock": g["empty"].sum().astype(int),
        "final_stock_t": g["stock_t"].last(),
    }).reset_index()
    keys = pd.MultiIndex.from_frame(out[["replication", "town"]].astype({"town": str}))
    for kind in ("captured", "settled"):
        ev = events[events["event"].astype(str) == kind]
        first = ev.assign(town=ev["town"].astype(str)).groupby(["replication", "town"])[["day", "date"]].min()
        first = first.reindex(keys)
        out[f"{kind}_day"] = first["day"].to_numpy(dtype=float)
        out[f"{kind}_date"] = first["date"].to_numpy(dtype="datetime64[ms]")
    return out


def simulate_chunk(scenario: Scenario, seed: int, start: int, stop: int) -> dict[str, Any]:
    """Run replications ``start..stop-1``: tables with a ``replication`` column, plus event counts."""
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
