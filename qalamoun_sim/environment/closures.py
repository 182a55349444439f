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
from .snowpack import band_weights, days_per_block

__all__ = ["limits_of_routes", "factors_from_depth", "snow_factors", "recent_snowfall", "break_rules",
           "broken_open", "RouteSnow", "FRESH_SNOW_CM"]

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


class _Rules:
    """The closure rules of N routes as arrays: depth limits, slowed factors and break rules."""

    def __init__(self, network: RouteNetwork, cfg: SnowConfig, columns: np.ndarray) -> None:
        limits = limits_of_routes(network, cfg)
        chosen = [limits[i] for i in columns]
        self.closed_cm = np.array([lim.closed_cm for lim in chosen], dtype=float)
        self.slowed_cm = np.array([lim.slowed_cm for lim in chosen], dtype=float)
        self.open_below_cm = np.minimum(self.closed_cm, self.slowed_cm)
        self.slow_cap = np.array([lim.slowed_capacity_factor for lim in chosen], dtype=float)
        self.slow_speed = np.array([lim.slowed_speed_factor for lim in chosen], dtype=float)
        after, self.below = break_rules(network, cfg, columns)
        self.breakable = bool((after >= 0).any())
        # a route that is never broken open waits for ever
        self.after = np.where(after >= 0, after, _NEVER + 2**31).astype(np.int64)
        self.check_below = bool(np.isfinite(self.below[after >= 0]).any())
        if (self.slow_cap <= 0).any():
            raise ValueError("slowed capacity factors must be > 0")
        self._shape: tuple[int, ...] = ()

    def _buffers(self, shape: tuple[int, ...]) -> None:
        if shape != self._shape:
            self._shape = shape
            self._closed, self._slowed, self._open, self._broken, self._t = (
                np.empty(shape, dtype=bool) for _ in range(5))
            self._f = np.empty(shape)

    def factors(self, depth: np.ndarray, dry_days: np.ndarray, cap: np.ndarray, speed: np.ndarray | None) -> None:
        """One day's factors (..., N) into ``cap`` and ``speed``, from the depth and the days since fresh snow
        (:data:`FRESH_SNOW_CM`; 0 on a day with fresh snow): those of :func:`factors_from_depth` and
        :func:`broken_open`, as a state per cell (open, slowed or closed) and the state's factors (``speed``
        None: the capacity factors alone)."""
        self._buffers(depth.shape)
        closed, slowed, is_open = self._closed, self._slowed, self._open
        np.greater_equal(depth, self.closed_cm, out=closed)
        np.greater_equal(depth, self.slowed_cm, out=slowed)   # and not closed, unless broken open
        np.less(depth, self.open_below_cm, out=is_open)       # neither: a broken route was not open
        if self.breakable:
            # broken open: closed (capacity 0: slowed factors are > 0), dry for the route's days, under its
            # depth; it becomes slowed
            broken = self._broken
            np.greater_equal(dry_days, self.after, out=broken)
            np.logical_and(broken, closed, out=broken)
            if self.check_below:
                np.less(depth, self.below, out=self._t)
                np.logical_and(broken, self._t, out=broken)
        np.greater(slowed, closed, out=slowed)                   # slowed and not closed
        if self.breakable:
            np.logical_or(slowed, broken, out=slowed)            # or broken open (a broken route was closed)
        # 1 on open cells, the slowed factor on slowed cells, 0 on closed ones: exactly, as a sum of one of
        # them with zeros (factors are never negative)
        mask = self._f
        np.copyto(mask, slowed)
        for out, slow in ((cap, self.slow_cap), (speed, self.slow_speed)):
            if out is not None:  # no speed factors: capacity alone (the claim's shares)
                np.multiply(mask, slow, out=out)
                np.add(out, is_open, out=out)


#: Days since fresh snow before any fell (larger than any break rule).
_NEVER = 2**30


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
    rules = _Rules(network, cfg, cols)
    cap, speed = np.empty(depth_cm.shape), np.empty(depth_cm.shape)
    dry = np.full(depth_cm.shape[:1] + depth_cm.shape[2:], _NEVER, dtype=np.int64)
    for d in range(depth_cm.shape[1]):
        _dry_days(dry, snowfall_cm[:, d])
        rules.factors(depth_cm[:, d], dry, cap[:, d], speed[:, d])
    return cap, speed


def _dry_days(dry: np.ndarray, snowfall_cm: np.ndarray) -> None:
    """Advance the days since fresh snow (``dry``, in place) by a day with this fresh snow."""
    np.add(dry, 1, out=dry)
    dry[snowfall_cm >= FRESH_SNOW_CM] = 0


#: Route cells (replications x days x routes) :class:`RouteSnow` sets at once, at most
#: :data:`.snowpack.BLOCK_DAYS` days: a block of days of a small chunk makes fewer numpy calls; of a large
#: one it would leave the cache.
BLOCK_CELLS = 2**16


class RouteSnow:
    """Snow on the routes' highest points and their factors, a few days at a time as the pack is computed (a
    :class:`~.snowpack.DaySink`): the values of :func:`~.state.route_depth_from_bands` and
    :func:`snow_factors`, without holding the bands' fresh snow or any (R, D, N) temporary.

    Routes at the same elevation share their interpolation (and the days since fresh snow there). The
    bands' days are held until a block (:data:`BLOCK_CELLS`) is full; every operation is elementwise, so a
    block gives each day the bits of a day alone.

    Attributes
    ----------
    depth_cm, capacity_factor, speed_factor : (R, D, N) float
        Filled as the pack's days come; with ``full=False`` the capacity factors alone (the other two are
        None: what the claim's shares read).
    """

    def __init__(self, network: RouteNetwork, cfg: SnowConfig, columns: np.ndarray, bands_m: np.ndarray,
                 shape: tuple[int, int], full: bool = True) -> None:
        self.rules = _Rules(network, cfg, np.asarray(columns))
        elevations = network.max_elevation_m[columns]
        unique, self.route_of = np.unique(elevations, return_inverse=True)
        self.shared = len(unique) < 0.8 * len(elevations)
        lo, hi, w = band_weights(bands_m, unique if self.shared else elevations)
        self.n_at = len(w)
        self.ends, self.weights = np.concatenate([lo, hi]), np.concatenate([1.0 - w, w])
        every = shape + (len(elevations),)
        self.capacity_factor = np.empty(every)
        self.depth_cm: np.ndarray | None = np.empty(every) if full else None
        self.speed_factor: np.ndarray | None = np.empty(every) if full else None
        self._n_rep, self._n_day, self._n_band = shape[0], shape[1], len(bands_m)
        self.start(slice(0, 0))

    def start(self, rows: slice) -> None:
        """A chunk of replications: no fresh snow yet, no day held."""
        n, n_route = len(range(*rows.indices(self._n_rep))), self.capacity_factor.shape[-1]
        k = days_per_block(n * n_route, self._n_day, BLOCK_CELLS)
        self._held, self._first = 0, 0
        self._band_depth, self._band_fresh = np.empty((n, k, self._n_band)), np.empty((n, k, self._n_band))
        self._dry = np.full((n, self.n_at), _NEVER, dtype=np.int64)  # days since fresh snow, the last day set
        at, routes = (n, k, self.n_at), (n, k, n_route)
        self._dry_at = np.empty(at, dtype=np.int64)
        self._at, self._fresh, self._ends = np.empty(at), np.empty(at), np.empty((n, k, 2 * self.n_at))
        self._dry_routes = np.empty(routes, dtype=np.int64) if self.shared else self._dry_at
        self._depth, self._cap, self._speed = np.empty(routes), np.empty(routes), np.empty(routes)

    def day(self, rows: slice, d: int, depth_cm: np.ndarray, snowfall_cm: np.ndarray) -> None:
        """Hold the bands' depth and fresh snow of day ``d``; a full block, or the last day, sets the routes."""
        if self._held == 0:
            self._first = d
        self._band_depth[:, self._held] = depth_cm
        self._band_fresh[:, self._held] = snowfall_cm
        self._held += 1
        if self._held == self._band_depth.shape[1] or d == self._n_day - 1:
            self._set_block(rows)

    def _set_block(self, rows: slice) -> None:
        """Interpolate the held days' depth and fresh snow to the routes and set their factors."""
        m, first, self._held = self._held, self._first, 0
        depth, cap, speed = self._depth[:, :m], self._cap[:, :m], self._speed[:, :m]
        if self.shared:
            self._interpolate(self._band_depth[:, :m], self._at[:, :m])
            np.take(self._at[:, :m], self.route_of, axis=2, out=depth, mode="clip")  # valid indices: never clips
        else:
            self._interpolate(self._band_depth[:, :m], depth)
        fresh, dry = self._fresh[:, :m], self._dry_at[:, :m]
        self._interpolate(self._band_fresh[:, :m], fresh)
        for k in range(m):
            _dry_days(self._dry, fresh[:, k])
            dry[:, k] = self._dry
        dry_routes = self._dry_routes[:, :m]
        if self.shared:
            np.take(dry, self.route_of, axis=2, out=dry_routes, mode="clip")
        self.rules.factors(depth, dry_routes, cap, None if self.speed_factor is None else speed)
        days = slice(first, first + m)
        self.capacity_factor[rows, days] = cap
        if self.depth_cm is not None:
            self.depth_cm[rows, days] = depth
        if self.speed_factor is not None:
            self.speed_factor[rows, days] = speed

    def _interpolate(self, bands: np.ndarray, out: np.ndarray) -> None:
        """``bands[..., lo] (1 - w) + bands[..., hi] w`` into ``out`` (bands on the last axis)."""
        ends = self._ends[:, :bands.shape[1]]
        np.take(bands, self.ends, axis=-1, out=ends, mode="clip")
        np.multiply(ends, self.weights, out=ends)
        np.add(ends[..., :self.n_at], ends[..., self.n_at:], out=out)
