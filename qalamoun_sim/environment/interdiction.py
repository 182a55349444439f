"""Interdiction: strikes by air, artillery and rockets on routes, repairs, and siege lines.

Each asset makes ``strikes_per_day`` strikes a day on routes within ``range_km`` of its base
(route midpoints), chosen with probability proportional to capacity among the routes not held
by the army. A strike hits with ``hit_probability``; a hit route stays closed for ``repair_days``
days (the day of the strike included). The air force (and any asset marked so) is grounded on
days with precipitation or a storm. Routes on siege lines are closed every day.

The strike sequence does not depend on convoys, so it is part of the exogenous state: draws are
made per replication from its own generator, then every day of every replication at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..network.routes import RouteNetwork
from ..scenario import Asset, Scenario
from .weather import Weather

__all__ = ["simulate_strikes", "target_weights", "asset_active_days", "grounded_days"]


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
                     rngs: Sequence[np.random.Generator], columns: np.ndarray | None = None) -> np.ndarray:
    """(R, D, N) bool: routes closed by interdiction (strikes not yet repaired, siege lines).

    ``columns`` (network route indices, increasing) keeps those routes only; the strikes are
    drawn over the whole network all the same.
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
        if asset.strikes_per_day == 0 or w.sum() <= 0:
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
    for plan, size in zip(plans, per_array, strict=True):
        if plan is not None:
            asset, cdf, active, grounded = plan
            k = asset.strikes_per_day
            u_hit = draws[:, at + size:at + 2 * size].reshape(n_rep, n_day, k)
            # a uniform below the day's threshold hits: the hit probability on days the asset strikes, else -1
            threshold = np.where(active[None, :] & ~grounded, asset.hit_probability, -1.0)
            cell = np.flatnonzero(u_hit < threshold[:, :, None])  # rep * size + day * k + strike
            rep, col = np.divmod(cell, size)
            u_target = flat_draws[rep * row + at + col]
            route = column_of[np.minimum(np.searchsorted(cdf, u_target, side="right"), n_route - 1)]
            kept = route >= 0
            rep, day, route = rep[kept], col[kept] // k, route[kept]
            # a hit on day d closes its route on days d .. d + repair_days - 1
            for offset in range(asset.repair_days):
                on = day + offset < n_day
                flat_closed[((rep[on] * n_day) + day[on] + offset) * n_col + route[on]] = True
        at += 2 * size
    return closed
