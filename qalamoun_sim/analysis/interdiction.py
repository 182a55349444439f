"""What the army would need: optimal strikes on a corridor that snow closes at random.

For the claim corridor and the claim window, with the rules of the connectivity share (docs/background.md s.8:
the corridor's routes take the day's snow capacity factors, every other route keeps its nominal
capacity, the side rule decides what the militants may use, the sinks are the militant towns), the
max flow left after ``k`` targeted strikes (:class:`~qalamoun_sim.network.interdiction.FlowInterdiction`,
Wood's MILP solved by HiGHS):

* ``daily`` -- for each replication and day, the ``k`` routes whose closure minimises that day's flow
  (routes snow already closed cost nothing: the army strikes what is open);
* ``plan`` -- one set of ``k`` routes, closed for the whole window, minimising the mean flow over the
  window's days and the replications (the stochastic form, Cormican, Morton & Wood 1998).

Targeted strikes always hit: this is the bound of what interdiction could do, beside the scenario's own
random strikes (``random_policy``) on the same days. Days repeat a few corridor states, so each distinct
state is solved once (``patterns``). Per replication the residual flow and the cut share are means over
the window's days; quantiles are taken across replications, as for the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..environment.state import compute_state
from ..errors import ScenarioError
from ..network.interdiction import FlowInterdiction, StrikeGroup, denied_routes
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .claim import QUANTILES, window_mask
from .interdiction_curves import CorridorDays, Curves, daily_curves, plan_curves
from .metrics import held_by_day

__all__ = ["MODES", "DEFAULT_BUDGETS", "InterdictionReport", "corridor_days", "open_weather_days", "optimal_interdiction",
           "parse_budgets", "check_budgets", "strike_groups", "candidate_routes"]

MODES: tuple[str, ...] = ("daily", "plan")
#: Budgets of the curve by default (strikes).
DEFAULT_BUDGETS: tuple[int, ...] = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class InterdictionReport:
    """The budget curve of one corridor, and what the scenario's own strikes do on the same days."""

    scenario: Scenario
    seed: int
    mode: str
    corridor: str
    target: float
    assets: bool
    nominal_flow: float
    budgets: tuple[int, ...]
    residual: np.ndarray            # (R, len(budgets)) mean residual flow over the window
    share: np.ndarray               # (R, len(budgets)) mean cut share over the window
    routes: list[Any]               # per budget: the plan's route ids, or {route id: share of days chosen}
    strikes_needed: np.ndarray      # (R,) fewest strikes reaching the target, inf when none does
    random_flow: np.ndarray         # (R,)
    random_share: np.ndarray        # (R,)
    random_closed: np.ndarray       # (R,)
    no_snow: Curves                 # the same days without snow (one replication)
    patterns: int
    solves: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the keys of the issue (``budget_curve``, ``random_policy``, ``strikes_to_cut_rest`` ...)."""
        ws, we = self.scenario.claim_window()
        nominal = self.nominal_flow
        curve = [{"strikes": k, "residual_flow_tpd": _quantiles(self.residual[:, j]),
                  "cut_share": _quantiles(self.share[:, j]), "routes": self.routes[j]}
                 for j, k in enumerate(self.budgets)]
        free = self.no_snow
        open_weather = [{"strikes": k, "residual_flow_tpd": round(float(free.replication_flow(k)[0]), 6),
                         "cut_share": round(float(free.replication_share(k)[0]), 6), "routes": free.routes_summary(k)}
                        for k in self.budgets]
        free_need = float(free.strikes_needed(self.target)[0])
        return {
            "scenario": self.scenario.scenario.name, "seed": self.seed, "replications": int(len(self.residual)),
            "mode": self.mode, "corridor": self.corridor, "window_start": ws.isoformat(), "window_end": we.isoformat(),
            "target": self.target, "assets": self.assets, "nominal_flow_tpd": round(nominal, 6),
            "budget_curve": curve,
            "random_policy": {"residual_flow_tpd": _quantiles(self.random_flow),
                              "cut_share": _quantiles(self.random_share),
                              "routes_closed_per_day": _quantiles(self.random_closed)},
            "strikes_to_cut_rest": _count_quantiles(self.strikes_needed),
            "never_cut_rest_fraction": round(float(np.isinf(self.strikes_needed).mean()), 6),
            "no_snow_curve": open_weather,
            "no_snow_strikes_to_cut_rest": None if np.isinf(free_need) else int(free_need),
            "patterns": self.patterns, "milp_solves": self.solves,
        }


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return {k: round(float(np.quantile(values, q)), 6) for k, q in QUANTILES.items()}


def _count_quantiles(values: np.ndarray) -> dict[str, int | None]:
    """Quantiles of counts with infinity (never) as None, taken as for dates (an order statistic)."""
    out: dict[str, int | None] = {}
    for k, q in QUANTILES.items():
        v = float(np.quantile(values, q, method="inverted_cdf"))
        out[k] = None if np.isinf(v) else int(v)
    return out


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` (or a range ``"0-4"``) as sorted distinct budgets; bad text is a ScenarioError on ``--budget``.

    >>> parse_budgets("2,0,1,1")
    (0, 1, 2)
    >>> parse_budgets("0-3")
    (0, 1, 2, 3)
    """
    values: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        lo, sep, hi = part.partition("-") if "-" in part[1:] else (part, "", "")  # "-1" is a number, "0-4" a range
        try:
            span = range(int(lo), int(hi) + 1) if sep else [int(part)]
        except ValueError:
            raise ScenarioError("--budget", None, f"expected whole numbers like 0,1,2 or 0-4, got '{text}'") from None
        values.update(span)
    return check_budgets(values)


def check_budgets(budgets: Sequence[int] | set[int]) -> tuple[int, ...]:
    """Sorted distinct budgets, each a whole number >= 0 (a ScenarioError on ``--budget`` otherwise)."""
    if not budgets:
        raise ScenarioError("--budget", None, "give at least one budget")
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, int | np.integer):
            raise ScenarioError("--budget", None, f"must be whole numbers, got {b!r}")
        if b < 0:
            raise ScenarioError("--budget", None, f"must be >= 0, got {b}")
        if b > 10_000:
            raise ScenarioError("--budget", None, f"must be <= 10000, got {b}")
    return tuple(sorted({int(b) for b in budgets}))


def strike_groups(scenario: Scenario, network: RouteNetwork, candidates: np.ndarray) -> list[StrikeGroup]:
    """One group per asset of the scenario: the candidate routes within its range, ``strikes_per_day`` strikes."""
    assets = scenario.interdiction.assets if scenario.interdiction else []
    groups = [StrikeGroup(network.routes_within(a.base, a.range_km) & candidates, a.strikes_per_day, a.id)
              for a in assets if a.strikes_per_day > 0]
    if not groups:
        raise ScenarioError(scenario.source_path or "<dict>", "interdiction.assets", "no asset makes any strike")
    return groups


def corridor_days(scenario: Scenario, network: RouteNetwork, corridor: str, replications: int, seed: int,
                  block: int = 250) -> CorridorDays:
    """The window's corridor states (snow alone, the towns taken that day) and the scenario's own strikes,
    the state computed ``block`` replications at a time."""
    mask = network.corridor_mask(corridor)
    window = window_mask(scenario, scenario.dates)
    phase, outside, nominal = _phases(network, corridor, [h for h, w in zip(held_by_day(scenario), window,
                                                                             strict=True) if w])
    snow, struck = [], []
    for lo in range(0, replications, block):
        state = compute_state(scenario, range(lo, min(replications, lo + block)), seed, network,
                              routes=network.corridor_routes(corridor))
        snow.append(state.snow_capacity_factor[:, window, :])
        struck.append(state.interdicted[:, window, :])
    snow_f, hit = np.concatenate(snow), np.concatenate(struck)
    problem = FlowInterdiction.for_corridor(network, corridor)

    def distinct(factors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (phase, corridor factors) rows: full factors, nominal, inverse (R, W), counts."""
        keyed = np.concatenate([np.broadcast_to(phase[None, :, None], (*factors.shape[:2], 1)), factors], axis=2)
        rows, inverse, counts = np.unique(keyed.reshape(-1, keyed.shape[-1]), axis=0, return_inverse=True,
                                          return_counts=True)
        which = rows[:, 0].astype(int)
        full = outside[which].copy()
        full[:, mask] *= rows[:, 1:]
        return full, nominal[which], inverse.reshape(factors.shape[:2]), counts

    patterns, pattern_nominal, inverse, counts = distinct(snow_f)
    t_full, t_nominal, t_inverse, _ = distinct(np.where(hit, 0.0, snow_f))
    flow = problem.flows(t_full)
    share = np.where(t_nominal > 0, 1.0 - flow / np.where(t_nominal > 0, t_nominal, 1.0), 0.0)
    closed = (hit & (snow_f > 0)).sum(axis=2)
    return CorridorDays(patterns, pattern_nominal, counts, inverse, flow[t_inverse], share[t_inverse], closed)


def open_weather_days(scenario: Scenario, network: RouteNetwork, corridor: str) -> CorridorDays:
    """The window's days without snow: each day the nominal network less what the towns taken deny."""
    window = window_mask(scenario, scenario.dates)
    phase, outside, nominal = _phases(network, corridor, [h for h, w in zip(held_by_day(scenario), window,
                                                                             strict=True) if w])
    zeros = np.zeros((1, len(phase)))
    return CorridorDays(outside, nominal, np.bincount(phase, minlength=len(outside)), phase[None, :], zeros, zeros,
                        zeros.astype(int))


def _phases(network: RouteNetwork, corridor: str, held: Sequence[frozenset[str]]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Per window day its phase (the towns taken by then); per phase route factors (0 on the routes taking
    them denies, :func:`~qalamoun_sim.network.interdiction.denied_routes`) and the nominal max flow."""
    index: dict[frozenset[str], int] = {}
    for taken in held:
        index.setdefault(taken, len(index))
    outside = np.array([np.where(denied_routes(network, taken), 0.0, 1.0) for taken in index])
    nominal = np.array([network.max_flow(corridor, held=taken) for taken in index])
    return np.array([index[t] for t in held], dtype=int), outside, nominal


def _check(scenario: Scenario, network: RouteNetwork, mode: str, target: float) -> str:
    """The corridor (the claim's), checked with the mode and target; a ScenarioError names what is wrong."""
    src = scenario.source_path or "<dict>"
    if mode not in MODES:
        raise ScenarioError("--mode", None, f"must be one of {', '.join(MODES)}, got '{mode}'")
    if not (isinstance(target, int | float) and 0.0 < float(target) <= 1.0):
        raise ScenarioError("--target", None, f"must be in (0, 1], got {target!r}")
    corridor = scenario.claim.corridor
    if not network.corridor_mask(corridor).any():
        have = ", ".join(network.corridors()) or "none"
        raise ScenarioError(src, "claim.corridor", f"no route is labelled '{corridor}' (corridors: {have})")
    if network.max_flow(corridor) <= 0:
        raise ScenarioError(src, "claim.corridor", f"corridor '{corridor}' carries no flow to a militant town")
    if not window_mask(scenario, scenario.dates).any():
        ws, we = scenario.claim_window()
        raise ScenarioError(src, "claim.window_start", f"the window {ws} .. {we} holds no simulated day")
    return corridor


def candidate_routes(network: RouteNetwork, corridor: str, routes: Sequence[str] | None) -> np.ndarray:
    """(N,) bool: the routes strikes may close -- ``routes`` by id, default the corridor's (a ScenarioError
    on ``--routes`` names an unknown id)."""
    if routes is None:
        return network.corridor_mask(corridor)
    import difflib

    mask = np.zeros(network.n_routes, dtype=bool)
    for rid in routes:
        if rid not in network.route_index:
            close = difflib.get_close_matches(rid, network.route_ids, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ScenarioError("--routes", None, f"unknown route '{rid}'{hint}")
        mask[network.route_index[rid]] = True
    return mask


def optimal_interdiction(scenario: Scenario, budgets: Sequence[int] = DEFAULT_BUDGETS, mode: str = "daily",
                         replications: int | None = None, seed: int | None = None, *, target: float = 1.0,
                         assets: bool = False, routes: Sequence[str] | None = None,
                         network: RouteNetwork | None = None) -> InterdictionReport:
    """The budget curve of the claim corridor: residual flow after ``k`` optimal strikes, with snow.

    Parameters
    ----------
    scenario : Scenario
    budgets : sequence of int
        Strikes (per day in ``daily`` mode, in all in ``plan`` mode); each >= 0.
    mode : {"daily", "plan"}
    replications, seed : int, optional
        Default the scenario's.
    target : float in (0, 1]
        Cut share that ``strikes_to_cut_rest`` asks for (1.0: the whole corridor).
    assets : bool
        Strikes come from the scenario's assets: each reaches only routes within its range and makes at
        most its ``strikes_per_day`` (the total budget still applies).
    routes : sequence of str, optional
        Routes strikes may close (default the corridor's).

    Raises
    ------
    ScenarioError
        On a bad budget, mode, target or route id, or a corridor without flow.

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> r = optimal_interdiction(load_scenario(), [0, 1], replications=2, seed=1)
    >>> r.as_dict()["nominal_flow_tpd"]
    161.0
    """
    net = network or RouteNetwork.from_scenario(scenario)
    corridor = _check(scenario, net, mode, target)
    ks = check_budgets(list(budgets))
    n = scenario.scenario.replications if replications is None else int(replications)
    if n < 1:
        raise ScenarioError("--replications", None, f"must be >= 1, got {n}")
    seed = scenario.scenario.seed if seed is None else int(seed)
    candidates = candidate_routes(net, corridor, routes)
    problem = FlowInterdiction.for_corridor(net, corridor, candidates=candidates)
    groups = strike_groups(scenario, net, candidates) if assets else []
    days = corridor_days(scenario, net, corridor, n, seed)
    nominal = float(net.max_flow(corridor))
    build = daily_curves if mode == "daily" else plan_curves
    curves = build(problem, days, max(ks), groups, target, net.route_ids)
    no_snow = build(problem, open_weather_days(scenario, net, corridor), max(ks), groups, target, net.route_ids)
    residual = np.stack([curves.replication_flow(k) for k in ks], axis=1)
    share = np.stack([curves.replication_share(k) for k in ks], axis=1)
    return InterdictionReport(
        scenario=scenario, seed=seed, mode=mode, corridor=corridor, target=float(target), assets=assets,
        nominal_flow=nominal, budgets=ks, residual=residual, share=share, routes=[curves.routes_summary(k) for k in ks],
        strikes_needed=curves.strikes_needed(target), random_flow=days.random_flow.mean(axis=1),
        random_share=days.random_share.mean(axis=1),
        random_closed=days.random_closed.mean(axis=1), no_snow=no_snow,
        patterns=len(days.patterns), solves=curves.solves + no_snow.solves)

