"""Closures: snow depth at a route's highest point against its surface's limits, and the traffic that opens it.

A route is open below ``slowed_cm`` (capacity and speed factor 1), slowed from ``slowed_cm``
(the surface's slowed factors) and closed at ``closed_cm`` and above (factor 0). Traffic breaks a
route open again: once ``broken_after_days`` days have passed without fresh snow and the undisturbed
snow is shallower than ``broken_below_cm``, a closed route is at worst slowed (tracks and trails by
default, docs/background.md s.5). Ploughed roads (army-held roads by default) are the same rule at
any depth: closed only while fresh snow lies deeper than their closed limit and has not yet been
cleared, ``plough_days`` after it fell (docs/background.md s.5).
"""

from __future__ import annotations

import numpy as np

from ..network.routes import RouteNetwork
from ..scenario import SnowConfig, SurfaceLimits

__all__ = ["limits_of_routes", "factors_from_depth", "snow_factors", "recent_snowfall", "break_rules",
           "broken_open", "FRESH_SNOW_CM"]

FRESH_SNOW_CM = 1.0  # a day with at least this much new snow keeps a ploughed road uncleared [E]


def limits_of_routes(network: RouteNetwork, cfg: SnowConfig) -> list[SurfaceLimits]:
    """The depth limits that apply to each route, in route order."""
    return [cfg.ploughed_road if network.ploughed[i] else cfg.limits[network.surface[i]]
            for i in range(network.n_routes)]


def factors_from_depth(depth_cm: np.ndarray, limits: list[SurfaceLimits]) -> tuple[np.ndarray, np.ndarray]:
    """Capacity and speed factors (..., N) from snow depth (..., N) and per-route limits.

    Examples
    --------
    >>> from qalamoun_sim.scenario import SurfaceLimits
    >>> lim = [SurfaceLimits(slowed_cm=15, closed_cm=35, slowed_capacity_factor=0.5)]
    >>> cap, _ = factors_from_depth(np.array([[0.0], [20.0], [40.0]]), lim)
    >>> cap.ravel().tolist()
    [1.0, 0.5, 0.0]
    """
    slowed = np.array([lim.slowed_cm for lim in limits])
    closed = np.array([lim.closed_cm for lim in limits])
    slow_cap = np.array([lim.slowed_capacity_factor for lim in limits])
    slow_speed = np.array([lim.slowed_speed_factor for lim in limits])
    is_closed = depth_cm >= closed
    is_slowed = (depth_cm >= slowed) & ~is_closed
    cap = np.where(is_closed, 0.0, np.where(is_slowed, slow_cap, 1.0))
    speed = np.where(is_closed, 0.0, np.where(is_slowed, slow_speed, 1.0))
    return cap, speed


def recent_snowfall(snowfall_cm: np.ndarray, days: int) -> np.ndarray:
    """(R, D, N) bool: at least :data:`FRESH_SNOW_CM` of new snow fell on this day or the ``days - 1`` before."""
    fresh = (snowfall_cm >= FRESH_SNOW_CM).astype(np.int32)
    if days <= 0:
        return np.zeros(fresh.shape, dtype=bool)
    c = np.cumsum(fresh, axis=1)
    lagged = np.zeros_like(c)
    lagged[:, days:] = c[:, :-days]
    return (c - lagged) > 0


def break_rules(network: RouteNetwork, cfg: SnowConfig, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) the days without fresh snow after which each route is broken open (-1: never), and the deepest
    undisturbed snow it is broken in (inf: any depth). Ploughed roads: ``plough_days``, any depth."""
    limits = limits_of_routes(network, cfg)
    days = np.full(len(columns), -1, dtype=int)
    below = np.full(len(columns), np.inf)
    for k, i in enumerate(columns):
        if network.ploughed[i]:
            days[k] = cfg.plough_days
        elif limits[i].broken_after_days is not None:
            days[k] = int(limits[i].broken_after_days)
            below[k] = np.inf if limits[i].broken_below_cm is None else float(limits[i].broken_below_cm)
    return days, below


def broken_open(cap: np.ndarray, speed: np.ndarray, depth_cm: np.ndarray, snowfall_cm: np.ndarray,
                limits: list[SurfaceLimits], after_days: np.ndarray, below_cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The factors once traffic has broken the routes open: a closed route whose rule applies is slowed.

    A route with ``after_days[i] >= 0`` is broken on a day when no fresh snow (:data:`FRESH_SNOW_CM`)
    fell on it that day or the ``after_days[i] - 1`` days before and its undisturbed depth is below
    ``below_cm[i]``. All arrays (..., D, N); ``limits`` per route give the slowed factors.

    Examples
    --------
    >>> from qalamoun_sim.scenario import SurfaceLimits
    >>> lim = [SurfaceLimits(slowed_cm=15, closed_cm=35)]
    >>> depth = np.array([[[50.0], [50.0], [50.0], [80.0]]])
    >>> fresh = np.array([[[20.0], [0.0], [0.0], [0.0]]])
    >>> cap, speed = factors_from_depth(depth, lim)
    >>> broken_open(cap, speed, depth, fresh, lim, np.array([1]), np.array([60.0]))[0].ravel().tolist()
    [0.0, 0.5, 0.5, 0.0]
    """
    cap, speed = cap.copy(), speed.copy()
    for days in sorted(set(after_days[after_days >= 0].tolist())):
        cols = np.flatnonzero(after_days == days)
        fresh = recent_snowfall(snowfall_cm[..., cols], days)
        broken = ~fresh & (depth_cm[..., cols] < below_cm[cols]) & (cap[..., cols] == 0.0)
        slow_cap = np.array([limits[i].slowed_capacity_factor for i in cols])
        slow_speed = np.array([limits[i].slowed_speed_factor for i in cols])
        cap[..., cols] = np.where(broken, slow_cap, cap[..., cols])
        speed[..., cols] = np.where(broken, slow_speed, speed[..., cols])
    return cap, speed


def snow_factors(depth_cm: np.ndarray, snowfall_cm: np.ndarray, network: RouteNetwork,
                 cfg: SnowConfig, columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Capacity and speed factors (R, D, N) of every route from the snow on its highest point.

    Parameters
    ----------
    depth_cm : (R, D, N)
        Undisturbed snow depth at each route's highest point.
    snowfall_cm : (R, D, N)
        That day's fresh snow at each route's highest point (the break and plough rules read it).
    columns : (N,) int, optional
        The network indices of the N routes given, in order; default every route.
    """
    cols = np.arange(network.n_routes) if columns is None else np.asarray(columns)
    limits = limits_of_routes(network, cfg)
    chosen = [limits[i] for i in cols]
    cap, speed = factors_from_depth(depth_cm, chosen)
    after, below = break_rules(network, cfg, cols)
    return broken_open(cap, speed, depth_cm, snowfall_cm, chosen, after, below)
