"""Share of a corridor's supply cut: by connectivity, end-to-end paths, count and capacity (docs/background.md s.8).

Functions take plain arrays whose last axis is the route axis, so they work on one day
(``(N,)``), a replication (``(D, N)``) or a whole block of state (``(R, D, N)``).
Every metric looks at the corridor's own routes (``corridor = "..."`` labels); the other
routes of the network keep their nominal capacity. The destinations are the towns the militants
still hold that day: a town the army has taken (``held_by_day``) is neither a destination nor a
way, so the routes that only lead to it drop out of every share from that day on.

- **connectivity**: 1 - max flow from the corridor's sources to those towns / the same on nominal capacities;
- **paths**: the share of the corridor's supply routes (:func:`~qalamoun_sim.network.paths.supply_paths`,
  source to town) with at least one leg closed; a path's legs count once;
- **count** and **capacity** (secondary readings): closed legs / legs, and 1 - open capacity / nominal
  capacity, over the legs of those supply routes (they count a serial path's legs more than once).

A route is *snow-cut* when snow alone closes it; *interdiction-cut* when interdiction closes a
route snow left open. The snow share is computed on snow factors alone, the total on snow and
interdiction together, and the interdiction share is their difference (never negative, since
closing routes can only lower either figure).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..environment.state import ExogenousState
from ..network.paths import path_incidence, supply_paths
from ..network.routes import RouteNetwork
from ..scenario import Scenario

__all__ = ["METRICS", "count_cut_share", "capacity_cut_share", "connectivity_cut_share", "paths_cut_share",
           "corridor_shares", "factor_shares", "held_by_day"]

#: Every metric, the primary reading first (README, "Which reading").
METRICS: tuple[str, ...] = ("connectivity", "paths", "count", "capacity")


def count_cut_share(closed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Routes closed / routes in the corridor (``mask``).

    Examples
    --------
    >>> float(count_cut_share(np.array([True, False, True]), np.array([True, True, False])))
    0.5
    """
    return np.asarray(closed[..., mask], dtype=float).mean(axis=-1)


def capacity_cut_share(factors: np.ndarray, capacity: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """1 - open capacity / nominal capacity over the corridor, partial closures by capacity factor.

    Examples
    --------
    >>> float(capacity_cut_share(np.array([0.0, 0.5, 1.0]), np.array([40.0, 20.0, 40.0]), np.ones(3, bool)))
    0.5
    """
    cap = capacity[mask]
    return 1.0 - (factors[..., mask] @ cap) / cap.sum()


def paths_cut_share(closed: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """Share of supply routes with at least one leg closed: ``closed`` (..., C) over the legs' columns,
    ``incidence`` (P, C) from :func:`~qalamoun_sim.network.paths.path_incidence`. No route: share 0.

    Examples
    --------
    A serial path of two legs counts once; a second path uses the first leg only:

    >>> inc = np.array([[1.0, 1.0], [1.0, 0.0]])
    >>> paths_cut_share(np.array([False, True]), inc).tolist(), paths_cut_share(np.array([True, True]), inc).tolist()
    (0.5, 1.0)
    """
    if len(incidence) == 0:
        return np.zeros(closed.shape[:-1])
    return ((closed.astype(float) @ incidence.T) > 0.0).mean(axis=-1)


def held_by_day(scenario: Scenario) -> list[frozenset[str]]:
    """The towns the army has taken by each simulated day (the scenario's dated captures).

    A capture that the engine decides (a town cut off or settled) is not known to the exogenous
    state; the claim reads the scenario's own timeline of the army's advance.
    """
    itd = scenario.interdiction
    captures = [(c.date, c.town) for c in itd.captures] if itd is not None else []
    return [frozenset(t for when, t in captures if when <= day) for day in scenario.dates]


def connectivity_cut_share(network: RouteNetwork, factors: np.ndarray, corridor: str,
                           held: frozenset[str] = frozenset()) -> np.ndarray:
    """1 - max flow (corridor sources to militant towns) / max flow on nominal capacities.

    Only the corridor's own routes take their factors; every other route keeps its nominal
    capacity, so like the count and capacity shares this measures the corridor's cut, and the
    flow depends on the corridor's state alone: it is a minimum over the corridor's cuts
    (:class:`~qalamoun_sim.cuts.CorridorCuts`, enumerated once per network), one matrix product
    for all days. A corridor with too many end nodes to enumerate falls back to one max flow per
    distinct corridor state, memoized on the network. A corridor with no nominal flow has share 0.
    """
    mask = network.corridor_mask(corridor)
    return _flow_cut_share(network, corridor, factors[..., mask], held)


def _flow_cut_share(network: RouteNetwork, corridor: str, corridor_factors: np.ndarray,
                    held: frozenset[str] = frozenset()) -> np.ndarray:
    """The connectivity share from the factors of the corridor's routes alone ``(..., corridor routes)``."""
    cuts = network.corridor_cuts(corridor, held=held)
    # on whole-number capacities the smallest cut at factors 1 is the max flow exactly, and needs no solver
    nominal = cuts.nominal_flow() if cuts is not None and cuts.integral else network.max_flow(corridor, held=held)
    shape = corridor_factors.shape[:-1]
    if nominal <= 0:
        return np.zeros(shape)
    if cuts is not None:
        return 1.0 - cuts.max_flow(corridor_factors) / nominal
    mask = network.corridor_mask(corridor)
    patterns, inverse = np.unique(corridor_factors.reshape(-1, corridor_factors.shape[-1]), axis=0, return_inverse=True)
    full = np.ones((len(patterns), network.n_routes))
    full[:, mask] = patterns
    flows = np.array([network.max_flow(corridor, p, held=held) for p in full])
    return (1.0 - flows[inverse.ravel()] / nominal).reshape(shape)


def corridor_shares(state: ExogenousState, network: RouteNetwork, corridor: str,
                    metrics: tuple[str, ...] = METRICS,
                    held: Sequence[frozenset[str]] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Daily shares ``{"snow"|"interdiction"|"total": {metric: (R, D) array}}`` of a corridor.

    The state may hold every route or any routes that include the corridor's (``compute_state(...,
    routes=network.corridor_routes(corridor))`` computes no more than the shares need). ``held``: per
    day, the towns the army has taken (:func:`held_by_day`); default none.

    Raises
    ------
    ValueError
        When no route carries the corridor label, or a metric is unknown.
    """
    return factor_shares(state.route_ids, state.snow_capacity_factor, state.interdicted, network, corridor,
                         metrics, held)


def factor_shares(route_ids: Sequence[str], snow_capacity_factor: np.ndarray, interdicted: np.ndarray,
                  network: RouteNetwork, corridor: str, metrics: tuple[str, ...] = METRICS,
                  held: Sequence[frozenset[str]] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """:func:`corridor_shares` of a state's ``route_ids``, ``snow_capacity_factor`` and ``interdicted`` alone
    (:func:`~qalamoun_sim.environment.state.snow_and_strikes` computes no more)."""
    full_mask = network.corridor_mask(corridor)
    if not full_mask.any():
        raise ValueError(f"no route is labelled with corridor '{corridor}' (have: {', '.join(network.corridors())})")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric '{unknown[0]}' (choose from {', '.join(METRICS)})")
    mask, _ = _corridor_columns(route_ids, network, corridor)
    # the corridor's columns only: the other routes never enter a share
    snow_f = snow_capacity_factor if mask.all() else snow_capacity_factor[..., mask]
    interdicted = interdicted if mask.all() else interdicted[..., mask]
    total_f = np.where(interdicted, 0.0, snow_f)
    shape = snow_f.shape[:-1]
    out: dict[str, dict[str, np.ndarray]] = {k: {m: np.zeros(shape) for m in metrics}
                                             for k in ("snow", "interdiction", "total")}
    days_of = _phases(held if held is not None else [frozenset()] * shape[-1])
    columns = np.flatnonzero(full_mask)
    for taken, days in days_of.items():
        phase = _Phase(network, corridor, taken, columns)
        pick = _as_slice(days)  # a phase's days follow one another: views, not copies
        snow_days, total_days = snow_f[..., pick, :], total_f[..., pick, :]
        for m in metrics:
            snow = phase.share(m, snow_days)
            total = phase.share(m, total_days)
            out["snow"][m][..., pick] = snow
            out["total"][m][..., pick] = total
            out["interdiction"][m][..., pick] = np.maximum(total - snow, 0.0)
    return out


def _phases(held: Sequence[frozenset[str]]) -> dict[frozenset[str], np.ndarray]:
    """The days of each distinct set of taken towns, in order of first appearance."""
    days: dict[frozenset[str], list[int]] = {}
    for d, taken in enumerate(held):
        days.setdefault(frozenset(taken), []).append(d)
    return {k: np.array(v, dtype=int) for k, v in days.items()}


def _as_slice(days: np.ndarray) -> np.ndarray | slice:
    """Increasing day indices as a slice when they follow one another, else as they are.

    >>> _as_slice(np.array([3, 4, 5])), _as_slice(np.array([1, 3])).tolist()
    (slice(3, 6, None), [1, 3])
    """
    if len(days) and int(days[-1]) - int(days[0]) == len(days) - 1 and bool((np.diff(days) == 1).all()):
        return slice(int(days[0]), int(days[-1]) + 1)
    return days


class _Phase:
    """The corridor while the army holds ``taken``: its supply routes, their legs, its cuts."""

    def __init__(self, network: RouteNetwork, corridor: str, taken: frozenset[str], columns: np.ndarray) -> None:
        self.network, self.corridor, self.taken = network, corridor, taken
        self.paths = supply_paths(network, corridor, held=taken)
        on_paths = {r for p in self.paths for r in p}
        self.legs = np.array([int(r) in on_paths for r in columns], dtype=bool)  # over the corridor's columns
        self.capacity = network.capacity_tpd[columns]
        self.incidence = path_incidence(self.paths, columns)

    def share(self, metric: str, factors: np.ndarray) -> np.ndarray:
        """One metric's share on ``factors`` (..., corridor routes) of the phase's days."""
        if metric == "connectivity":
            return _flow_cut_share(self.network, self.corridor, factors, self.taken)
        if metric == "paths":
            return paths_cut_share(factors <= 0.0, self.incidence)
        if not self.legs.any():
            return np.zeros(factors.shape[:-1])
        if metric == "count":
            return count_cut_share(factors <= 0.0, self.legs)
        return capacity_cut_share(factors, self.capacity, self.legs)


def _corridor_columns(route_ids: Sequence[str], network: RouteNetwork, corridor: str) -> tuple[np.ndarray, np.ndarray]:
    """The state's columns (its ``route_ids``) that are the corridor's routes (a mask), and their nominal capacities."""
    if tuple(route_ids) == tuple(network.route_ids):
        mask = network.corridor_mask(corridor)
        return mask, network.capacity_tpd[mask]
    try:
        index = np.array([network.route_index[r] for r in route_ids], dtype=int)
    except KeyError as exc:
        raise ValueError(f"the state holds route {exc} that the network does not have") from None
    mask = network.corridor_mask(corridor)[index]
    if mask.sum() != network.corridor_mask(corridor).sum() or np.any(np.diff(index) <= 0):
        raise ValueError(f"the state must hold every route of corridor '{corridor}', in network order")
    return mask, network.capacity_tpd[index[mask]]
