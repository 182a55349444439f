"""Share of a corridor's routes cut, by count, capacity and connectivity (design.md s.5).

Functions take plain arrays whose last axis is the route axis, so they work on one day
(``(N,)``), a replication (``(D, N)``) or a whole block of state (``(R, D, N)``).
Every metric looks at the corridor's own routes (``corridor = "..."`` labels); the other
routes of the network keep their nominal capacity. A route is *snow-cut* when snow alone closes it; *interdiction-cut* when interdiction closes
a route snow left open. For the capacity and connectivity shares the snow share is computed on
snow factors alone, the total on snow and interdiction together, and the interdiction share is
their difference (never negative, since closing routes can only lower either figure).
"""

from __future__ import annotations

import numpy as np

from .network import RouteNetwork
from .state import ExogenousState

__all__ = ["METRICS", "count_cut_share", "capacity_cut_share", "connectivity_cut_share", "corridor_shares"]

METRICS: tuple[str, ...] = ("count", "capacity", "connectivity")


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


def connectivity_cut_share(network: RouteNetwork, factors: np.ndarray, corridor: str) -> np.ndarray:
    """1 - max flow (corridor sources to militant towns) / max flow on nominal capacities.

    Only the corridor's own routes take their factors; every other route keeps its nominal
    capacity, so like the count and capacity shares this measures the corridor's cut, and the
    flow depends on the corridor's state alone: it is a minimum over the corridor's cuts
    (:class:`~qalamoun_sim.cuts.CorridorCuts`, enumerated once per network), one matrix product
    for all days. A corridor with too many end nodes to enumerate falls back to one max flow per
    distinct corridor state, memoized on the network. A corridor with no nominal flow has share 0.
    """
    nominal = network.max_flow(corridor)
    shape = factors.shape[:-1]
    if nominal <= 0:
        return np.zeros(shape)
    mask = network.corridor_mask(corridor)
    cuts = network.corridor_cuts(corridor)
    if cuts is not None:
        return 1.0 - cuts.max_flow(factors[..., mask]) / nominal
    flat = factors[..., mask].reshape(-1, int(mask.sum()))
    patterns, inverse = np.unique(flat, axis=0, return_inverse=True)
    full = np.ones((len(patterns), network.n_routes))
    full[:, mask] = patterns
    flows = np.array([network.max_flow(corridor, p) for p in full])
    return (1.0 - flows[inverse.ravel()] / nominal).reshape(shape)


def corridor_shares(state: ExogenousState, network: RouteNetwork, corridor: str,
                    metrics: tuple[str, ...] = METRICS) -> dict[str, dict[str, np.ndarray]]:
    """Daily shares ``{"snow"|"interdiction"|"total": {metric: (R, D) array}}`` of a corridor.

    Raises
    ------
    ValueError
        When no route carries the corridor label.
    """
    mask = network.corridor_mask(corridor)
    if not mask.any():
        raise ValueError(f"no route is labelled with corridor '{corridor}' (have: {', '.join(network.corridors())})")
    snow_f = state.snow_capacity_factor
    total_f = state.capacity_factor
    out: dict[str, dict[str, np.ndarray]] = {"snow": {}, "interdiction": {}, "total": {}}
    for m in metrics:
        if m == "count":
            snow = count_cut_share(state.snow_closed, mask)
            total = count_cut_share(state.snow_closed | state.interdicted, mask)
        elif m == "capacity":
            snow = capacity_cut_share(snow_f, network.capacity_tpd, mask)
            total = capacity_cut_share(total_f, network.capacity_tpd, mask)
        elif m == "connectivity":
            snow = connectivity_cut_share(network, snow_f, corridor)
            total = connectivity_cut_share(network, total_f, corridor)
        else:
            raise ValueError(f"unknown metric '{m}' (choose from {', '.join(METRICS)})")
        out["snow"][m] = snow
        out["total"][m] = total
        out["interdiction"][m] = np.maximum(total - snow, 0.0)
    return out
