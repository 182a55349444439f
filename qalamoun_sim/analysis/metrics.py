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

from ..environment.state import ExogenousState
from ..network.routes import RouteNetwork

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
    mask = network.corridor_mask(corridor)
    return _flow_cut_share(network, corridor, factors[..., mask])


def _flow_cut_share(network: RouteNetwork, corridor: str, corridor_factors: np.ndarray) -> np.ndarray:
    """The connectivity share from the factors of the corridor's routes alone ``(..., corridor routes)``."""
    nominal = network.max_flow(corridor)
    shape = corridor_factors.shape[:-1]
    if nominal <= 0:
        return np.zeros(shape)
    cuts = network.corridor_cuts(corridor)
    if cuts is not None:
        return 1.0 - cuts.max_flow(corridor_factors) / nominal
    mask = network.corridor_mask(corridor)
    patterns, inverse = np.unique(corridor_factors.reshape(-1, corridor_factors.shape[-1]), axis=0, return_inverse=True)
    full = np.ones((len(patterns), network.n_routes))
    full[:, mask] = patterns
    flows = np.array([network.max_flow(corridor, p) for p in full])
    return (1.0 - flows[inverse.ravel()] / nominal).reshape(shape)


def corridor_shares(state: ExogenousState, network: RouteNetwork, corridor: str,
                    metrics: tuple[str, ...] = METRICS) -> dict[str, dict[str, np.ndarray]]:
    """Daily shares ``{"snow"|"interdiction"|"total": {metric: (R, D) array}}`` of a corridor.

    The state may hold every route or any routes that include the corridor's (``compute_state(...,
    routes=network.corridor_routes(corridor))`` computes no more than the shares need).

    Raises
    ------
    ValueError
        When no route carries the corridor label.
    """
    full_mask = network.corridor_mask(corridor)
    if not full_mask.any():
        raise ValueError(f"no route is labelled with corridor '{corridor}' (have: {', '.join(network.corridors())})")
    mask, capacity = _corridor_columns(state, network, corridor)
    # the corridor's columns only: the other routes never enter a share
    whole = mask.all()
    snow_f = state.snow_capacity_factor if whole else state.snow_capacity_factor[..., mask]
    interdicted = state.interdicted if whole else state.interdicted[..., mask]
    total_f = np.where(interdicted, 0.0, snow_f)
    snow_closed = snow_f <= 0.0
    every = np.ones(snow_f.shape[-1], dtype=bool)
    out: dict[str, dict[str, np.ndarray]] = {"snow": {}, "interdiction": {}, "total": {}}
    for m in metrics:
        if m == "count":
            snow = count_cut_share(snow_closed, every)
            total = count_cut_share(snow_closed | interdicted, every)
        elif m == "capacity":
            snow = capacity_cut_share(snow_f, capacity, every)
            total = capacity_cut_share(total_f, capacity, every)
        elif m == "connectivity":
            snow = _flow_cut_share(network, corridor, snow_f)
            total = _flow_cut_share(network, corridor, total_f)
        else:
            raise ValueError(f"unknown metric '{m}' (choose from {', '.join(METRICS)})")
        out["snow"][m] = snow
        out["total"][m] = total
        out["interdiction"][m] = np.maximum(total - snow, 0.0)
    return out


def _corridor_columns(state: ExogenousState, network: RouteNetwork, corridor: str) -> tuple[np.ndarray, np.ndarray]:
    """The state's columns that are the corridor's routes (a mask), and their nominal capacities."""
    if tuple(state.route_ids) == tuple(network.route_ids):
        mask = network.corridor_mask(corridor)
        return mask, network.capacity_tpd[mask]
    try:
        index = np.array([network.route_index[r] for r in state.route_ids], dtype=int)
    except KeyError as exc:
        raise ValueError(f"the state holds route {exc} that the network does not have") from None
    mask = network.corridor_mask(corridor)[index]
    if mask.sum() != network.corridor_mask(corridor).sum() or np.any(np.diff(index) <= 0):
        raise ValueError(f"the state must hold every route of corridor '{corridor}', in network order")
    return mask, network.capacity_tpd[index[mask]]
