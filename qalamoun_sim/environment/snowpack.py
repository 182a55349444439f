"""The snowpack by elevation band, from the weather at the reference elevation.

Per band the pack holds ice and liquid water (mm water equivalent), a heat deficit (the cold content,
mm of water it would refreeze), Snow-17's antecedent temperature index and its depth. Each day
(docs/background.md s.4): snow falls at the new-snow density (a linear rain/snow mix around the
threshold), the heat deficit follows the air, melt is Snow-17's seasonal degree-day melt with the
heat of the rain, liquid water (melt and rain on the pack) first refreezes against the deficit
(adding ice, not depth), then is held up to a fraction of the ice, and the rest runs off; last the
pack settles toward CLASS's maximum density, higher for deep and for melting packs. Water is conserved: snowfall + rain on the pack = runoff + the change of ice and liquid.
The day recursion runs across replications with elementwise arithmetic only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..scenario import SnowConfig, WeatherConfig
from . import snowphysics as sp
from .weather import Weather, temperature_at

__all__ = ["Snowpack", "band_elevations", "snow_fraction", "orographic_factor", "simulate_snowpack"]


@dataclass(frozen=True)
class Snowpack:
    """Snow per elevation band, arrays shaped (replications, days, bands), values at the end of each day.

    ``swe_mm`` is ice and liquid together, ``liquid_mm`` the liquid part; ``melt_mm`` ice melted,
    ``refreeze_mm`` liquid refrozen, ``rain_on_snow_mm`` rain that fell on the pack, ``runoff_mm``
    the water that left it.
    """

    depth_cm: np.ndarray
    swe_mm: np.ndarray
    snowfall_mm: np.ndarray
    snowfall_cm: np.ndarray
    melt_mm: np.ndarray
    liquid_mm: np.ndarray
    refreeze_mm: np.ndarray
    rain_on_snow_mm: np.ndarray
    runoff_mm: np.ndarray

    @property
    def density_kg_m3(self) -> np.ndarray:
        """Bulk density (ice and liquid over depth); NaN where there is no snow."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.depth_cm > 0, 100.0 * self.swe_mm / self.depth_cm, np.nan)


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


def orographic_factor(cfg: WeatherConfig, bands_m: np.ndarray) -> np.ndarray:
    """(B,) precipitation at each band over that at the reference: ``max(0, 1 + g (z - z_ref) / 1000)``.

    ``g`` is ``orographic_gradient_per_km`` above the reference and ``orographic_gradient_below_per_km`` below.
    """
    dz = (np.asarray(bands_m, dtype=float) - cfg.reference_elevation_m) / 1000.0
    g = np.where(dz >= 0, cfg.orographic_gradient_per_km, cfg.orographic_gradient_below_per_km)
    return np.maximum(0.0, 1.0 + g * dz)


@dataclass
class _Pack:
    """The state of every band of every replication, (R, B) arrays, updated in place day by day."""

    ice: np.ndarray
    liquid: np.ndarray
    deficit: np.ndarray
    ati: np.ndarray
    depth_cm: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> _Pack:
        return cls(*(np.zeros(shape) for _ in range(5)))


def _densify(pack: _Pack, temp: np.ndarray, scfg: SnowConfig) -> None:
    """CLASS's aging of the pack as it stands at the end of the day."""
    has = pack.ice > 0
    rho = np.where(has, 100.0 * pack.ice / np.where(has, pack.depth_cm, 1.0), 1.0)
    melting = sp.is_melting(temp, scfg.melt_base_c)
    target = sp.max_density(pack.depth_cm, melting, scfg.max_density_cold_kg_m3, scfg.max_density_melting_kg_m3)
    rho = sp.densify(rho, target, scfg.settling_days)
    pack.depth_cm = np.where(has, 100.0 * pack.ice / rho, 0.0)


def _day(pack: _Pack, temp: np.ndarray, snow: np.ndarray, rain: np.ndarray, mf: float, mf_max: float,
         scfg: SnowConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One day of one band set; returns melt, refreeze, rain on the pack and runoff (mm)."""
    pack.ice = pack.ice + snow
    pack.depth_cm = pack.depth_cm + 100.0 * snow / scfg.new_snow_density_kg_m3
    has = pack.ice > 0
    rain_on = np.where(has, rain, 0.0)
    pack.ati = sp.antecedent_temperature(pack.ati, temp, snow)
    deficit = (pack.deficit - np.minimum(temp, 0.0) * snow / sp.LATENT_OVER_HEAT
               + sp.temperature_deficit_change(pack.ati, temp, mf, mf_max))
    pack.deficit = np.clip(deficit, 0.0, sp.HEAT_DEFICIT_CAP * pack.ice)
    melt = np.minimum(np.where(has, sp.melt_mm(temp, rain_on, mf, scfg.melt_base_c), 0.0), pack.ice)
    left = pack.ice - melt
    pack.depth_cm = np.where(left > 0, pack.depth_cm * left / np.where(has, pack.ice, 1.0), 0.0)
    pack.ice = left
    pack.deficit = np.where(left > 0, pack.deficit, 0.0)
    water = pack.liquid + melt + rain_on
    refreeze = np.minimum(water, pack.deficit)          # refrozen water adds ice, not depth
    pack.ice = pack.ice + refreeze
    pack.deficit = pack.deficit - refreeze
    water = water - refreeze
    pack.liquid = np.minimum(water, scfg.liquid_water_capacity * pack.ice)
    _densify(pack, temp, scfg)
    return melt, refreeze, rain_on, water - pack.liquid


def simulate_snowpack(weather: Weather, wcfg: WeatherConfig, scfg: SnowConfig, bands_m: np.ndarray,
                      dates: Sequence[dt.date] | None = None) -> Snowpack:
    """Ice, liquid water, depth and the water fluxes per band and day (end of day).

    Parameters
    ----------
    weather : Weather
        At the reference elevation, (R, D).
    bands_m : (B,) float
        Band elevations.
    dates : sequence of date, optional
        The days, for the seasonal melt factor; without them every day melts at the mean factor
        ``melt_factor_mm_per_c_day`` (the factor of the equinoxes).
    """
    temp = temperature_at(weather, bands_m)                       # (R, D, B)
    precip = weather.precipitation_mm[..., None] * orographic_factor(wcfg, bands_m)
    snowfall = precip * snow_fraction(temp, scfg.rain_snow_threshold_c, scfg.mix_range_c)
    rain = precip - snowfall
    n_rep, n_day, n_band = temp.shape
    mean, ratio = scfg.melt_factor_mm_per_c_day, scfg.melt_factor_seasonal_ratio
    mf = sp.seasonal_melt_factor(dates, mean, ratio) if dates is not None else np.full(n_day, mean)
    mf_max = 2.0 * mean / (1.0 + ratio) if dates is not None else mean
    out = {k: np.empty_like(temp) for k in ("depth", "swe", "melt", "liquid", "refreeze", "rain_on", "runoff")}
    pack = _Pack.empty((n_rep, n_band))
    for d in range(n_day):
        melt, refreeze, rain_on, runoff = _day(pack, temp[:, d], snowfall[:, d], rain[:, d], float(mf[d]), mf_max,
                                               scfg)
        for key, value in (("depth", pack.depth_cm), ("swe", pack.ice + pack.liquid), ("melt", melt),
                           ("liquid", pack.liquid), ("refreeze", refreeze), ("rain_on", rain_on),
                           ("runoff", runoff)):
            out[key][:, d] = value
    return Snowpack(depth_cm=out["depth"], swe_mm=out["swe"], snowfall_mm=snowfall,
                    snowfall_cm=100.0 * snowfall / scfg.new_snow_density_kg_m3, melt_mm=out["melt"],
                    liquid_mm=out["liquid"], refreeze_mm=out["refreeze"], rain_on_snow_mm=out["rain_on"],
                    runoff_mm=out["runoff"])
