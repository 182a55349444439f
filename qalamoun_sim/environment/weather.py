"""Weather at the reference elevation, vectorized over replications.

Weather at the reference elevation: a seasonal temperature cycle fitted to the monthly means,
AR(1) daily anomalies, a two-state Markov chain of wet days with gamma amounts, and storms
(onset rate per month, a duration, a cold anomaly and heavy precipitation, lowering the snow
line as storm Alexa did). Temperature elsewhere follows the lapse rate.

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

import numpy as np

from ..scenario import WeatherConfig
from ..scenario.replay import read_replay_csv

__all__ = ["Weather", "seasonal_cycle", "simulate_weather", "replay_weather", "temperature_at"]

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
    """Weather replayed from a CSV file (``date, temperature_c, precipitation_mm[, storm]``), same in every replication.

    The file is read and checked by :func:`qalamoun_sim.scenario.replay.read_replay_csv`, the reader
    that ``validate`` uses: a file that validates replays, and any other raises the same ScenarioError.
    """
    wx = read_replay_csv(str(cfg.replay_csv), dates)
    tile = lambda a: np.repeat(a[None, :], n_rep, axis=0)  # noqa: E731
    return Weather(tile(wx.temperature_c), tile(wx.precipitation_mm), tile(wx.storm), cfg.reference_elevation_m,
                   cfg.lapse_rate_c_per_km)


def temperature_at(weather: Weather, elevation_m: float | np.ndarray) -> np.ndarray:
    """Temperature at other elevations through the lapse rate: shape (R, D) + shape(elevation)."""
    dz = (np.asarray(elevation_m, dtype=float) - weather.reference_elevation_m) / 1000.0
    return weather.temperature_c[..., None] - weather.lapse_rate_c_per_km * dz if np.ndim(dz) else \
        weather.temperature_c - weather.lapse_rate_c_per_km * float(dz)
