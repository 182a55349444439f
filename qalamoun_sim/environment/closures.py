"""Closures: snow depth at a route's highest point against its surface's limits.

A route is open below ``slowed_cm`` (capacity and speed factor 1), slowed from ``slowed_cm``
(the surface's slowed factors) and closed at ``closed_cm`` and above (factor 0). Ploughed roads
(army-held roads by default) close only while fresh snow lies deeper than their closed limit
and has not yet been cleared, ``plough_days`` after it fell (domain.md s.4).
"""

from __future__ import annotations

import numpy as np

from ..network.routes import RouteNetwork
from ..scenario import SnowConfig, SurfaceLimits

__all__ = ["limits_of_routes", "factors_from_depth", "snow_factors", "recent_snowfall"]

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


def snow_factors(depth_cm: np.ndarray, ploughed_snowfall_cm: np.ndarray, network: RouteNetwork,
                 cfg: SnowConfig, columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Capacity and speed factors (R, D, N) of every route from the snow on its highest point.

    Parameters
    ----------
    depth_cm : (R, D, N)
        Snow depth at each route's highest point.
    ploughed_snowfall_cm : (R, D, P)
        That day's fresh snow at the highest point of the P ploughed routes among the N, in order
        (only ploughed roads use it).
    columns : (N,) int, optional
        The network indices of the N routes given, in order; default every route.
    """
    cols = np.arange(network.n_routes) if columns is None else np.asarray(columns)
    limits = limits_of_routes(network, cfg)
    cap, speed = factors_from_depth(depth_cm, [limits[i] for i in cols])
    ploughed = network.ploughed[cols]
    if ploughed.any():
        # a ploughed road is closed only until cleared: afterwards, at worst slowed
        uncleared = recent_snowfall(ploughed_snowfall_cm, cfg.plough_days)
        lim = cfg.ploughed_road
        cleared_cap = np.where(cap[..., ploughed] == 0.0, lim.slowed_capacity_factor, cap[..., ploughed])
        cleared_speed = np.where(speed[..., ploughed] == 0.0, lim.slowed_speed_factor, speed[..., ploughed])
        cap[..., ploughed] = np.where(uncleared, cap[..., ploughed], cleared_cap)
        speed[..., ploughed] = np.where(uncleared, speed[..., ploughed], cleared_speed)
    return cap, speed
