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

__all__ = ["Chunk", "plan_chunks", "default_chunk_size", "replication_summary", "simulate_chunk"]


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
