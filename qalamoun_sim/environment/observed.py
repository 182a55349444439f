"""The reported days laid over the stochastic weather: a winter as it happened, stochastic where reports are silent.

Each replication's weather is drawn as usual; on the days a report covers, its figures replace
the draws (:class:`~qalamoun_sim.scenario.observed.ObservedDays`):

- temperature at the reference elevation ``z0``: ``temperature_c`` as given; or the seasonal
  normal plus ``temperature_anomaly_c``; or, from a reported snow line ``z_s``, the temperature at
  which the rain/snow threshold ``T_s`` lies at that height, ``T(z0) = T_s + lapse (z_s - z0) / 1000``;
- precipitation and storm days as given.

A season's reported total (``season_precip_fraction`` of the climate's expected total over the
horizon, e.g. 2013-14's 431 mm against an 812 mm average in Lebanon) scales the precipitation of
the silent days so that the expected total matches it: ``scale = max(0, (f E - R) / E_silent)``,
``E`` the climate's expected total, ``R`` the reported days' total and ``E_silent`` the expected
total of the silent days.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np

from ..scenario import SnowConfig, WeatherConfig
from ..scenario.observed import ObservedDays
from .weather import Weather, seasonal_cycle

__all__ = ["overlay_observed", "silent_precip_scale", "expected_daily_precip_mm"]


def expected_daily_precip_mm(cfg: WeatherConfig, dates: Sequence[dt.date]) -> np.ndarray:
    """(D,) the climate's expected precipitation per day: each month's total spread over its days."""
    return np.array([cfg.monthly_precip_mm[d.month - 1] / calendar.monthrange(d.year, d.month)[1] for d in dates])


def silent_precip_scale(cfg: WeatherConfig, dates: Sequence[dt.date], observed: ObservedDays,
                        season_fraction: float | None) -> float:
    """The factor on the silent days' precipitation that makes the expected horizon total ``season_fraction``
    of the climate's (1 when no season total is reported).

    >>> import datetime as dt
    >>> from qalamoun_sim.scenario import WeatherConfig
    >>> from qalamoun_sim.scenario.observed import ObservedDays
    >>> days = [dt.date(2013, 12, 1), dt.date(2013, 12, 2)]
    >>> cfg = WeatherConfig(monthly_precip_mm=[31.0] * 12)   # 1 mm a day expected
    >>> nan = np.full(2, np.nan)
    >>> obs = ObservedDays(nan, nan, nan, np.array([0.0, np.nan]), nan, ("", ""))
    >>> silent_precip_scale(cfg, days, obs, 0.5)            # 0.5 x 2 mm expected, 0 reported, 1 mm silent
    1.0
    """
    if season_fraction is None:
        return 1.0
    expected = expected_daily_precip_mm(cfg, dates)
    reported = ~np.isnan(observed.precipitation_mm)
    silent = float(expected[~reported].sum())
    if silent <= 0:
        return 1.0
    target = season_fraction * float(expected.sum()) - float(np.nansum(observed.precipitation_mm))
    return max(0.0, target / silent)


def overlay_observed(weather: Weather, observed: ObservedDays, cfg: WeatherConfig, snow: SnowConfig,
                     dates: Sequence[dt.date], season_fraction: float | None = None) -> Weather:
    """The weather with the reported days' figures in place of the draws (module docstring).

    Every replication gets the same reported days; the silent days keep their own draws (their
    precipitation scaled by :func:`silent_precip_scale`).
    """
    temp = weather.temperature_c.copy()
    normal = seasonal_cycle(cfg.monthly_mean_c, dates, cfg.harmonics)
    from_line = snow.rain_snow_threshold_c + cfg.lapse_rate_c_per_km * (observed.snow_line_m - cfg.reference_elevation_m) / 1000.0
    for values in (observed.temperature_c, normal + observed.temperature_anomaly_c, from_line):
        given = ~np.isnan(values)
        temp[:, given] = values[given]
    precip = weather.precipitation_mm.copy()
    reported = ~np.isnan(observed.precipitation_mm)
    precip[:, ~reported] *= silent_precip_scale(cfg, dates, observed, season_fraction)
    precip[:, reported] = observed.precipitation_mm[reported]
    storm = weather.storm.copy()
    told = ~np.isnan(observed.storm)
    storm[:, told] = observed.storm[told] > 0.5
    changes: dict[str, object] = {"temperature_c": temp, "precipitation_mm": precip, "storm": storm}
    if "storm_start" in {f.name for f in dataclasses.fields(weather)}:
        changes["storm_start"] = None  # the storms' first days follow from the storm days again
    return dataclasses.replace(weather, **changes)  # type: ignore[arg-type]
