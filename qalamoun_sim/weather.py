"""Weather and snowpack, vectorized over replications.

Weather at the reference elevation: a seasonal temperature cycle fitted to the monthly means,
AR(1) daily anomalies, a two-state Markov chain of wet days with gamma amounts, and storms
(onset rate per month, a duration, a cold anomaly and heavy precipitation, lowering the snow
line as storm Alexa did). Temperature elsewhere follows the lapse rate.

The snowpack is kept per elevation band as snow water equivalent (SWE, mm) and bulk density:
precipitation falls as snow below the rain/snow threshold (a linear mix around it), melts by
degree-days, and settles toward the old-snow density; depth (cm) = 100 * SWE / density.

Random numbers are drawn per replication from its own generator, all days at once; the day
recursion then runs across replications with elementwise arithmetic only, so a replication's
weather does not depend on which other replications share its batch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ScenarioError
from .scenario import SnowConfig, WeatherConfig

__all__ = ["Weather", "Snowpack", "seasonal_cycle", "simulate_weather", "replay_weather", "band_elevations",
           "temperature_at", "snow_fraction", "simulate_snowpack"]

_MID_MONTH_DOY = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5])
_YEAR_DAYS = 365.25


@dataclass(frozen=True)
class Weather:
    """Daily weather at the reference elevation, arrays shaped (replications, days)."""

    temperature_c: np.ndarray
    precipitation_mm: np.ndarray
    storm: np.ndarray
    reference_elevation_m: float
    lapse_rate_c_per_km: float


@dataclass(frozen=True)
class Snowpack:
    """Snow per elevation band, arrays shaped (replications, days, bands), values at the end of each day."""

    depth_cm: np.ndarray
    swe_mm: np.ndarray
    snowfall_mm: np.ndarray
    snowfall_cm: np.ndarray
    melt_mm: np.ndarray


def seasonal_cycle(monthly_mean_c: Sequence[float], dates: Sequence[dt.date], harmonics: int = 2) -> np.ndarray:
    """Daily climatological temperature: a Fourier series least-squares fitted to 12 monthly means.

    Examples
    --------
    >>> import datetime as dt
    >>> round(float(seasonal_cycle([5.0] * 12, [dt.date(2014, 1, 15)])[0]), 6)
    5.0
    """
    def design(doy: np.ndarray) -> np.ndarray:
        t = 2 * np.pi * (np.asarray(doy, dtype=float) - 0.5) / _YEAR_DAYS
        cols = [np.ones_like(t)]
        for k in range(1, harmonics + 1):
            cols += [np.cos(k * t), np.sin(k * t)]
        return np.stack(cols, axis=-1)

    coef, *_ = np.linalg.lstsq(design(_MID_MONTH_DOY), np.asarray(monthly_mean_c, dtype=float), rcond=None)
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    return design(doy) @ coef


def _month_index(dates: Sequence[dt.date]) -> np.ndarray:
    return np.array([d.month - 1 for d in dates], dtype=int)


def _wet_day_mean_mm(cfg: WeatherConfig, dates: Sequence[dt.date]) -> np.ndarray:
    """Mean amount on a wet day so that the monthly totals come out right on average."""
    p01, p11 = cfg.p_wet_after_dry, cfg.p_wet_after_wet
    denom = 1.0 - p11 + p01
    pi_wet = p01 / denom if denom > 0 else 1.0
    out = np.zeros(len(dates))
    for i, d in enumerate(dates):
        days = calendar.monthrange(d.year, d.month)[1]
        total = cfg.monthly_precip_mm[d.month - 1]
        out[i] = total / (days * pi_wet) if pi_wet > 0 else 0.0
    return out


def _storm_onset_probability(cfg: WeatherConfig, dates: Sequence[dt.date]) -> np.ndarray:
    return np.array([min(1.0, cfg.storms_per_month[d.month - 1] / calendar.monthrange(d.year, d.month)[1])
                     for d in dates])


def simulate_weather(cfg: WeatherConfig, dates: Sequence[dt.date], rngs: Sequence[np.random.Generator]) -> Weather:
    """Simulate daily weather for one generator per replication (or replay ``cfg.replay_csv``)."""
    if cfg.replay_csv:
        return replay_weather(cfg, dates, len(rngs))
    n_rep, n_day = len(rngs), len(dates)
    # every draw of a replication comes from its own generator, in a fixed order
    z = np.empty((n_rep, n_day))
    u_wet = np.empty((n_rep, n_day))
    g_amount = np.empty((n_rep, n_day))
    u_storm = np.empty((n_rep, n_day))
    g_storm = np.empty((n_rep, n_day))
    for k, rng in enumerate(rngs):
        rng.standard_normal(out=z[k])
        rng.random(out=u_wet[k])
        rng.standard_gamma(cfg.precip_gamma_shape, out=g_amount[k])
        rng.random(out=u_storm[k])
        rng.standard_gamma(2.0, out=g_storm[k])

    clim = seasonal_cycle(cfg.monthly_mean_c, dates, cfg.harmonics)
    wet_mean = _wet_day_mean_mm(cfg, dates)
    onset = _storm_onset_probability(cfg, dates)
    phi, sd = cfg.anomaly_autocorrelation, cfg.anomaly_sd_c
    innov = sd * math.sqrt(1.0 - phi * phi)

    # the recursions (anomaly, storm countdown, wet-day chain) run day by day; the rest for all days at once
    anomalies = np.empty((n_rep, n_day))
    wet_days = np.empty((n_rep, n_day), dtype=bool)
    storm = np.zeros((n_rep, n_day), dtype=bool)
    anomaly = sd * z[:, 0]
    wet = np.zeros(n_rep, dtype=bool)
    storm_left = np.zeros(n_rep, dtype=int)
    for d in range(n_day):
        if d > 0:
            anomaly = phi * anomaly + innov * z[:, d]
        anomalies[:, d] = anomaly
        starts = (storm_left == 0) & (u_storm[:, d] < onset[d])
        storm_left = np.where(starts, cfg.storm_days, storm_left)
        in_storm = storm_left > 0
        storm[:, d] = in_storm
        wet = u_wet[:, d] < np.where(wet, cfg.p_wet_after_wet, cfg.p_wet_after_dry)
        wet_days[:, d] = wet
        wet = wet | in_storm
        storm_left = np.maximum(storm_left - 1, 0)
    amount = np.where(wet_days, g_amount * (wet_mean / cfg.precip_gamma_shape), 0.0)
    storm_amount = g_storm * (cfg.storm_precip_mm / 2.0)
    precip = np.where(storm, np.maximum(amount, storm_amount), amount)
    temp = clim + anomalies - np.where(storm, cfg.storm_cold_anomaly_c, 0.0)
    return Weather(temp, precip, storm, cfg.reference_elevation_m, cfg.lapse_rate_c_per_km)


def replay_weather(cfg: WeatherConfig, dates: Sequence[dt.date], n_rep: int) -> Weather:
    """Weather replayed from a CSV file (``date, temperature_c, precipitation_mm[, storm]``), same in every replication."""
    import pandas as pd

    path = Path(str(cfg.replay_csv))
    try:
        table = pd.read_csv(path)
    except Exception as exc:  # any parser failure is bad input
        raise ScenarioError(str(path), None, f"cannot read weather CSV: {exc}") from None
    for col in ("date", "temperature_c", "precipitation_mm"):
        if col not in table.columns:
            raise ScenarioError(str(path), col, "missing column (need date, temperature_c, precipitation_mm)")
    try:
        table["date"] = pd.to_datetime(table["date"]).dt.date
        table = table.set_index("date")
        rows = table.reindex(list(dates))
    except Exception as exc:
        raise ScenarioError(str(path), "date", f"bad dates: {exc}") from None
    missing = rows["temperature_c"].isna() | rows["precipitation_mm"].isna()
    if missing.any():
        first = rows.index[np.argmax(missing.to_numpy())]
        raise ScenarioError(str(path), "date", f"no values for {first} ({int(missing.sum())} scenario days missing)")
    temp = rows["temperature_c"].to_numpy(dtype=float)
    precip = rows["precipitation_mm"].to_numpy(dtype=float)
    if (precip < 0).any():
        raise ScenarioError(str(path), "precipitation_mm", "must be >= 0")
    storm = rows["storm"].fillna(0).astype(bool).to_numpy() if "storm" in rows.columns else np.zeros(len(dates), bool)
    tile = lambda a: np.repeat(a[None, :], n_rep, axis=0)  # noqa: E731
    return Weather(tile(temp), tile(precip), tile(storm), cfg.reference_elevation_m, cfg.lapse_rate_c_per_km)


def band_elevations(cfg: WeatherConfig) -> np.ndarray:
    """Elevations (m) of the snowpack bands, from ``band_min_m`` to ``band_max_m`` inclusive."""
    n = int(math.floor((cfg.band_max_m - cfg.band_min_m) / cfg.band_step_m + 1e-9)) + 1
    return cfg.band_min_m + cfg.band_step_m * np.arange(n, dtype=float)


def temperature_at(weather: Weather, elevation_m: float | np.ndarray) -> np.ndarray:
    """Temperature at other elevations through the lapse rate: shape (R, D) + shape(elevation)."""
    dz = (np.asarray(elevation_m, dtype=float) - weather.reference_elevation_m) / 1000.0
    return weather.temperature_c[..., None] - weather.lapse_rate_c_per_km * dz if np.ndim(dz) else \
        weather.temperature_c - weather.lapse_rate_c_per_km * float(dz)


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
