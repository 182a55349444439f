"""The 70 percent verdict: does snow cut more than ``threshold`` of a corridor, and when?

Per replication, each share is the mean over the claim window of the daily share; the claim holds
in a replication when the snow-cut share (``[claim] metric``) reaches the threshold on at least
``min_fraction_of_days`` of the window's days (design.md s.5). Quantiles are taken across replications.
Everything comes from the vectorized exogenous state, computed in blocks to keep memory flat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..environment.state import compute_state
from ..errors import ScenarioError
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .metrics import METRICS, corridor_shares

__all__ = ["ClaimShares", "claim_shares", "claim_verdict", "evaluate_claim", "window_mask", "claim_holds",
           "days_at_threshold", "QUANTILES"]

QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
KINDS = ("snow", "interdiction", "total")
_KEY = {"snow": "snow_cut_share", "interdiction": "interdiction_cut_share", "total": "total_cut_share"}


@dataclass(frozen=True)
class ClaimShares:
    """Daily shares of a corridor for many replications: ``daily[kind][metric]`` is (R, D)."""

    scenario: Scenario
    seed: int
    corridor: str
    dates: list[dt.date]
    daily: dict[str, dict[str, np.ndarray]]

    @property
    def n_replications(self) -> int:
        """Replications held."""
        return self.daily["snow"]["capacity"].shape[0]

    def window_mask(self) -> np.ndarray:
        """(D,) bool: days inside the claim window."""
        return window_mask(self.scenario, self.dates)


def window_mask(scenario: Scenario, dates: Sequence[dt.date] | np.ndarray) -> np.ndarray:
    """(D,) bool: which of ``dates`` (dates, or numpy datetime64) lie inside the scenario's claim window.

    >>> import datetime as dt
    >>> from qalamoun_sim import load_scenario
    >>> window_mask(load_scenario(), [dt.date(2013, 11, 30), dt.date(2013, 12, 1)]).tolist()
    [False, True]
    """
    ws, we = scenario.claim_window()
    days = np.asarray(dates, dtype="datetime64[D]")
    return (days >= np.datetime64(ws, "D")) & (days <= np.datetime64(we, "D"))


def days_at_threshold(share: np.ndarray, window: np.ndarray, threshold: float) -> np.ndarray:
    """(R,) fraction of the window's days on which a (R, D) daily share reaches ``threshold``."""
    return (share >= threshold - 1e-12)[:, window].mean(axis=1)


def claim_holds(share: np.ndarray, window: np.ndarray, threshold: float, min_fraction_of_days: float) -> np.ndarray:
    """(R,) bool: the claim's rule (design.md s.5) on a (R, D) daily share: at least ``threshold`` on at
    least ``min_fraction_of_days`` of the window's days.

    >>> claim_holds(np.array([[0.8, 0.6], [0.6, 0.6]]), np.array([True, True]), 0.7, 0.5).tolist()
    [True, False]
    """
    return days_at_threshold(share, window, threshold) >= min_fraction_of_days


def claim_shares(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                 block: int = 250, progress: Callable[[int], None] | None = None,
                 network: RouteNetwork | None = None) -> ClaimShares:
    """Daily snow / interdiction / total cut shares of the claim corridor for each replication.

    The state of the corridor's routes alone (and the snow bands they need) is computed ``block``
    replications at a time; ``progress(n)`` is called after each block.
    """
    net = network or RouteNetwork.from_scenario(scenario)
    n = replications or scenario.scenario.replications
    seed = scenario.scenario.seed if seed is None else int(seed)
    corridor = scenario.claim.corridor
    if not net.corridor_mask(corridor).any():
        have = ", ".join(net.corridors()) or "none"
        raise ScenarioError(scenario.source_path or "<dict>", "claim.corridor",
                            f"no route is labelled '{corridor}' (corridors: {have})")
    ws, we = scenario.claim_window()
    if not window_mask(scenario, scenario.dates).any():
        raise ScenarioError(scenario.source_path or "<dict>", "claim.window_start",
                            f"the window {ws} .. {we} holds no simulated day")
    parts: dict[str, dict[str, list[np.ndarray]]] = {k: {m: [] for m in METRICS} for k in KINDS}
    for lo in range(0, n, block):
        reps = range(lo, min(n, lo + block))
        state = compute_state(scenario, reps, seed, net, routes=net.corridor_routes(corridor))
        shares = corridor_shares(state, net, corridor)
        for k in KINDS:
            for m in METRICS:
                parts[k][m].append(shares[k][m])
        if progress is not None:
            progress(len(reps))
    daily = {k: {m: np.concatenate(parts[k][m]) for m in METRICS} for k in KINDS}
    return ClaimShares(scenario, seed, corridor, scenario.dates, daily)


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return {k: round(float(np.quantile(values, q)), 6) for k, q in QUANTILES.items()}


def claim_verdict(shares: ClaimShares) -> dict[str, Any]:
    """The verdict as a JSON-ready dict with the keys of design.md s.3 (and a few more)."""
    scn = shares.scenario
    cfg = scn.claim
    window = shares.window_mask()
    if not window.any():
        raise ValueError("the claim window holds no simulated day")
    ws, we = scn.claim_window()
    out: dict[str, Any] = {
        "scenario": scn.scenario.name, "seed": shares.seed, "replications": shares.n_replications,
        "threshold": cfg.threshold, "corridor": shares.corridor, "metric": cfg.metric,
        "window_start": ws.isoformat(), "window_end": we.isoformat(),
    }
    for kind in KINDS:
        out[_KEY[kind]] = {m: _quantiles(shares.daily[kind][m][:, window].mean(axis=1)) for m in METRICS}
    snow = shares.daily["snow"][cfg.metric]
    at = snow >= cfg.threshold - 1e-12
    days_at = days_at_threshold(snow, window, cfg.threshold)
    holds = days_at >= cfg.min_fraction_of_days
    out["claim_probability"] = round(float(holds.mean()), 6)
    out["fraction_of_window_days_at_threshold"] = _quantiles(days_at)
    first = np.where(at.any(axis=1), at.argmax(axis=1), np.iinfo(np.int64).max)
    out["first_day_at_threshold"] = {
        k: (None if (v := int(np.quantile(first, q, method="inverted_cdf"))) >= len(shares.dates)
            else shares.dates[v].isoformat())
        for k, q in QUANTILES.items()}
    out["never_at_threshold_fraction"] = round(float((first >= len(shares.dates)).mean()), 6)
    total = shares.daily["total"][cfg.metric]
    out["total_claim_probability"] = round(
        float(claim_holds(total, window, cfg.threshold, cfg.min_fraction_of_days).mean()), 6)
    return out


def evaluate_claim(scenario: Scenario, replications: int | None = None, seed: int | None = None,
                   progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Compute the shares and the verdict in one call.

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> v = evaluate_claim(load_scenario(), replications=5, seed=1)
    >>> 0.0 <= v["claim_probability"] <= 1.0
    True
    """
    return claim_verdict(claim_shares(scenario, replications, seed, progress=progress))
