"""The climate a scenario produces, beside what it was given (issue 13).

:func:`climate_summary` reports, at the reference elevation, the simulated monthly means and totals
against the inputs; at each elevation asked for, the snowfall days (at least :data:`SNOWFALL_DAY_CM`
of new snow), the snow-cover days (at least :data:`SNOW_COVER_CM` on the ground), the peak water
equivalent and depth; the storms (how many a season, their snow lines, how often an Alexa-size
storm comes); how long a track cresting at 1800, 2000 and 2100 m stays closed after the season's
largest snowfall; and (``calibrate``) each sourced figure of docs/background.md s.12 beside the
model's value (:mod:`.calibration`). The records come from :mod:`.climate_records`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..scenario import Scenario
from .calibration import calibration_table
from .climate_records import (
    _Q_LINE,
    ALEXA_NEW_SNOW_CM,
    ALEXA_SNOW_LINE_M,
    DEFAULT_ELEVATIONS,
    MAJOR_SNOWFALL_CM,
    SNOW_COVER_CM,
    SNOWFALL_DAY_CM,
    TRACK_ELEVATIONS,
    ClimateRecords,
    climate_records,
    quantiles,
)

__all__ = ["climate_summary", "summary_from_records", "DEFAULT_ELEVATIONS", "TRACK_ELEVATIONS", "SNOWFALL_DAY_CM",
           "SNOW_COVER_CM", "ALEXA_SNOW_LINE_M", "ALEXA_NEW_SNOW_CM", "MAJOR_SNOWFALL_CM"]


def _monthly(rec: ClimateRecords, scenario: Scenario) -> dict[str, list[Any]]:
    cfg = scenario.weather
    covered = {k: 0 for k in rec.month_keys}
    for d in scenario.dates:
        covered[(d.year, d.month)] += 1
    precip = rec.stacked("precip").mean(axis=0)
    return {"month": [f"{y}-{m:02d}" for y, m in rec.month_keys],
            "days": [covered[k] for k in rec.month_keys],
            "mean_c_input": [cfg.monthly_mean_c[m - 1] for _, m in rec.month_keys],
            "mean_c_simulated": [round(float(s / n), 3) for s, n in zip(rec.temp_sum, rec.temp_days, strict=True)],
            "precip_mm_input": [round(cfg.monthly_precip_mm[m - 1] * covered[(y, m)] / calendar.monthrange(y, m)[1], 3)
                                for y, m in rec.month_keys],
            "precip_mm_simulated": [round(float(p), 3) for p in precip]}


def summary_from_records(rec: ClimateRecords, scenario: Scenario, seed: int,
                         elevations_m: Sequence[float]) -> dict[str, Any]:
    """The JSON-ready summary (keys of issue 13, and a few more) from gathered records."""
    z = rec.elevations_m
    elevations = {}
    for e in sorted({float(x) for x in elevations_m}):
        col = int(np.searchsorted(z, e))
        entry: dict[str, Any] = {name: quantiles(rec.stacked(name)[:, col]) for name in rec.per_elevation}
        entry["snowfall_days_mean"] = round(float(rec.stacked("snowfall_days")[:, col].mean()), 3)
        elevations[f"{e:g}"] = entry
    alexa = rec.stacked("alexa")
    storms = {"per_season": quantiles(rec.stacked("storms")),
              "per_season_mean": round(float(rec.stacked("storms").mean()), 3),
              "snow_line_m": quantiles(rec.stacked("snow_lines"), _Q_LINE),
              "new_snow_cm_at_reference": quantiles(rec.stacked("storm_new_snow")),
              "alexa_size_fraction": round(float(alexa.mean()), 6),
              "alexa_size_definition": f"snow line at or below {ALEXA_SNOW_LINE_M:g} m and at least "
                                       f"{ALEXA_NEW_SNOW_CM:g} cm of new snow at the reference elevation"}
    reopen, major = rec.stacked("reopen"), rec.reopen_after_major()
    return {"scenario": scenario.scenario.name, "seed": seed, "replications": int(len(alexa)),
            "reference_elevation_m": scenario.weather.reference_elevation_m,
            "monthly": _monthly(rec, scenario), "elevations": elevations, "storms": storms,
            "track_reopen_days": {f"{t:g}": quantiles(reopen[:, i]) for i, t in enumerate(TRACK_ELEVATIONS)},
            "track_reopen_days_after_major": {f"{t:g}": quantiles(major[:, i]) for i, t in enumerate(TRACK_ELEVATIONS)},
            "major_snowfall_cm": MAJOR_SNOWFALL_CM,
            "peak_mean_swe_1200_2500_mm": quantiles(rec.stacked("mean_swe_peak"))}


def climate_summary(scenario: Scenario, replications: int | None = None, seed: int | None = None,
                    elevations_m: Sequence[float] = DEFAULT_ELEVATIONS, *, calibrate: bool = True,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The climate a scenario produces, beside its inputs, as a JSON-ready dict.

    Parameters
    ----------
    scenario : Scenario
    replications : int, optional
        Default the scenario's.
    seed : int, optional
        Default the scenario's.
    elevations_m : sequence of float
        Where to report snowfall, snow cover, peak water equivalent and depth.
    calibrate : bool
        Add ``calibration``: each sourced figure of docs/background.md s.12, the model's value, the verdict.

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> s = climate_summary(load_scenario(), replications=4, seed=1, elevations_m=[1500])
    >>> sorted(s["elevations"]["1500"])[:2], len(s["monthly"]["month"])
    (['peak_depth_cm', 'peak_swe_mm'], 6)
    """
    n = replications or scenario.scenario.replications
    seed = scenario.scenario.seed if seed is None else int(seed)
    rec = climate_records(scenario, n, seed, elevations_m, progress=progress)
    out = summary_from_records(rec, scenario, seed, elevations_m)
    if calibrate:
        out["calibration"] = calibration_table(rec)
    return out
