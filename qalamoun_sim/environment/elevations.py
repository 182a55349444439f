"""The weather and the snow at chosen elevations, for a block of replications: what the climate summary reads.

The same draws as :func:`~qalamoun_sim.environment.state.compute_state` (each replication's own
weather stream), the same bands and the same linear interpolation between them as a route's highest
point gets, so the snow reported at 2000 m is the snow a track cresting at 2000 m sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..scenario import Scenario, SurfaceLimits
from .closures import broken_open, factors_from_depth
from .seeding import spawned_generators
from .snowpack import band_elevations, simulate_snowpack
from .state import STREAM_WEATHER, bands_needed, route_depth_from_bands
from .weather import Weather, simulate_weather

__all__ = ["SnowAtElevations", "compute_snow", "surface_open"]


@dataclass(frozen=True)
class SnowAtElevations:
    """Weather at the reference elevation (R, D) and snow at E elevations, arrays (R, D, E) at the end of each day."""

    replications: np.ndarray
    dates: list[dt.date]
    elevations_m: np.ndarray
    weather: Weather
    depth_cm: np.ndarray
    swe_mm: np.ndarray
    snowfall_cm: np.ndarray


def compute_snow(scenario: Scenario, replications: int | Sequence[int], seed: int | None = None,
                 elevations_m: Sequence[float] = (1500.0,)) -> SnowAtElevations:
    """Weather and snow of a block of replications at the given elevations (interpolated between bands).

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> s = compute_snow(load_scenario(), 2, seed=1, elevations_m=[700, 2000])
    >>> s.depth_cm.shape
    (2, 181, 2)
    """
    seed = scenario.scenario.seed if seed is None else int(seed)
    reps = np.arange(replications) if isinstance(replications, int) else np.asarray(list(replications), dtype=int)
    if reps.ndim != 1 or len(reps) == 0:
        raise ValueError("replications must be a positive count or a non-empty sequence of indices")
    z = np.asarray(list(elevations_m), dtype=float)
    if z.ndim != 1 or len(z) == 0:
        raise ValueError("give at least one elevation")
    dates = scenario.dates
    wx = simulate_weather(scenario.weather, dates, spawned_generators(seed, reps, STREAM_WEATHER))
    bands = band_elevations(scenario.weather)
    bands = bands[bands_needed(bands, z)]
    pack = simulate_snowpack(wx, scenario.weather, scenario.snow, bands, dates)
    at = lambda a: route_depth_from_bands(a, bands, z)  # noqa: E731
    return SnowAtElevations(replications=reps, dates=dates, elevations_m=z, weather=wx, depth_cm=at(pack.depth_cm),
                            swe_mm=at(pack.swe_mm), snowfall_cm=at(pack.snowfall_cm))


def surface_open(depth_cm: np.ndarray, snowfall_cm: np.ndarray, limits: SurfaceLimits) -> np.ndarray:
    """(R, D, E) bool: a route of this (unploughed) surface is open, at worst slowed, under this snow.

    Its closing depth and its break rule (``broken_after_days``, ``broken_below_cm``), as for a route.
    """
    lim = [limits] * depth_cm.shape[-1]
    cap, speed = factors_from_depth(depth_cm, lim)
    after = np.full(depth_cm.shape[-1], -1 if limits.broken_after_days is None else limits.broken_after_days)
    below = np.full(depth_cm.shape[-1], np.inf if limits.broken_below_cm is None else limits.broken_below_cm)
    cap, _ = broken_open(cap, speed, depth_cm, snowfall_cm, lim, after, below)
    return cap > 0.0
