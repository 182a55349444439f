"""The snowpack by elevation band, from the weather at the reference elevation.

The snowpack is kept per elevation band as snow water equivalent (SWE, mm) and bulk density:
precipitation falls as snow below the rain/snow threshold (a linear mix around it), melts by
degree-days, and settles toward the old-snow density; depth (cm) = 100 * SWE / density.
The day recursion runs across replications with elementwise arithmetic only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scenario import SnowConfig, WeatherConfig
from .weather import Weather, temperature_at

__all__ = ["Snowpack", "band_elevations", "snow_fraction", "simulate_snowpack"]


@dataclass(frozen=True)
class Snowpack:
    """Snow per elevation band, arrays shaped (replications, days, bands), values at the end of each day."""

    depth_cm: np.ndarray
    swe_mm: np.ndarray
    snowfall_mm: np.ndarray
    snowfall_cm: np.ndarray
    melt_mm: np.ndarray


def band_elevations(cfg: WeatherConfig) -> np.ndarray:
    """Elevations (m) of the snowpack bands, from ``band_min_m`` to ``band_max_m`` inclusive."""
    n = int(math.floor((cfg.band_max_m - cfg.band_min_m) / cfg.band_step_m + 1e-9)) + 1
    return cfg.band_min_m + cfg.band_step_m * np.arange(n, dtype=float)


def snow_fraction(temperature_c: np.ndarray, threshold_c: float, mix_range_c: float) -> np.ndarray:
    """Fraction of precipitation falling as snow: 1 below the mix, 0 above, linear across ``mix_range_c``."""
    t = np.asarray(temperature_c, dtype=float)
    if mix_range_c <= 0:
        return (t < threshold_c).astype(float)
    return np.clip((threshold_c + mix_range_c / 2.0 - t) / mix_range_c, 0.0, 1.0)


def simulate_snowpack(weather: Weather, wcfg: WeatherConfig, scfg: SnowConfig, bands_m: np.ndarray) -> Snowpack:
    """Snow water, density and depth per band and day (end of day).

    Each day: snowfall is added (fresh density), melt = melt factor x degree-days above the base,
    capped by the pack, then the bulk density relaxes toward the settled density with time
    constant ``settling_days``. Water is conserved: total snowfall = total melt + SWE on the ground.
    """
    temp = temperature_at(weather, bands_m)                       # (R, D, B)
    oro = np.maximum(0.0, 1.0 + wcfg.orographic_gradient_per_km * (bands_m - wcfg.reference_elevation_m) / 1000.0)
    snowfall = weather.precipitation_mm[..., None] * oro * snow_fraction(temp, scfg.rain_snow_threshold_c,
                                                                         scfg.mix_range_c)
    potential_melt = scfg.melt_factor_mm_per_c_day * np.maximum(temp - scfg.melt_base_c, 0.0)
    relax = 1.0 - math.exp(-1.0 / scfg.settling_days)
    rho_new, rho_old = scfg.new_snow_density_kg_m3, scfg.settled_density_kg_m3

    n_rep, n_day, n_band = temp.shape
    swe = np.zeros((n_rep, n_band))
    rho = np.full((n_rep, n_band), rho_new)
    swe_out = np.empty_like(temp)
    rho_out = np.empty_like(temp)
    melt_out = np.empty_like(temp)
    fall_volume = snowfall / rho_new
    for d in range(n_day):
        total = swe + snowfall[:, d]
        # fresh snow adds its own depth: the bulk density is total water over total volume
        volume = swe / rho
        volume += fall_volume[:, d]
        has_snow = volume > 0
        rho = np.where(has_snow, total / np.where(has_snow, volume, 1.0), rho_new)
        melt = np.minimum(total, potential_melt[:, d], out=melt_out[:, d])
        swe = np.subtract(total, melt, out=swe_out[:, d])
        rho = np.where(swe > 0, rho + (rho_old - rho) * relax, rho_new)
        rho_out[:, d] = rho
    depth_out = 100.0 * swe_out / rho_out
    return Snowpack(depth_cm=depth_out, swe_mm=swe_out, snowfall_mm=snowfall,
                    snowfall_cm=100.0 * snowfall / rho_new, melt_mm=melt_out)
