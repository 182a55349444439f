"""Max-flow interdiction: the routes whose loss cuts a corridor's flow most (Wood 1993).

The interdictor closes up to ``k`` routes; the militants then send their maximum flow from the
corridor's sources to the towns over what is left. By max-flow min-cut that flow is the cheapest cut,
so the interdictor's problem is one minimisation, Wood's mixed-integer programme (the dual of max
flow with binary interdiction variables; the matrices are in :mod:`.milp`). With a node variable
``pi`` (0 on the sources' side, 1 on the towns'), an arc variable ``beta`` (the arc crosses the cut and
is paid for) and a route variable ``y`` (struck)::

    min   sum_s  w_s  sum_a  u_sa beta_sa
    s.t.  pi_sv - pi_su - beta_sa - y_r(a) <= 0      every arc a = (u, v) open in scenario s
          pi = 0 on the corridor's sources, 1 on the towns;  sum_r y_r <= k;  y binary

A route is one decision ``y_r`` whatever its arcs: both directions of a bidirectional route share it,
and parallel routes keep one each. With one scenario this is Wood's deterministic model; with many
weighted scenarios (days and winters of snow, capacities ``u_sa`` scaled by each one's factors) and one
shared ``y`` it is the stochastic form of Cormican, Morton & Wood (1998): the plan that minimises the
expected flow. Given ``y`` the rest is the min-cut linear programme, whose optima are integral, so only
``y`` is declared integer. Strike groups (assets) each reach only their routes, with their own budget.

Arcs at capacity 0 (closed by snow) are left out of the programme, so striking them gains nothing.
:func:`scipy.optimize.milp` (HiGHS) solves it; the residual flow reported is recomputed by max flow
on what is left, and strikes that do not lower it are dropped (a plan never holds a wasted strike).

When the problem is a corridor's as the connectivity share sees it (its routes vary, the rest keep their
nominal capacity) the corridor's cuts (:class:`~qalamoun_sim.network.cuts.CorridorCuts`) give the same
optimum in closed form for one scenario: the flow left is ``min over cuts of (b + a.f - the k largest
a_r f_r among the routes that may be struck)``, since the minimum over strike sets and over cuts can be
taken in either order. ``method="cuts"`` uses it (the engine's targeted strikes solve thousands of days);
the tests check it against the MILP and against brute force.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .milp import WoodModel

if TYPE_CHECKING:  # pragma: no cover
    from .cuts import CorridorCuts  # with networkx: imported where cuts are made (strikes never ask)
    from .routes import RouteNetwork

__all__ = ["FlowInterdiction", "Interdiction", "StrikeGroup", "METHODS", "denied_routes"]

#: Ways to solve: Wood's MILP, the corridor's cuts (one scenario, no groups), or cuts where they apply.
METHODS: tuple[str, ...] = ("milp", "cuts", "auto")

_SOURCE = "__interdiction_source__"
_SINK = "__interdiction_sink__"


@dataclass(frozen=True)
class StrikeGroup:
    """Strikes of one asset: it reaches the routes in ``routes`` (a mask over routes) and makes at most ``budget``."""

    routes: np.ndarray
    budget: int
    label: str = ""


@dataclass(frozen=True)
class Interdiction:
    """An optimal set of strikes and what it leaves.

    Attributes
    ----------
    routes : tuple of int
        Route indices struck, in network order (no strike that does not lower the flow).
    flow : float
        Residual max flow (t/day), the scenarios' weighted mean, recomputed by max flow.
    objective : float
        The solver's optimal objective (equal to ``flow`` within its tolerance; NaN when not asked).
    """

    routes: tuple[int, ...]
    flow: float
    objective: float = field(default=float("nan"), compare=False)


class FlowInterdiction:
    """Max-flow interdiction over the arcs one side may use; :meth:`solve` answers it.

    Parameters
    ----------
    arcs : iterable of (u, v, route index, nominal capacity)
        The arcs the side may use (:meth:`RouteNetwork.side_arcs`).
    n_routes : int
        Length of a factor vector (every route of the network).
    sources, sinks : sequences of node ids
        Where the flow starts and where it goes; those on no arc are dropped.
    candidates : array of bool, optional
        Routes that may be struck (default: every route on an arc).
    cut_routes : array of int, optional
        A corridor's routes: flows are then minima over its cuts (:class:`~qalamoun_sim.network.cuts.CorridorCuts`,
        enumerated once for each pattern of the other routes' factors), and ``method="cuts"`` works.

    Examples
    --------
    Two routes in series (10 t/day each) beside a direct one (5 t/day):

    >>> arcs = [("s", "a", 0, 10.0), ("a", "t", 1, 10.0), ("s", "t", 2, 5.0)]
    >>> fi = FlowInterdiction(arcs, 3, ["s"], ["t"])
    >>> [fi.solve(np.ones(3), k).flow for k in (0, 1, 2)]
    [15.0, 5.0, 0.0]
    >>> len(fi.solve(np.ones(3), 1).routes)  # either leg of the series pair
    1
    """

    def __init__(self, arcs: Iterable[tuple[str, str, int, float]], n_routes: int, sources: Sequence[str],
                 sinks: Sequence[str], candidates: np.ndarray | None = None,
                 cut_routes: np.ndarray | None = None) -> None:
        arc_list = [(u, v, int(i), float(c)) for u, v, i, c in arcs if u != v]
        self.arcs = arc_list
        self.n_routes = int(n_routes)
        self.node_ids: list[str] = sorted({x for u, v, _, _ in arc_list for x in (u, v)})
        index = {n: j for j, n in enumerate(self.node_ids)}
        self.tail = np.array([index[u] for u, _, _, _ in arc_list], dtype=np.int64)
        self.head = np.array([index[v] for _, v, _, _ in arc_list], dtype=np.int64)
        self.route = np.array([i for _, _, i, _ in arc_list], dtype=np.int64)
        self.capacity = np.array([c for _, _, _, c in arc_list], dtype=float)
        self.sources = [s for s in dict.fromkeys(sources) if s in index]
        self.sinks = [t for t in dict.fromkeys(sinks) if t in index and t not in self.sources]
        self.source_index = np.array([index[s] for s in self.sources], dtype=np.int64)
        self.sink_index = np.array([index[t] for t in self.sinks], dtype=np.int64)
        on_arc = np.zeros(self.n_routes, dtype=bool)
        on_arc[self.route] = True
        mask = on_arc if candidates is None else np.asarray(candidates, dtype=bool)
        if mask.shape != (self.n_routes,):
            raise ValueError(f"candidates: expected {self.n_routes} routes, got shape {mask.shape}")
        self.candidates = mask & on_arc
        self.cut_routes = None if cut_routes is None else np.asarray(cut_routes, dtype=np.int64)
        self._cut_mask = np.zeros(self.n_routes, dtype=bool)
        if self.cut_routes is not None:
            self._cut_mask[self.cut_routes] = True
        self._cuts: dict[bytes, CorridorCuts | None] = {}
        self.tolerance = 1e-9 * max(1.0, float(self.capacity.sum()))

    @classmethod
    def for_corridor(cls, network: RouteNetwork, corridor: str, side: str = "militant",
                     candidates: np.ndarray | None = None) -> FlowInterdiction:
        """A corridor's problem as the connectivity share sees it: its sources to the militant towns over
        the routes ``side`` may use (the side rule); the corridor's routes may be struck by default."""
        mask = network.corridor_mask(corridor) if candidates is None else candidates
        return cls(network.side_arcs(side), network.n_routes, network.corridor_sources(corridor),
                   network.militant_towns(), mask, np.flatnonzero(network.corridor_mask(corridor)))

    @property
    def empty(self) -> bool:
        """No flow possible at all (no source or no sink on an arc)."""
        return not (self.sources and self.sinks)

    # ---------------------------------------------------------------- exact flows
    def flows(self, factors: np.ndarray, struck: Iterable[int] = ()) -> np.ndarray:
        """(S,) max flow of each scenario of ``factors`` (S, N) with the ``struck`` routes closed."""
        f = self._factors(factors).copy()
        f[:, list(struck)] = 0.0
        out = np.zeros(len(f))
        if self.empty:
            return out
        if self.cut_routes is None:
            return np.array([self._networkx_flow(row) for row in f])
        outside, group = np.unique(f[:, ~self._cut_mask], axis=0, return_inverse=True)
        for g, other in enumerate(outside):
            rows = np.flatnonzero(group.ravel() == g)
            cuts = self.cuts_for(other)
            if cuts is None:
                out[rows] = [self._networkx_flow(f[j]) for j in rows]
            else:
                out[rows] = cuts.max_flow(f[rows][:, self.cut_routes])
        return out

    def cuts_for(self, outside: np.ndarray) -> CorridorCuts | None:
        """The corridor's cuts with the other routes at factors ``outside`` (over the routes not in
        ``cut_routes``, in order), built once per pattern; None without ``cut_routes`` or past
        :data:`~qalamoun_sim.network.cuts.MAX_FREE_NODES`."""
        from .cuts import CorridorCuts

        if self.cut_routes is None:
            return None
        key = np.asarray(outside, dtype=float).tobytes()
        if key not in self._cuts:
            g = np.ones(self.n_routes)
            g[~self._cut_mask] = outside
            arcs = [(u, v, i, c * (1.0 if self._cut_mask[i] else g[i])) for u, v, i, c in self.arcs
                    if self._cut_mask[i] or g[i] > 0]
            try:
                self._cuts[key] = CorridorCuts(arcs, self.cut_routes, self.sources, self.sinks)
            except ValueError:
                self._cuts[key] = None
        return self._cuts[key]

    def max_flow(self, factors: np.ndarray, struck: Iterable[int] = ()) -> float:
        """Max flow with route capacities scaled by ``factors`` (N,) and the ``struck`` routes closed."""
        return float(self.flows(factors, struck)[0])

    def mean_flow(self, factors: np.ndarray, struck: Iterable[int] = (), weights: np.ndarray | None = None) -> float:
        """Weighted mean max flow over scenarios ``factors`` (S, N) with the ``struck`` routes closed."""
        f = self._factors(factors)
        return float(_weights(weights, len(f)) @ self.flows(f, struck))

    def floor(self, factors: np.ndarray, weights: np.ndarray | None = None,
              groups: Sequence[StrikeGroup] = ()) -> float:
        """The least flow any number of strikes can leave: every route within reach struck."""
        return self.mean_flow(factors, np.flatnonzero(self.reach(groups)), weights)

    def reach(self, groups: Sequence[StrikeGroup] = ()) -> np.ndarray:
        """(N,) bool: routes some strike can reach (the candidates, within some group's routes if any)."""
        if not groups:
            return self.candidates
        within = np.zeros(self.n_routes, dtype=bool)
        for g in groups:
            if g.budget > 0:
                within |= np.asarray(g.routes, dtype=bool)
        return self.candidates & within

    # ---------------------------------------------------------------- optimal strikes
    def solve(self, factors: np.ndarray, budget: int, *, weights: np.ndarray | None = None,
              groups: Sequence[StrikeGroup] = (), method: str = "milp", time_limit: float | None = None) -> Interdiction:
        """The ``budget`` strikes that minimise the (weighted mean) max flow.

        Parameters
        ----------
        factors : (N,) or (S, N) array
            Capacity factors of every route, one row per scenario (a day of snow); 0 is closed.
        budget : int
            Most routes struck (>= 0).
        weights : (S,) array, optional
            Scenario weights (normalised to sum 1; default equal): one plan for all of them.
        groups : sequence of StrikeGroup
            Assets: each strikes only its routes, at most its budget (the total stays ``<= budget``).
        method : {"milp", "cuts", "auto"}
            Wood's MILP; the corridor's cuts (one scenario, no groups, the routes outside the cuts at
            factor 1); or the cuts where they apply and the MILP elsewhere.
        time_limit : float, optional
            Seconds for HiGHS; past it the best plan found is returned.

        Raises
        ------
        ValueError
            When ``budget`` < 0, the method is unknown, ``cuts`` cannot answer, or shapes do not match.
        """
        if budget < 0:
            raise ValueError(f"budget: must be >= 0, got {budget}")
        if method not in METHODS:
            raise ValueError(f"method: must be one of {', '.join(METHODS)}, got '{method}'")
        f = self._factors(factors)
        w = _weights(weights, len(f))
        base = float(w @ self.flows(f))
        if budget == 0 or self.empty or base <= 0:
            return Interdiction((), base, base)
        by_cuts = self._cuts_apply(f, groups)
        if method == "cuts" and not by_cuts:
            raise ValueError("method 'cuts' needs one scenario, no groups, and the corridor's cuts")
        if method == "cuts" or (method == "auto" and by_cuts):
            chosen, objective = self._by_cuts(f[0], budget)
        else:
            model = WoodModel(self, f, w, self.reach(groups), groups)
            routes, objective = model.solve(budget=budget, time_limit=time_limit)
            chosen = [int(r) for r in routes]
        return self._pruned(chosen, f, w, objective)

    def fewest_strikes(self, factors: np.ndarray, flow_at_most: float, *, weights: np.ndarray | None = None,
                       groups: Sequence[StrikeGroup] = (), time_limit: float | None = None) -> Interdiction | None:
        """The fewest strikes (Wood's MILP) that bring the (weighted mean) max flow to ``flow_at_most`` or below.

        None when striking every route within reach cannot (:meth:`floor` is above it).
        """
        f = self._factors(factors)
        w = _weights(weights, len(f))
        base = float(w @ self.flows(f))
        if base <= flow_at_most + self.tolerance:
            return Interdiction((), base, 0.0)
        if self.floor(f, w, groups) > flow_at_most + self.tolerance:
            return None
        model = WoodModel(self, f, w, self.reach(groups), groups)
        routes, objective = model.solve(flow_at_most=flow_at_most + self.tolerance, time_limit=time_limit)
        result = self._pruned([int(r) for r in routes], f, w, objective)
        return result if result.flow <= flow_at_most + self.tolerance else None

    # ---------------------------------------------------------------- helpers
    def _cuts_apply(self, f: np.ndarray, groups: Sequence[StrikeGroup]) -> bool:
        return (len(f) == 1 and not groups and not self.candidates[~self._cut_mask].any()
                and self.cuts_for(f[0, ~self._cut_mask]) is not None)

    def _by_cuts(self, f: np.ndarray, budget: int) -> tuple[list[int], float]:
        """The closed form over the corridor's cuts: the best cut once its ``budget`` largest strikable terms go."""
        cuts = self.cuts_for(f[~self._cut_mask])
        assert cuts is not None
        positions = cuts.route_positions
        terms = cuts.a * f[positions]  # (C, m): what each route adds to each cut
        strikable = np.where(self.candidates[positions], terms, 0.0)
        k = min(budget, len(positions))
        order = np.argsort(-strikable, axis=1, kind="stable")[:, :k]
        removed = np.take_along_axis(strikable, order, axis=1)
        values = cuts.b + terms.sum(axis=1) - removed.sum(axis=1)
        best = int(np.argmin(values))
        chosen = [int(positions[j]) for j, gain in zip(order[best], removed[best], strict=True) if gain > 0]
        return sorted(chosen), float(values[best])

    def _pruned(self, chosen: list[int], f: np.ndarray, w: np.ndarray, objective: float) -> Interdiction:
        """Drop each strike whose route, left open, does not raise the flow (ties go to fewer strikes)."""
        flow = float(w @ self.flows(f, chosen))
        for r in sorted(chosen, reverse=True):
            rest = [c for c in chosen if c != r]
            value = float(w @ self.flows(f, rest))
            if value <= flow + self.tolerance:
                chosen, flow = rest, min(flow, value)
        return Interdiction(tuple(sorted(chosen)), flow, objective)

    def _networkx_flow(self, f: np.ndarray) -> float:
        import networkx as nx

        caps = self.capacity * f[self.route]
        g = nx.DiGraph()
        for u, v, c in zip(self.tail.tolist(), self.head.tolist(), caps.tolist(), strict=True):
            if c > 0:
                g.add_edge(u, v, capacity=g[u][v]["capacity"] + c if g.has_edge(u, v) else c)
        if not g.number_of_edges():
            return 0.0
        for s in self.source_index.tolist():
            g.add_edge(_SOURCE, s)  # no capacity attribute: unbounded
        for t in self.sink_index.tolist():
            g.add_edge(t, _SINK)
        return float(nx.maximum_flow_value(g, _SOURCE, _SINK))

    def _factors(self, factors: np.ndarray) -> np.ndarray:
        f = np.atleast_2d(np.asarray(factors, dtype=float))
        if f.ndim != 2 or f.shape[1] != self.n_routes:
            raise ValueError(f"factors: expected (S, {self.n_routes}), got shape {np.shape(factors)}")
        return f


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights: expected {n} nonnegative weights with a positive sum")
    return w / w.sum()


def denied_routes(network: RouteNetwork, held: frozenset[str], side: str = "militant") -> np.ndarray:
    """(N,) bool: routes ``side`` may use until the other side takes the places ``held`` (the side rule,
    :meth:`RouteNetwork.side_arcs`): a factor of 0 on them gives the flow of ``max_flow(..., held=held)``."""
    before = {i for _, _, i, _ in network.side_arcs(side)}
    after = {i for _, _, i, _ in network.side_arcs(side, held)}
    mask = np.zeros(network.n_routes, dtype=bool)
    mask[sorted(before - after)] = True
    return mask
