"""Budget curves over a corridor's distinct snow states: the residual flow after ``k`` optimal strikes.

:func:`daily_curves` solves each distinct state (pattern) on its own, :func:`plan_curves` finds one set
of routes for all of them at once (the stochastic form); both go past the largest budget asked for
until every replication reaches the target cut share or no further strike can help, so the fewest
strikes to cut the corridor come from the same curves. :mod:`.interdiction` builds the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..network.interdiction import FlowInterdiction, StrikeGroup

__all__ = ["CorridorDays", "Curves", "daily_curves", "plan_curves", "strike_cap"]


@dataclass(frozen=True)
class CorridorDays:
    """The window's days of many replications as distinct corridor states.

    Attributes
    ----------
    patterns : (P, N) float
        Capacity factors of every route: the corridor's routes from snow, the others 1, and 0 on the
        routes that the towns the army has taken that day deny the militants.
    nominal : (P,) float
        The corridor's max flow on nominal capacities to the towns still militant on the pattern's days
        (the connectivity share's denominator).
    counts : (P,) int
        Replication-days in each pattern.
    inverse : (R, W) int
        The pattern of each replication and window day.
    random_flow : (R, W) float
        The corridor's max flow with snow and the scenario's own strikes.
    random_share : (R, W) float
        The cut share of ``random_flow`` (the claim's total connectivity share).
    random_closed : (R, W) int
        Corridor routes the scenario's strikes close that snow left open.
    """

    patterns: np.ndarray
    nominal: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray
    random_flow: np.ndarray
    random_share: np.ndarray
    random_closed: np.ndarray

    def shares(self, flow: np.ndarray) -> np.ndarray:
        """(R, W) daily cut shares from a flow per pattern (P,): 1 - flow / nominal, 0 where nothing flows."""
        nominal = self.nominal[self.inverse]
        safe = np.where(nominal > 0, nominal, 1.0)
        return np.where(nominal > 0, 1.0 - flow[self.inverse] / safe, 0.0)


@dataclass(frozen=True)
class Curves:
    """Residual flow per pattern for ``k = 0 .. k_end`` strikes, and the routes struck.

    ``routes[p][k]`` are route indices; past ``k_end`` the curve stays flat. In ``plan`` mode every
    pattern shares the plan of its ``k``.
    """

    mode: str
    flow: np.ndarray                      # (P, k_end + 1)
    routes: list[list[tuple[int, ...]]]
    days: CorridorDays
    route_ids: tuple[str, ...]
    solves: int

    @property
    def k_end(self) -> int:
        """The largest budget solved (the curve is flat beyond)."""
        return self.flow.shape[1] - 1

    def replication_flow(self, k: int) -> np.ndarray:
        """(R,) mean residual flow over the window's days with ``k`` strikes."""
        return self.flow[self.days.inverse, min(k, self.k_end)].mean(axis=1)

    def replication_share(self, k: int) -> np.ndarray:
        """(R,) mean cut share over the window's days with ``k`` strikes."""
        return self.days.shares(self.flow[:, min(k, self.k_end)]).mean(axis=1)

    def strikes_needed(self, target: float) -> np.ndarray:
        """(R,) the fewest strikes whose mean cut share over the window reaches ``target``; inf when none does."""
        needed = np.full(len(self.days.inverse), np.inf)
        for k in range(self.k_end + 1):
            reached = np.isinf(needed) & (self.replication_share(k) >= target - 1e-9)
            needed[reached] = k
        return needed

    def names(self, routes: Sequence[int]) -> list[str]:
        """Route ids of route indices."""
        return [self.route_ids[i] for i in routes]

    def routes_summary(self, k: int) -> list[str] | dict[str, float]:
        """The plan's route ids (``plan``), or each route's share of replication-days it is struck (``daily``)."""
        k = min(k, self.k_end)
        if self.mode == "plan":
            return self.names(self.routes[0][k]) if self.routes else []
        weight = np.zeros(len(self.route_ids))
        for p, count in enumerate(self.days.counts.tolist()):
            weight[list(self.routes[p][k])] += count
        weight /= self.days.counts.sum()
        order = sorted(np.flatnonzero(weight).tolist(), key=lambda i: (-weight[i], self.route_ids[i]))
        return {self.route_ids[i]: round(float(weight[i]), 6) for i in order}


def strike_cap(problem: FlowInterdiction, groups: Sequence[StrikeGroup]) -> int:
    """Most strikes that can do anything: the routes within reach, and no more than the groups' budgets."""
    reach = int(problem.reach(groups).sum())
    return min(reach, sum(g.budget for g in groups)) if groups else reach


def daily_curves(problem: FlowInterdiction, days: CorridorDays, k_max: int, groups: Sequence[StrikeGroup],
                 target: float, route_ids: Sequence[str]) -> Curves:
    """Each pattern's optimal strikes for ``k = 0, 1, ...``: up to ``k_max``, then on until no strike helps.

    A pattern at its floor (every strike within reach would leave the same flow) needs no more solves.
    """
    cap = strike_cap(problem, groups)
    flows: list[list[float]] = []
    routes: list[list[tuple[int, ...]]] = []
    solves = 0
    for f in days.patterns:
        floor = problem.floor(f, groups=groups) + problem.tolerance
        fl: list[float] = [problem.max_flow(f)]
        rt: list[tuple[int, ...]] = [()]
        while len(fl) - 1 < cap and (len(fl) - 1 < k_max or fl[-1] > floor):
            if fl[-1] <= floor:
                fl.append(fl[-1])
                rt.append(rt[-1])
                continue
            r = problem.solve(f, len(fl), groups=groups)
            solves += 1
            better = r.flow < fl[-1] - problem.tolerance  # else the strikes before do as well, with fewer
            fl.append(r.flow if better else fl[-1])
            rt.append(r.routes if better else rt[-1])
        flows.append(fl)
        routes.append(rt)
    width = max(k_max, *(len(fl) - 1 for fl in flows)) + 1
    flow = np.array([fl + [fl[-1]] * (width - len(fl)) for fl in flows])
    padded = [rt + [rt[-1]] * (width - len(rt)) for rt in routes]
    return Curves("daily", flow, padded, days, tuple(route_ids), solves)


def plan_curves(problem: FlowInterdiction, days: CorridorDays, k_max: int, groups: Sequence[StrikeGroup],
                target: float, route_ids: Sequence[str]) -> Curves:
    """One plan per ``k`` for every pattern at once (weighted by its replication-days), up to ``k_max``,
    then on until every replication reaches ``target`` or the plan leaves no more than striking all would."""
    cap = strike_cap(problem, groups)
    base = problem.flows(days.patterns)
    active = base > 0  # a pattern snow closes entirely adds nothing to any plan's objective
    floor = float(days.counts @ problem.flows(days.patterns, np.flatnonzero(problem.reach(groups))))
    columns: list[np.ndarray] = [base]
    plans: list[tuple[int, ...]] = [()]
    solves = 0
    while len(plans) - 1 < cap and active.any():
        k = len(plans)
        if k > k_max and _plan_done(columns[-1], days, target, floor, problem.tolerance):
            break
        if float(days.counts @ columns[-1]) <= floor + problem.tolerance * days.counts.sum():
            plans.append(plans[-1])  # at the floor: no strike can do more
            columns.append(columns[-1])
            continue
        r = problem.solve(days.patterns[active], k, weights=days.counts[active], groups=groups)
        solves += 1
        flow = problem.flows(days.patterns, r.routes)
        better = days.counts @ flow < days.counts @ columns[-1] - problem.tolerance * days.counts.sum()
        plans.append(r.routes if better else plans[-1])  # else the plan before does as well, with fewer
        columns.append(flow if better else columns[-1])
    while len(plans) - 1 < k_max:
        plans.append(plans[-1])
        columns.append(columns[-1])
    flow = np.stack(columns, axis=1)
    return Curves("plan", flow, [plans] * len(flow), days, tuple(route_ids), solves)


def _plan_done(flow: np.ndarray, days: CorridorDays, target: float, floor: float, tolerance: float) -> bool:
    """Every replication's mean cut share at the target, or the plan's total flow at the floor."""
    share = days.shares(flow).mean(axis=1)
    return bool((share >= target - 1e-9).all()) or float(days.counts @ flow) <= floor + tolerance * days.counts.sum()
