"""Storms: when they start, how long they last, how cold and how wet they are, and what they cost the climate.

A storm starts on a day outside a storm with probability ``storms_per_month / days in the month``
and lasts ``storm_days`` days. At its onset it draws its own cold anomaly (gamma, mean
``storm_cold_anomaly_c``, shape ``storm_cold_shape``) and its own intensity (gamma, mean 1, shape
``storm_precip_shape``), both kept for the whole storm: a storm is one air mass.

Storms are part of the climate, not added on top of it (issue 13): the chance that day ``d`` is a
storm day, :func:`storm_day_probability`, is computed exactly from the onset probabilities, so the
weather generator can take the storms' expected cold and precipitation out of the rest of the days
and keep every day's expected temperature and precipitation equal to its inputs.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..scenario import WeatherConfig

__all__ = ["Storms", "onset_probability", "storm_day_probability", "simulate_storms", "storm_starts_from_days"]


@dataclass(frozen=True)
class Storms:
    """Storm days of a block of replications, arrays shaped (replications, days).

    Attributes
    ----------
    storm : bool
        A storm day.
    start : bool
        The first day of a storm (back-to-back storms are two storms).
    cold_c : float
        The storm's cold anomaly on its days (°C below the climate), 0 elsewhere.
    intensity : float
        The storm's precipitation intensity (mean 1) on its days, 0 elsewhere.
    """

    storm: np.ndarray
    start: np.ndarray
    cold_c: np.ndarray
    intensity: np.ndarray


def onset_probability(cfg: WeatherConfig, dates: Sequence[dt.date]) -> np.ndarray:
    """(D,) chance that a storm starts on each day, outside a storm: the month's rate over its days, at most 1."""
    return np.array([min(1.0, cfg.storms_per_month[d.month - 1] / calendar.monthrange(d.year, d.month)[1])
                     for d in dates])


def storm_day_probability(onset: np.ndarray, storm_days: int) -> np.ndarray:
    """(D,) exact chance that each day is a storm day, for the onset process of :func:`simulate_storms`.

    The days left in the current storm form a Markov chain started outside a storm on day 0; its
    distribution is carried forward day by day.

    Examples
    --------
    >>> storm_day_probability(np.array([0.5, 0.0, 0.0, 0.0]), 2).tolist()
    [0.5, 0.5, 0.0, 0.0]
    """
    left = np.zeros(storm_days)          # left[s]: chance that s more storm days follow, at the start of a day
    left[0] = 1.0
    out = np.empty(len(onset))
    for d, q in enumerate(onset):
        starts = left[0] * q
        out[d] = starts + left[1:].sum()
        nxt = np.zeros_like(left)
        nxt[0] = left[0] * (1.0 - q) + (left[1] if storm_days > 1 else starts)
        if storm_days > 1:
            nxt[:-1] += np.concatenate([[0.0], left[2:]])
            nxt[-1] += starts
        left = nxt
    return out


def simulate_storms(cfg: WeatherConfig, onset: np.ndarray, u_onset: np.ndarray, g_cold: np.ndarray,
                    g_intensity: np.ndarray) -> Storms:
    """Storm days from uniform onset draws and the storms' own gamma draws, all shaped (R, D).

    ``g_cold`` and ``g_intensity`` are standard gamma draws with shapes ``storm_cold_shape`` and
    ``storm_precip_shape``; the value on a storm's first day is the storm's. The day recursion runs
    across replications with elementwise arithmetic only.
    """
    n_rep, n_day = u_onset.shape
    storm = np.zeros((n_rep, n_day), dtype=bool)
    start = np.zeros((n_rep, n_day), dtype=bool)
    cold = np.zeros((n_rep, n_day))
    intensity = np.zeros((n_rep, n_day))
    left = np.zeros(n_rep, dtype=int)
    cur_cold = np.zeros(n_rep)
    cur_int = np.zeros(n_rep)
    cold_scale = cfg.storm_cold_anomaly_c / cfg.storm_cold_shape
    int_scale = 1.0 / cfg.storm_precip_shape
    for d in range(n_day):
        starts = (left == 0) & (u_onset[:, d] < onset[d])
        left = np.where(starts, cfg.storm_days, left)
        cur_cold = np.where(starts, g_cold[:, d] * cold_scale, cur_cold)
        cur_int = np.where(starts, g_intensity[:, d] * int_scale, cur_int)
        on = left > 0
        storm[:, d] = on
        start[:, d] = starts
        cold[:, d] = np.where(on, cur_cold, 0.0)
        intensity[:, d] = np.where(on, cur_int, 0.0)
        left = np.maximum(left - 1, 0)
    return Storms(storm, start, cold, intensity)


def storm_starts_from_days(storm: np.ndarray) -> np.ndarray:
    """(R, D) first days of runs of storm days (for replayed weather, which gives storm days only)."""
    s = np.asarray(storm, dtype=bool)
    before = np.zeros_like(s)
    before[:, 1:] = s[:, :-1]
    return s & ~before
