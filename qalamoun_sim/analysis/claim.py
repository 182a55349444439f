"""The 70 percent verdict: does snow cut more than ``threshold`` of a corridor, and when?

Per replication, each share is the mean over the claim window of the daily share; the claim holds
in a replication when the snow-cut share of the primary metric (``[claim] metric``) reaches the
threshold on at least ``min_fraction_of_days`` of the window's days (docs/background.md s.9; ``[claim] rule``).
Every other reading (each metric under each rule of :data:`RULES`) is reported beside it, each
probability with its 95 % Wilson interval. Quantiles are taken across replications. Everything
comes from the vectorized exogenous state, computed in blocks to keep memory flat; the towns the
army has taken by each date (the scenario's dated captures) leave the corridor's destinations.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..environment.state import snow_and_strikes
from ..errors import ScenarioError
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .metrics import METRICS, factor_shares, held_by_day

__all__ = ["ClaimShares", "ClaimSummary", "claim_shares", "claim_summary", "claim_verdict", "evaluate_claim",
           "window_mask", "claim_holds",
           "days_at_threshold", "rule_holds", "wilson_interval", "replications_for_halfwidth", "readings",
           "linear_quantiles", "QUANTILES", "RULES"]

#: When the claim holds in one winter, for a daily share over the window (docs/background.md s.9: the first is primary).
RULES: dict[str, str] = {
    "half_days": "at the threshold on at least min_fraction_of_days of the window's days",
    "window_mean": "the window's mean share at the threshold",
    "any_day": "at the threshold on at least one day of the window",
}

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

    def __repr__(self) -> str:
        days = len(self.dates)
        return (f"ClaimShares(scenario={self.scenario.scenario.name!r}, corridor={self.corridor!r}, seed={self.seed}, "
                f"replications={self.n_replications}, days={days}, metrics={list(self.daily['snow'])})")

    @property
    def n_replications(self) -> int:
        """Replications held."""
        return self.daily["snow"]["capacity"].shape[0]

    def window_mask(self) -> np.ndarray:
        """(D,) bool: days inside the claim window."""
        return window_mask(self.scenario, self.dates)

    def summary(self) -> ClaimSummary:
        """The per-replication figures the verdict reads (:class:`ClaimSummary`)."""
        return ClaimSummary(self.scenario, self.seed, self.corridor, self.dates,
                            **_reduce(self.daily, self.window_mask(), self.scenario))


@dataclass(frozen=True)
class ClaimSummary:
    """What the verdict reads of the daily shares, per replication: (R,) arrays, so that a claim over
    many replications holds no (R, D) array (:func:`claim_summary` reduces each block as it comes).

    Attributes
    ----------
    window_mean : ``[kind][metric]`` (R,) float
        The window's mean share.
    holds : ``[kind][metric][rule]`` (R,) bool
        Whether the claim holds in each winter, under each rule of :data:`RULES`.
    days_at, first_day : (R,)
        For the snow share of the primary metric: the fraction of the window's days at the threshold,
        and the first day index at it (``np.iinfo(np.int64).max`` when never).
    """

    scenario: Scenario
    seed: int
    corridor: str
    dates: list[dt.date]
    window_mean: dict[str, dict[str, np.ndarray]]
    holds: dict[str, dict[str, dict[str, np.ndarray]]]
    days_at: np.ndarray
    first_day: np.ndarray

    @property
    def n_replications(self) -> int:
        """Replications held."""
        return len(self.days_at)


def _reduce(daily: dict[str, dict[str, np.ndarray]], window: np.ndarray, scenario: Scenario) -> dict[str, Any]:
    """The :class:`ClaimSummary` fields of daily shares ``[kind][metric]`` (R, D); each row on its own."""
    cfg = scenario.claim
    snow = daily["snow"][cfg.metric]
    at = snow >= cfg.threshold - 1e-12
    return {"window_mean": {k: {m: daily[k][m][:, window].mean(axis=1) for m in METRICS} for k in KINDS},
            "holds": {k: {m: {r: rule_holds(r, daily[k][m], window, cfg.threshold, cfg.min_fraction_of_days)
                              for r in RULES} for m in METRICS} for k in KINDS},
            "days_at": days_at_threshold(snow, window, cfg.threshold),
            "first_day": np.where(at.any(axis=1), at.argmax(axis=1), np.iinfo(np.int64).max)}


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


def rule_holds(rule: str, share: np.ndarray, window: np.ndarray, threshold: float,
               min_fraction_of_days: float) -> np.ndarray:
    """(R,) bool: whether the claim holds in each winter under ``rule`` (one of :data:`RULES`).

    >>> share = np.array([[0.9, 0.4, 0.4], [0.75, 0.75, 0.6]])
    >>> [rule_holds(r, share, np.ones(3, bool), 0.7, 0.5).tolist() for r in RULES]
    [[False, True], [False, True], [True, True]]
    """
    if rule == "half_days":
        return claim_holds(share, window, threshold, min_fraction_of_days)
    if rule == "window_mean":
        return np.asarray(share[:, window].mean(axis=1) >= threshold - 1e-12)
    if rule == "any_day":
        return np.asarray((share >= threshold - 1e-12)[:, window].any(axis=1))
    raise ValueError(f"unknown rule '{rule}' (choose from {', '.join(RULES)})")


def _z(confidence: float) -> float:
    """The two-sided normal quantile ``ndtri(0.5 + confidence / 2)`` (``scipy.special``, imported only for a
    confidence other than 95 %, whose value is kept: importing SciPy costs more than the rest of ``claim``)."""
    level = 0.5 + 0.5 * confidence
    if level == 0.975:
        return _Z_975
    from scipy.special import ndtri

    return float(ndtri(level))


#: ``scipy.special.ndtri(0.975)``, bit for bit (a test checks it).
_Z_975 = 1.959963984540054


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion, as ``scipy.stats.binomtest(k, n).proportion_ci(
    method="wilson")`` computes it (Newcombe 1998; the same operations, so the same bits).

    >>> [round(x, 4) for x in wilson_interval(42, 100)]
    [0.328, 0.5179]
    """
    k, n = int(successes), int(trials)
    p = k / n
    z = _z(confidence)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    return (0.0 if k == 0 else center - delta), (1.0 if k == n else center + delta)


def replications_for_halfwidth(p: float, halfwidth: float = 0.02, confidence: float = 0.95) -> int:
    """Replications for a Wilson interval of at most ``halfwidth`` either side at a proportion ``p``.

    From the Wilson half-width ``z sqrt(p(1-p)/n + z^2/(4n^2)) / (1 + z^2/n)``, solved for the
    smallest ``n`` by bisection.

    >>> replications_for_halfwidth(0.5)
    2398
    """
    z = _z(confidence)
    p = min(max(p, 0.0), 1.0)

    def half(n: int) -> float:
        return z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)

    lo, hi = 1, 1
    while half(hi) > halfwidth:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if half(mid) > halfwidth else (lo, mid)
    return lo


def claim_holds(share: np.ndarray, window: np.ndarray, threshold: float, min_fraction_of_days: float) -> np.ndarray:
    """(R,) bool: the claim's rule (docs/background.md s.9) on a (R, D) daily share: at least ``threshold`` on at
    least ``min_fraction_of_days`` of the window's days.

    >>> claim_holds(np.array([[0.8, 0.6], [0.6, 0.6]]), np.array([True, True]), 0.7, 0.5).tolist()
    [True, False]
    """
    return days_at_threshold(share, window, threshold) >= min_fraction_of_days


def _blocks(scenario: Scenario, n: int, seed: int, block: int, network: RouteNetwork | None,
            progress: Callable[[int], None] | None) -> Iterator[dict[str, dict[str, np.ndarray]]]:
    """The daily shares ``[kind][metric]`` (r, D) of the claim corridor, ``block`` replications at a time."""
    net = network or RouteNetwork.from_scenario(scenario)
    corridor = scenario.claim.corridor
    if not net.corridor_mask(corridor).any():
        have = ", ".join(net.corridors()) or "none"
        raise ScenarioError(scenario.source_path or "<dict>", "claim.corridor",
                            f"no route is labelled '{corridor}' (corridors: {have})")
    ws, we = scenario.claim_window()
    if not window_mask(scenario, scenario.dates).any():
        raise ScenarioError(scenario.source_path or "<dict>", "claim.window_start",
                            f"the window {ws} .. {we} holds no simulated day")
    held = held_by_day(scenario)
    for lo in range(0, n, block):
        reps = range(lo, min(n, lo + block))
        ids, snow, interdicted = snow_and_strikes(scenario, reps, seed, net, routes=net.corridor_routes(corridor))
        yield factor_shares(ids, snow, interdicted, net, corridor, held=held)
        del snow, interdicted
        if progress is not None:
            progress(len(reps))


def claim_shares(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                 block: int = 250, progress: Callable[[int], None] | None = None,
                 network: RouteNetwork | None = None) -> ClaimShares:
    """Daily snow / interdiction / total cut shares of the claim corridor for each replication.

    The state of the corridor's routes alone (and the snow bands they need) is computed ``block``
    replications at a time; ``progress(n)`` is called after each block. For the verdict alone,
    :func:`claim_summary` holds less: (R,) arrays, not these (R, D) ones.
    """
    n = replications or scenario.scenario.replications
    seed = scenario.scenario.seed if seed is None else int(seed)
    parts: dict[str, dict[str, list[np.ndarray]]] = {k: {m: [] for m in METRICS} for k in KINDS}
    for shares in _blocks(scenario, n, seed, block, network, progress):
        for k in KINDS:
            for m in METRICS:
                parts[k][m].append(shares[k][m])
    daily = {k: {m: np.concatenate(parts[k][m]) for m in METRICS} for k in KINDS}
    return ClaimShares(scenario, seed, scenario.claim.corridor, scenario.dates, daily)


def claim_summary(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                  block: int = 250, progress: Callable[[int], None] | None = None,
                  network: RouteNetwork | None = None) -> ClaimSummary:
    """The verdict's per-replication figures, each block of :func:`claim_shares` reduced as it comes and
    dropped, so memory does not grow with the replications; ``claim_shares(...).summary()``, the same
    numbers (each replication draws from its own generators, and each row reduces alone)."""
    n = replications or scenario.scenario.replications
    seed = scenario.scenario.seed if seed is None else int(seed)
    window = window_mask(scenario, scenario.dates)
    parts = [_reduce(daily, window, scenario) for daily in _blocks(scenario, n, seed, block, network, progress)]
    return ClaimSummary(
        scenario, seed, scenario.claim.corridor, scenario.dates,
        window_mean={k: {m: _join(parts, "window_mean", k, m) for m in METRICS} for k in KINDS},
        holds={k: {m: {r: _join(parts, "holds", k, m, r) for r in RULES} for m in METRICS} for k in KINDS},
        days_at=_join(parts, "days_at"), first_day=_join(parts, "first_day"))


def _join(parts: list[dict[str, Any]], *path: str) -> np.ndarray:
    """The blocks' arrays at ``path`` (keys into each part), one after the other."""
    arrays: list[np.ndarray] = []
    for part in parts:
        value: Any = part
        for key in path:
            value = value[key]
        arrays.append(value)
    return np.concatenate(arrays)


def _quantiles(values: np.ndarray) -> dict[str, float]:
    """:data:`QUANTILES` of ``values``, rounded to 6 places (one call for all three: the same numbers)."""
    qs = linear_quantiles(values, np.array(list(QUANTILES.values())))
    return {k: round(float(q), 6) for k, q in zip(QUANTILES, qs, strict=True)}


def linear_quantiles(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(values, q)`` (method "linear") of a 1-D float array, to the bit: numpy's own steps.

    numpy (2.3 and later) finds the order statistics to select with ``np.unique``, which imports
    :mod:`numpy.ma` (11 ms, a sixth of what the ``claim`` command spends beyond its imports); here
    they are a sorted set, the same ``kth`` for the same partition, and the same interpolation.

    >>> v = np.array([3.0, 1.0, 2.0, 10.0])
    >>> linear_quantiles(v, np.array([0.05, 0.5, 0.95])).tolist() == np.quantile(v, [0.05, 0.5, 0.95]).tolist()
    True
    """
    arr = np.array(values, dtype=float).ravel()
    n = len(arr)
    virtual = (n - 1) * np.asarray(q, dtype=float)
    prev, nxt = np.floor(virtual), np.floor(virtual) + 1
    for where, index in ((virtual >= n - 1, -1), (virtual < 0, 0), (np.isnan(virtual), -1)):
        prev[where], nxt[where] = index, index
    lo, hi = prev.astype(np.intp), nxt.astype(np.intp)
    arr.partition(np.array(sorted({0, -1, *lo.tolist(), *hi.tolist()}), dtype=np.intp))
    a, b = arr[lo], arr[hi]
    gamma = np.asarray(virtual - lo, dtype=virtual.dtype)
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe", dtype=type(out.dtype))
    if np.isnan(arr[-1]):
        out[...] = arr[-1]
    return out


def claim_verdict(shares: ClaimShares | ClaimSummary) -> dict[str, Any]:
    """The verdict as a JSON-ready dict with the keys of docs/reference.md, Outputs."""
    summary = shares.summary() if isinstance(shares, ClaimShares) else shares
    scn = summary.scenario
    cfg = scn.claim
    if not window_mask(scn, summary.dates).any():
        raise ValueError("the claim window holds no simulated day")
    ws, we = scn.claim_window()
    out: dict[str, Any] = {
        "scenario": scn.scenario.name, "seed": summary.seed, "replications": summary.n_replications,
        "threshold": cfg.threshold, "corridor": summary.corridor, "metric": cfg.metric,
        "window_start": ws.isoformat(), "window_end": we.isoformat(),
    }
    for kind in KINDS:
        out[_KEY[kind]] = {m: _quantiles(summary.window_mean[kind][m]) for m in METRICS}
    holds = summary.holds["snow"][cfg.metric][cfg.rule]
    n = len(holds)
    out["rule"] = cfg.rule
    out["claim_probability"] = round(float(holds.mean()), 6)
    out["claim_probability_ci95"] = [round(x, 6) for x in wilson_interval(int(holds.sum()), n)]
    out["replications_for_ci_halfwidth"] = {"halfwidth": 0.02,
                                            "replications": replications_for_halfwidth(float(holds.mean()))}
    out["fraction_of_window_days_at_threshold"] = _quantiles(summary.days_at)
    first = summary.first_day
    out["first_day_at_threshold"] = {
        k: (None if (v := int(np.quantile(first, q, method="inverted_cdf"))) >= len(summary.dates)
            else summary.dates[v].isoformat())
        for k, q in QUANTILES.items()}
    out["never_at_threshold_fraction"] = round(float((first >= len(summary.dates)).mean()), 6)
    total = summary.holds["total"][cfg.metric][cfg.rule]
    out["total_claim_probability"] = round(float(total.mean()), 6)
    out["total_claim_probability_ci95"] = [round(x, 6) for x in wilson_interval(int(total.sum()), n)]
    out["readings"] = readings(summary)
    return out


def readings(shares: ClaimShares | ClaimSummary, kind: str = "snow") -> list[dict[str, Any]]:
    """Every reading of the claim side by side: each metric under each rule, P(claim) with its Wilson interval.

    ``kind``: ``snow`` (the claim: snow alone) or ``total`` (snow and interdiction together).
    """
    summary = shares.summary() if isinstance(shares, ClaimShares) else shares
    cfg = summary.scenario.claim
    out = []
    for metric in METRICS:
        for rule, text in RULES.items():
            holds = summary.holds[kind][metric][rule]
            out.append({"metric": metric, "rule": rule, "description": text,
                        "primary": metric == cfg.metric and rule == cfg.rule,
                        "claim_probability": round(float(holds.mean()), 6),
                        "ci95": [round(x, 6) for x in wilson_interval(int(holds.sum()), len(holds))]})
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
    return claim_verdict(claim_summary(scenario, replications, seed, progress=progress))
