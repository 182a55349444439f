"""Interdiction: strikes by air, artillery and rockets on routes, repairs, and siege lines.

Each asset makes ``strikes_per_day`` strikes a day on routes within ``range_km`` of its base
(route midpoints), chosen with probability proportional to capacity among the routes not held
by the army. A strike hits with ``hit_probability``; a hit route stays closed for ``repair_days``
days (the day of the strike included). The air force (and any asset marked so) is grounded on
days with precipitation or a storm. Routes on siege lines are closed every day.

The strike sequence does not depend on convoys, so it is part of the exogenous state: draws are
made per replication from its own generator, then the days run across replications at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .network import RouteNetwork
from .scenario import Asset, Scenario
from .weather import Weather

__all__ = ["simulate_strikes", "target_weights", "asset_active_days", "grounded_days"]


def target_weights(network: RouteNetwork, asset: Asset) -> np.ndarray:
    """Targeting weights over routes: capacity of non-army routes within range, else 0."""
    eligible = network.routes_within(asset.base, asset.range_km) & (network.route_side != "army")
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
                     rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """(R, D, N) bool: routes closed by interdiction (strikes not yet repaired, siege lines)."""
    n_rep, n_day = weather.precipitation_mm.shape
    n_route = network.n_routes
    closed = np.zeros((n_rep, n_day, n_route), dtype=bool)
    cfg = scenario.interdiction
    if cfg is None:
        return closed
    for rid in cfg.siege_lines:
        closed[:, :, network.route_index[rid]] = True

    # draws: for each replication, for each asset in order, target and hit uniforms (days, strikes)
    plans = []
    for asset in cfg.assets:
        w = target_weights(network, asset)
        if asset.strikes_per_day == 0 or w.sum() <= 0:
            plans.append(None)
            continue
        plans.append((asset, np.cumsum(w) / w.sum(), asset_active_days(asset, scenario),
                      grounded_days(asset, weather)))
    u_target = [np.empty((n_rep, n_day, a.strikes_per_day)) for a in cfg.assets]
    u_hit = [np.empty((n_rep, n_day, a.strikes_per_day)) for a in cfg.assets]
    for k, rng in enumerate(rngs):
        for j, a in enumerate(cfg.assets):
            u_target[j][k] = rng.random((n_day, a.strikes_per_day))
            u_hit[j][k] = rng.random((n_day, a.strikes_per_day))

    until = np.full((n_rep, n_route), -1, dtype=np.int64)  # last closed day of each route
    rows = np.arange(n_rep)[:, None]
    for d in range(n_day):
        for j, plan in enumerate(plans):
            if plan is None:
                continue
            asset, cdf, active, grounded = plan
            if not active[d]:
                continue
            target = np.minimum(np.searchsorted(cdf, u_target[j][:, d, :], side="right"), n_route - 1)
            hit = (u_hit[j][:, d, :] < asset.hit_probability) & ~grounded[:, d, None]
            last = np.where(hit, d + asset.repair_days - 1, -1)
            np.maximum.at(until, (np.broadcast_to(rows, target.shape), target), last)
        closed[:, d, :] |= until >= d
    return closed
