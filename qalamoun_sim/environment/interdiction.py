"""Interdiction: strikes by air, artillery and rockets on routes, repairs, and siege lines.

Each asset makes ``strikes_per_day`` strikes a day on routes within ``range_km`` of its base
(route midpoints), chosen with probability proportional to capacity among the routes not held
by the army. A strike hits with ``hit_probability``; a hit route stays closed for ``repair_days``
days (the day of the strike included). The air force (and any asset marked so) is grounded on
days with precipitation or a storm. Routes on siege lines are closed every day.

An asset with ``targeting = "optimal"`` strikes instead, each day it flies, the routes of the claim
corridor within its range whose closure cuts the corridor's max flow most on that day's capacities
(snow, earlier strikes not yet repaired, the other assets' hits that day): Wood's max-flow interdiction
(:class:`~qalamoun_sim.network.interdiction.FlowInterdiction`) with ``strikes_per_day`` as its budget,
after the random assets and in scenario order. Each of its strikes hits with ``hit_probability``.
It reads the same uniforms as a random asset (the hit draws), so the other assets' strikes are the
same whichever way an asset targets.

The strike sequence does not depend on convoys, so it is part of the exogenous state: draws are
made per replication from its own generator, then every day of every replication at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..network.interdiction import FlowInterdiction, denied_routes
from ..network.routes import RouteNetwork
from ..scenario import Asset, Scenario
from .weather import Weather

__all__ = ["simulate_strikes", "target_weights", "asset_active_days", "grounded_days", "optimal_targets",
           "searchsorted_right"]


def target_weights(network: RouteNetwork, asset: Asset) -> np.ndarray:
    """Targeting weights over routes: capacity of non-army routes within range, else 0."""
    eligible = network.routes_within(asset.base, asset.range_km) & ~network.enemy_route_mask("militant")
    return np.where(eligible, network.capacity_tpd, 0.0)


def asset_active_days(asset: Asset, scenario: Scenario) -> np.ndarray:
    """(D,) bool: days on which the asset operates (its optional start and end dates)."""
    dates = scenario.dates
    return np.array([(asset.start is None or d >= asset.start) and (asset.end is None or d <= asset.end)
                     for d in dates], dtype=bool)


def grounded_days(asset: Asset, weather: Weather) -> np.ndarray:
    """(R, D) bool: days the asset cannot strike (precipitation or storm, for assets grounded in weather)."""
    if not asset.grounded_in_weather:
        return np.zeros(weather.precipitation_mm.shape, dtype=bool)
    return (weather.precipitation_mm > 0.0) | weather.storm


def simulate_strikes(scenario: Scenario, network: RouteNetwork, weather: Weather,
                     rngs: Sequence[np.random.Generator], columns: np.ndarray | None = None,
                     snow_factor: np.ndarray | None = None) -> np.ndarray:
    """(R, D, N) bool: routes closed by interdiction (strikes not yet repaired, siege lines).

    ``columns`` (network route indices, increasing) keeps those routes only; the strikes are
    drawn over the whole network all the same. ``snow_factor`` (R, D, columns), the snow capacity
    factors, is needed only by assets with ``targeting = "optimal"``, and then ``columns`` must hold
    every route of the claim corridor.
    """
    n_rep, n_day = weather.precipitation_mm.shape
    n_route = network.n_routes
    cols = np.arange(n_route) if columns is None else np.asarray(columns)
    column_of = np.full(n_route, -1)
    column_of[cols] = np.arange(len(cols))
    n_col = len(cols)
    closed = np.zeros((n_rep, n_day, n_col), dtype=bool)
    cfg = scenario.interdiction
    if cfg is None:
        return closed
    for rid in cfg.siege_lines:
        col = column_of[network.route_index[rid]]
        if col >= 0:
            closed[:, :, col] = True

    # draws: for each replication, for each asset in order, target and hit uniforms (days, strikes)
    plans: list[tuple[Asset, np.ndarray, np.ndarray, np.ndarray] | None] = []
    for asset in cfg.assets:
        w = target_weights(network, asset)
        if asset.strikes_per_day == 0 or w.sum() <= 0 or asset.targeting == "optimal":
            plans.append(None)
            continue
        plans.append((asset, np.cumsum(w) / w.sum(), asset_active_days(asset, scenario),
                      grounded_days(asset, weather)))
    # one call per replication draws them all in that order (the same numbers as one call per array):
    # per asset, its (days, strikes) target uniforms, then its (days, strikes) hit uniforms
    per_array = [n_day * a.strikes_per_day for a in cfg.assets]
    row = 2 * sum(per_array)
    draws = np.empty((n_rep, row))
    for k, rng in enumerate(rngs):
        rng.random(out=draws[k])
    flat_draws = draws.ravel()
    flat_closed = closed.reshape(-1)
    at = 0
    hit_draws: list[np.ndarray] = []
    for asset, plan, size in zip(cfg.assets, plans, per_array, strict=True):
        hit_draws.append(draws[:, at + size:at + 2 * size].reshape(n_rep, n_day, asset.strikes_per_day))
        if plan is not None:
            asset, cdf, active, grounded = plan
            k = asset.strikes_per_day
            u_hit = draws[:, at + size:at + 2 * size].reshape(n_rep, n_day, k)
            # a uniform below the day's threshold hits: the hit probability on days the asset strikes, else -1
            threshold = np.where(active[None, :] & ~grounded, asset.hit_probability, -1.0)
            cell = np.flatnonzero(u_hit < threshold[:, :, None])  # rep * size + day * k + strike
            rep, col = np.divmod(cell, size)
            u_target = flat_draws[rep * row + at + col]
            route = column_of[np.minimum(searchsorted_right(cdf, u_target), n_route - 1)]
            kept = route >= 0
            rep, day, route = rep[kept], col[kept] // k, route[kept]
            # a hit on day d closes its route on days d .. d + repair_days - 1
            for offset in range(asset.repair_days):
                on = day + offset < n_day
                flat_closed[((rep[on] * n_day) + day[on] + offset) * n_col + route[on]] = True
        at += 2 * size
    _strike_optimally(scenario, network, weather, hit_draws, snow_factor, closed, column_of)
    return closed


def searchsorted_right(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cdf, u, side="right")`` for uniforms ``u`` in [0, 1) and a sorted ``cdf``, exactly and
    several times faster for many ``u``: a table over ``2**k`` equal buckets of [0, 1) gives the answer
    wherever no ``cdf`` value falls inside the bucket, and only the other draws are searched.

    Examples
    --------
    >>> cdf = np.array([0.25, 0.5, 0.5, 1.0])
    >>> u = np.array([0.0, 0.25, 0.3, 0.5, 0.75, 0.999])
    >>> searchsorted_right(cdf, u).tolist() == np.searchsorted(cdf, u, side="right").tolist()
    True
    """
    if len(u) < 1024 or len(cdf) < 8:
        return np.searchsorted(cdf, u, side="right")
    m = 1 << min(20, max(10, int(len(cdf)).bit_length() + 4))     # buckets: about 16 per cdf value
    edges = np.arange(m + 1) / m                                    # exact: a power of two
    count = np.searchsorted(cdf, edges, side="right")               # cdf values <= each edge
    scaled = u * m                                                  # exact, as m is a power of two
    bucket = np.fmin(np.fmax(scaled, 0), m - 1).astype(np.int64)    # u in [b / m, (b + 1) / m); NaN: 0
    out = count[bucket]
    # a cdf value in (b / m, (b + 1) / m] may lie at or below u, and u may lie outside [0, 1): search those
    unsure = np.flatnonzero((count[bucket + 1] != out) | ~(scaled < m) | (scaled < 0))
    if len(unsure):
        out[unsure] = np.searchsorted(cdf, u[unsure], side="right")
    return out


def optimal_targets(network: RouteNetwork, asset: Asset, corridor: str) -> FlowInterdiction:
    """The interdiction problem of an asset with optimal targeting: the corridor's routes within its range
    that the militants may use (the side rule), against the corridor's max flow."""
    reach = network.routes_within(asset.base, asset.range_km) & network.corridor_mask(corridor)
    return FlowInterdiction.for_corridor(network, corridor, candidates=reach & ~network.enemy_route_mask("militant"))


def _strike_optimally(scenario: Scenario, network: RouteNetwork, weather: Weather, hit_draws: list[np.ndarray],
                      snow_factor: np.ndarray | None, closed: np.ndarray, column_of: np.ndarray) -> None:
    """Add the hits of the assets with optimal targeting to ``closed``, in scenario order."""
    assert scenario.interdiction is not None
    for asset, u_hit in zip(scenario.interdiction.assets, hit_draws, strict=True):
        if asset.targeting == "optimal" and asset.strikes_per_day > 0:
            if snow_factor is None:
                raise ValueError(f"asset '{asset.id}': optimal targeting needs the snow capacity factors")
            _strike_asset(scenario, network, asset, weather, u_hit, snow_factor, closed, column_of)


def _strike_asset(scenario: Scenario, network: RouteNetwork, asset: Asset, weather: Weather, u_hit: np.ndarray,
                  snow_factor: np.ndarray, closed: np.ndarray, column_of: np.ndarray) -> None:
    """Add one optimal asset's hits to ``closed`` (R, D, columns), a day at a time (a hit stays for its repair days).

    As for the connectivity share, the destinations are the towns the militants still hold that day
    (the scenario's dated captures). The day's choice is memoized on the corridor's capacities that day
    and the towns taken (most days repeat a pattern).
    """
    corridor = scenario.claim.corridor
    problem = optimal_targets(network, asset, corridor)
    routes = np.flatnonzero(network.corridor_mask(corridor))
    cols = column_of[routes]
    if (cols < 0).any():
        raise ValueError("optimal targeting needs the state of every route of the claim corridor")
    n_rep, n_day = u_hit.shape[:2]
    flies = asset_active_days(asset, scenario)[None, :] & ~grounded_days(asset, weather)
    phases = _phase_factors(scenario, network)
    memo: dict[tuple[int, bytes], tuple[int, ...]] = {}
    for rep in range(n_rep):
        for day in np.flatnonzero(flies[rep]).tolist():
            day_f = np.where(closed[rep, day, cols], 0.0, snow_factor[rep, day, cols])
            phase, outside = phases[day]
            key = (phase, day_f.tobytes())
            chosen = memo.get(key)
            if chosen is None:
                factors = outside.copy()
                factors[routes] *= day_f
                chosen = memo[key] = problem.solve(factors, asset.strikes_per_day, method="auto").routes
            for j, r in enumerate(chosen):
                if u_hit[rep, day, j] < asset.hit_probability:
                    closed[rep, day:day + asset.repair_days, column_of[r]] = True


def _phase_factors(scenario: Scenario, network: RouteNetwork) -> list[tuple[int, np.ndarray]]:
    """Per day: an id of the towns taken by then (dated captures) and route factors, 0 on the routes that
    taking them denies the militants (:func:`~qalamoun_sim.network.interdiction.denied_routes`)."""
    captures = [(c.date, c.town) for c in scenario.interdiction.captures] if scenario.interdiction else []
    seen: dict[frozenset[str], tuple[int, np.ndarray]] = {}
    out = []
    for day in scenario.dates:
        taken = frozenset(t for when, t in captures if when <= day)
        if taken not in seen:
            seen[taken] = (len(seen), np.where(denied_routes(network, taken), 0.0, 1.0))
        out.append(seen[taken])
    return out
