"""Weather at the reference elevation, vectorized over replications.

Weather at the reference elevation: a seasonal temperature cycle whose monthly means are the
inputs, AR(1) daily anomalies, a two-state Markov chain of wet days with gamma amounts, and storms
(:mod:`.storms`: an onset rate per month, a duration, a cold anomaly and an intensity drawn per
storm). Storms are part of the climate, not added on top of it: the days' expected temperature and
precipitation, storm days included, equal the monthly means and totals given (docs/background.md
s.1). Temperature elsewhere follows the lapse rate.

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
from .storms import Storms, onset_probability, simulate_storms, storm_day_probability, storm_starts_from_days

__all__ = ["Weather", "seasonal_cycle", "daily_precipitation_mm", "wet_day_probability", "simulate_weather",
           "replay_weather", "temperature_at", "snow_line_m"]


@dataclass(frozen=True)
class Weather:
    """Daily weather at the reference elevation, arrays shaped (replications, days).

    ``storm_start`` marks the first day of each storm (back-to-back storms are two); when not given
    (replayed weather) every run of storm days is one storm.
    """

    temperature_c: np.ndarray
    precipitation_mm: np.ndarray
    storm: np.ndarray
    reference_elevation_m: float
    lapse_rate_c_per_km: float
    storm_start: np.ndarray | None = None

    @property
    def storm_starts(self) -> np.ndarray:
        """(R, D) bool: the first day of each storm."""
        return self.storm_start if self.storm_start is not None else storm_starts_from_days(self.storm)


def _harmonic_design(t: np.ndarray, harmonics: int) -> np.ndarray:
    """Columns 1, cos kt, sin kt (k = 1..harmonics) at phases ``t``."""
    cols = [np.ones_like(t)]
    for k in range(1, harmonics + 1):
        cols += [np.cos(k * t), np.sin(k * t)]
    return np.stack(cols, axis=-1)


def _year_cycle(monthly_mean_c: np.ndarray, year: int, harmonics: int) -> np.ndarray:
    """One calendar year's daily cycle whose month averages fit the 12 means (exactly for 6 harmonics)."""
    n = 366 if calendar.isleap(year) else 365
    design = _harmonic_design(2 * np.pi * (np.arange(n) + 0.5) / n, harmonics)
    month = np.array([(dt.date(year, 1, 1) + dt.timedelta(days=i)).month - 1 for i in range(n)])
    averages = np.stack([design[month == m].mean(axis=0) for m in range(12)])   # (12, columns)
    coef, *_ = np.linalg.lstsq(averages, monthly_mean_c, rcond=None)
    return design @ coef


def seasonal_cycle(monthly_mean_c: Sequence[float], dates: Sequence[dt.date], harmonics: int = 6) -> np.ndarray:
    """Daily climatological temperature whose monthly means are the 12 given means.

    A Fourier series in the day of the year fitted to the monthly *averages* of its terms
    (Epstein 1991, mean-preserving harmonics): with 6 harmonics (13 terms for 12 means, the
    minimum-norm solution) every calendar month of the cycle averages exactly its input; fewer
    harmonics give the least-squares fit of the month averages.

    Examples
    --------
    >>> import datetime as dt
    >>> round(float(seasonal_cycle([5.0] * 12, [dt.date(2014, 1, 15)])[0]), 6)
    5.0
    >>> jan = [dt.date(2014, 1, 1) + dt.timedelta(days=i) for i in range(31)]
    >>> means = [1.2, 2.8, 6.5, 11.3, 15.9, 20.1, 22.4, 22.1, 19.1, 14.1, 7.2, 2.6]
    >>> round(float(seasonal_cycle(means, jan).mean()), 6)
    1.2
    """
    means = np.asarray(monthly_mean_c, dtype=float)
    cycles = {y: _year_cycle(means, y, harmonics) for y in sorted({d.year for d in dates})}
    return np.array([cycles[d.year][d.timetuple().tm_yday - 1] for d in dates])


def daily_precipitation_mm(cfg: WeatherConfig, dates: Sequence[dt.date]) -> np.ndarray:
    """(D,) the expected precipitation of each day: its month's total spread evenly over the month."""
    return np.array([cfg.monthly_precip_mm[d.month - 1] / calendar.monthrange(d.year, d.month)[1] for d in dates])


def wet_day_probability(cfg: WeatherConfig, n_days: int) -> np.ndarray:
    """(D,) exact chance that the wet-day chain is wet on each day, started dry the day before day 0."""
    p01, p11 = cfg.p_wet_after_dry, cfg.p_wet_after_wet
    out = np.empty(n_days)
    w = 0.0
    for d in range(n_days):
        w = w * p11 + (1.0 - w) * p01
        out[d] = w
    return out


def _budgets(cfg: WeatherConfig, dates: Sequence[dt.date], storm_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D,) mean storm-day amount and mean wet-day amount outside storms that keep each day's expected total.

    Storms take ``storms' chance x storm_precip_mm`` of a day's expected precipitation (at most all of
    it: in a month too dry for its storms, the storms' amount is scaled down); the wet days of the
    chain outside storms share the rest.
    """
    daily = daily_precipitation_mm(cfg, dates)
    wet_p = wet_day_probability(cfg, len(dates))
    storm_share = storm_p * cfg.storm_precip_mm
    storm_mean = np.where(storm_share > daily, np.divide(daily, storm_p, out=np.zeros_like(daily), where=storm_p > 0),
                          cfg.storm_precip_mm)
    rest = np.maximum(daily - storm_p * storm_mean, 0.0)
    denom = (1.0 - storm_p) * wet_p
    wet_mean = np.divide(rest, denom, out=np.zeros_like(rest), where=denom > 1e-12)
    return storm_mean, wet_mean


def _draws(cfg: WeatherConfig, rngs: Sequence[np.random.Generator], n_day: int) -> list[np.ndarray]:
    """Every random number of the generator, (R, D) each, from each replication's own generator in a fixed order.

    Normal anomalies, wet-day uniforms, wet-day gamma amounts, storm-onset uniforms, storm cold and
    storm intensity gammas.
    """
    z, u_wet, g_amount, u_storm, g_cold, g_int = (np.empty((len(rngs), n_day)) for _ in range(6))
    for k, rng in enumerate(rngs):
        rng.standard_normal(out=z[k])
        rng.random(out=u_wet[k])
        rng.standard_gamma(cfg.precip_gamma_shape, out=g_amount[k])
        rng.random(out=u_storm[k])
        rng.standard_gamma(cfg.storm_cold_shape, out=g_cold[k])
        rng.standard_gamma(cfg.storm_precip_shape, out=g_int[k])
    return [z, u_wet, g_amount, u_storm, g_cold, g_int]


def _anomalies_and_wet_days(cfg: WeatherConfig, z: np.ndarray, u_wet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The AR(1) temperature anomalies and the wet days of the Markov chain, (R, D) each."""
    phi, sd = cfg.anomaly_autocorrelation, cfg.anomaly_sd_c
    innov = sd * math.sqrt(1.0 - phi * phi)
    anomalies = np.empty(z.shape)
    wet_days = np.empty(z.shape, dtype=bool)
    anomaly = sd * z[:, 0]
    wet = np.zeros(z.shape[0], dtype=bool)
    for d in range(z.shape[1]):
        if d > 0:
            anomaly = phi * anomaly + innov * z[:, d]
        anomalies[:, d] = anomaly
        wet = u_wet[:, d] < np.where(wet, cfg.p_wet_after_wet, cfg.p_wet_after_dry)
        wet_days[:, d] = wet
    return anomalies, wet_days


def simulate_weather(cfg: WeatherConfig, dates: Sequence[dt.date], rngs: Sequence[np.random.Generator]) -> Weather:
    """Simulate daily weather for one generator per replication (or replay ``cfg.replay_csv``).

    Temperature: the seasonal cycle, plus the storms' expected cold on every day, plus the AR(1)
    anomaly outside storms or minus the storm's own cold anomaly on its days; so every day's
    expected temperature is the cycle. Precipitation: a storm day gets the storm's intensity times
    the storm mean, other days the Markov chain's gamma amounts, both sized by :func:`_budgets` so
    every day's expected precipitation is its month's total over its days.
    """
    if cfg.replay_csv:
        return replay_weather(cfg, dates, len(rngs))
    z, u_wet, g_amount, u_storm, g_cold, g_int = _draws(cfg, rngs, len(dates))
    onset = onset_probability(cfg, dates)
    storms: Storms = simulate_storms(cfg, onset, u_storm, g_cold, g_int)
    storm_p = storm_day_probability(onset, cfg.storm_days)
    anomalies, wet_days = _anomalies_and_wet_days(cfg, z, u_wet)
    clim = seasonal_cycle(cfg.monthly_mean_c, dates, cfg.harmonics) + storm_p * cfg.storm_cold_anomaly_c
    temp = clim + np.where(storms.storm, -storms.cold_c, anomalies)
    storm_mean, wet_mean = _budgets(cfg, dates, storm_p)
    amount = np.where(wet_days, g_amount * (wet_mean / cfg.precip_gamma_shape), 0.0)
    precip = np.where(storms.storm, storms.intensity * storm_mean, amount)
    return Weather(temp, precip, storms.storm, cfg.reference_elevation_m, cfg.lapse_rate_c_per_km, storms.start)


def snow_line_m(weather: Weather, threshold_c: float) -> np.ndarray:
    """(R, D) elevation (m) where the lapse rate brings each day's reference temperature to ``threshold_c``.

    With a zero lapse rate the snow line is +inf where it is warmer than the threshold, -inf elsewhere.
    """
    t = weather.temperature_c - threshold_c
    if weather.lapse_rate_c_per_km <= 0:
        return np.where(t > 0, np.inf, -np.inf)
    return weather.reference_elevation_m + 1000.0 * t / weather.lapse_rate_c_per_km


def replay_weather(cfg: WeatherConfig, dates: Sequence[dt.date], n_rep: int) -> Weather:
    """Weather replayed from a CSV file (``date, temperature_c, precipitation_mm[, storm]``), same in every replication.

    The file is read and checked by :func:`qalamoun_sim.scenario.replay.read_replay_csv`, the reader
    that ``validate`` uses: a file that validates replays, and any other raises the same ScenarioError.
    """
    from ..scenario.replay import read_replay_csv

    wx = read_replay_csv(str(cfg.replay_csv), dates)
    tile = lambda a: np.repeat(a[None, :], n_rep, axis=0)  # noqa: E731
    return Weather(tile(wx.temperature_c), tile(wx.precipitation_mm), tile(wx.storm), cfg.reference_elevation_m,
                   cfg.lapse_rate_c_per_km)


def temperature_at(weather: Weather, elevation_m: float | np.ndarray) -> np.ndarray:
    """Temperature at other elevations through the lapse rate: shape (R, D) + shape(elevation)."""
    dz = (np.asarray(elevation_m, dtype=float) - weather.reference_elevation_m) / 1000.0
    return weather.temperature_c[..., None] - weather.lapse_rate_c_per_km * dz if np.ndim(dz) else \
        weather.temperature_c - weather.lapse_rate_c_per_km * float(dz)
