"""What the climate summary is computed from: per-replication records of the weather and the snow, gathered in blocks.

:func:`climate_records` runs the weather and the snowpack of many replications, ``block`` at a time
(memory flat), at the elevations asked for and those the calibration reads, and keeps, per
replication, the monthly precipitation, snowfall and snow-cover days, peak water equivalent and
depth, the storms and their snow lines, Alexa-size storms, and how long a track cresting at 1800,
2000 and 2100 m stays closed after the season's largest snowfall. :mod:`.climate` summarizes them,
:mod:`.calibration` sets them against the sourced figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..environment.closures import FRESH_SNOW_CM
from ..environment.elevations import SnowAtElevations, compute_snow, surface_open
from ..environment.weather import snow_line_m
from ..scenario import Scenario

__all__ = ["climate_records", "ClimateRecords", "DEFAULT_ELEVATIONS", "TRACK_ELEVATIONS",
           "SNOWFALL_DAY_CM", "SNOW_COVER_CM", "ALEXA_SNOW_LINE_M", "ALEXA_NEW_SNOW_CM", "SWE_BANDS_M",
           "CALIBRATION_ELEVATIONS", "MAJOR_SNOWFALL_CM", "quantiles", "season_largest_snowfall_end", "reopen_days"]

#: The elevations ``climate`` reports by default: Damascus's, the plateau's, the crest tracks', the ridge's.
DEFAULT_ELEVATIONS: tuple[float, ...] = (700.0, 1500.0, 2000.0, 2500.0)
#: Crest elevations of the tracks whose reopening is reported (the Arsal saddles, 1800-2100 m, docs/background.md s.13).
TRACK_ELEVATIONS: tuple[float, ...] = (1800.0, 2000.0, 2100.0)
#: A snowfall day has at least this much new snow (issue 13).
SNOWFALL_DAY_CM = 1.0
#: A snow-cover day has at least this much snow on the ground (issue 13).
SNOW_COVER_CM = 1.0
#: An Alexa-size storm brings the snow line down to 800 m or below (Alexa: ~800 m on 11 Dec, ~750 m on
#: 12 Dec 2013 [S]) and leaves at least 30 cm of new snow at the reference elevation (Alexa: 30-60 cm at
#: 1300-1600 m [E]; docs/background.md s.12).
ALEXA_SNOW_LINE_M = 800.0
ALEXA_NEW_SNOW_CM = 30.0
#: A major storm leaves at least this much new snow on a crest track: the middle of the 40-100+ cm a single
#: storm leaves on the crest above 2000 m (docs/background.md s.2) [E]; "after a major storm, crest tracks stay closed
#: to vehicles about 1-3 weeks" (docs/background.md s.5) is read on the seasons whose largest snowfall was one.
MAJOR_SNOWFALL_CM = 60.0
#: Elevations the calibration reads (docs/background.md s.12): Damascus's ~700 m and the 1300-1600 m band.
CALIBRATION_ELEVATIONS: tuple[float, ...] = (700.0, 1300.0, 1500.0, 1600.0, 2000.0)
#: The bands whose mean water equivalent is set against Mount Lebanon's "mean SWE above 1200 m" (every
#: 100 m from 1200 m to the ridge's 2500 m, docs/background.md s.12-13).
SWE_BANDS_M: tuple[float, ...] = tuple(float(z) for z in range(1200, 2501, 100))

_Q = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
_Q_LINE = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}


def quantiles(values: np.ndarray, which: dict[str, float] = _Q) -> dict[str, float | None]:
    """Quantiles of a sample as a JSON-ready dict (None for an empty sample).

    >>> quantiles(np.arange(101.0))
    {'p05': 5.0, 'p50': 50.0, 'p95': 95.0}
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return {k: (round(float(np.quantile(v, q)), 3) if v.size else None) for k, q in which.items()}


def season_largest_snowfall_end(snowfall_cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, E) the last day of each replication's largest snowfall, and its new snow (cm).

    The largest snowfall is the run of consecutive snowfall days (at least
    :data:`~qalamoun_sim.environment.closures.FRESH_SNOW_CM` each) with the most new snow; -1 and 0 without any.

    >>> end, total = season_largest_snowfall_end(np.array([2.0, 0.0, 5.0, 6.0, 0.0]).reshape(1, 5, 1))
    >>> end.tolist(), total.tolist()
    ([[3]], [[11.0]])
    """
    snowy = snowfall_cm >= FRESH_SNOW_CM                                  # (R, D, E)
    n_rep, n_day, n_el = snowy.shape
    start = snowy & ~np.concatenate([np.zeros((n_rep, 1, n_el), bool), snowy[:, :-1]], axis=1)
    run = np.where(snowy, np.cumsum(start, axis=1), 0)                  # run number within each (rep, elevation)
    out = np.full((n_rep, n_el), -1, dtype=int)
    total = np.zeros((n_rep, n_el))
    for e in range(n_el):
        for r in range(n_rep):
            ids = run[r, :, e]
            if not ids.any():
                continue
            totals = np.bincount(ids, weights=snowfall_cm[r, :, e])
            totals[0] = -1.0
            best = int(np.argmax(totals))
            out[r, e] = int(np.flatnonzero(ids == best)[-1])
            total[r, e] = totals[best]
    return out, total


def reopen_days(is_open: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(R, E) days after ``end`` (a day index, -1 for none) until the route is open again; never: the rest of the horizon.

    >>> reopen_days(np.array([[[True], [False], [False], [True]]]), np.array([[0]])).tolist()
    [[2]]
    """
    n_rep, n_day, n_el = is_open.shape
    out = np.zeros((n_rep, n_el), dtype=int)
    days = np.arange(n_day)
    for e in range(n_el):
        after = days[None, :] > end[:, e:e + 1]                          # (R, D)
        first = np.where(after & is_open[:, :, e], days[None, :], n_day).min(axis=1)
        out[:, e] = np.where(end[:, e] < 0, 0, first - end[:, e] - 1)
    return out


@dataclass
class ClimateRecords:
    """What :func:`climate_records` gathers, per replication (or per storm day / storm), over every block."""

    elevations_m: np.ndarray
    month_keys: list[tuple[int, int]]
    temp_sum: np.ndarray
    temp_days: np.ndarray
    precip: list[np.ndarray] = field(default_factory=list)            # (R, months) per block
    per_elevation: dict[str, list[np.ndarray]] = field(default_factory=dict)
    storms: list[np.ndarray] = field(default_factory=list)
    snow_lines: list[np.ndarray] = field(default_factory=list)
    storm_new_snow: list[np.ndarray] = field(default_factory=list)
    alexa: list[np.ndarray] = field(default_factory=list)
    mean_swe_peak: list[np.ndarray] = field(default_factory=list)
    reopen: list[np.ndarray] = field(default_factory=list)
    largest_snowfall: list[np.ndarray] = field(default_factory=list)

    def reopen_after_major(self) -> np.ndarray:
        """(R, tracks) reopening days, NaN in seasons whose largest snowfall left less than :data:`MAJOR_SNOWFALL_CM`."""
        return np.where(self.stacked("largest_snowfall") >= MAJOR_SNOWFALL_CM, self.stacked("reopen"), np.nan)

    def stacked(self, name: str) -> np.ndarray:
        """The blocks of one record (a field, or a per-elevation record) joined along replications."""
        blocks = self.per_elevation[name] if name in self.per_elevation else getattr(self, name)
        return np.concatenate(blocks, axis=0)


def _storm_records(snow: SnowAtElevations, threshold_c: float, ref: int) -> tuple[np.ndarray, ...]:
    """Storms a season, snow lines of storm days, new snow at the reference per storm that left any, and whether
    each replication had an Alexa-size storm."""
    wx = snow.weather
    starts = wx.storm_starts
    line = snow_line_m(wx, threshold_c)
    ids = (np.cumsum(starts.ravel()) * wx.storm.ravel()).reshape(wx.storm.shape)   # storm number, 0 outside
    n = int(ids.max())
    lowest = np.full(n + 1, np.inf)
    np.minimum.at(lowest, ids[wx.storm], line[wx.storm])
    new_snow = np.bincount(ids[wx.storm], weights=snow.snowfall_cm[..., ref][wx.storm], minlength=n + 1)
    alexa_storm = (lowest <= ALEXA_SNOW_LINE_M) & (new_snow >= ALEXA_NEW_SNOW_CM)
    alexa_storm[0] = False
    rep_of_storm = np.zeros(n + 1, dtype=int)
    rep_of_storm[ids[starts]] = np.nonzero(starts)[0]
    alexa = np.zeros(len(wx.storm), dtype=bool)
    alexa[rep_of_storm[alexa_storm]] = True
    snowy = new_snow[1:] >= SNOWFALL_DAY_CM                           # the storms that left snow there
    return starts.sum(axis=1), line[wx.storm], new_snow[1:][snowy], alexa


def _add_block(rec: ClimateRecords, scenario: Scenario, snow: SnowAtElevations, user: np.ndarray) -> None:
    wx, dates = snow.weather, snow.dates
    month = np.array([rec.month_keys.index((d.year, d.month)) for d in dates])
    for m in range(len(rec.month_keys)):
        sel = month == m
        rec.temp_sum[m] += wx.temperature_c[:, sel].sum()
        rec.temp_days[m] += wx.temperature_c[:, sel].size
    rec.precip.append(np.stack([wx.precipitation_mm[:, month == m].sum(axis=1) for m in range(len(rec.month_keys))],
                               axis=1))
    z = snow.elevations_m
    for name, values in (("snowfall_days", (snow.snowfall_cm >= SNOWFALL_DAY_CM).sum(axis=1)),
                         ("snow_cover_days", (snow.depth_cm >= SNOW_COVER_CM).sum(axis=1)),
                         ("peak_swe_mm", snow.swe_mm.max(axis=1)), ("peak_depth_cm", snow.depth_cm.max(axis=1))):
        rec.per_elevation.setdefault(name, []).append(values[:, np.searchsorted(z, user)])
    ref = int(np.searchsorted(z, scenario.weather.reference_elevation_m))
    count, lines, new_snow, alexa = _storm_records(snow, scenario.snow.rain_snow_threshold_c, ref)
    rec.storms.append(count)
    rec.snow_lines.append(lines)
    rec.storm_new_snow.append(new_snow)
    rec.alexa.append(alexa)
    swe_cols = np.searchsorted(z, np.array(SWE_BANDS_M))
    rec.mean_swe_peak.append(snow.swe_mm[..., swe_cols].mean(axis=-1).max(axis=1))
    tracks = np.searchsorted(z, np.array(TRACK_ELEVATIONS))
    fall, depth = snow.snowfall_cm[..., tracks], snow.depth_cm[..., tracks]
    is_open = surface_open(depth, fall, scenario.snow.limits["track"])
    end, total = season_largest_snowfall_end(fall)
    rec.reopen.append(reopen_days(is_open, end))
    rec.largest_snowfall.append(total)


def climate_records(scenario: Scenario, replications: int, seed: int | None = None,
                    elevations_m: Sequence[float] = DEFAULT_ELEVATIONS, *, block: int = 250,
                    progress: Callable[[int], None] | None = None) -> ClimateRecords:
    """Everything the summary and the calibration need, gathered ``block`` replications at a time.

    Per-elevation records are kept at the elevations asked for and at :data:`CALIBRATION_ELEVATIONS`.
    """
    ref = scenario.weather.reference_elevation_m
    calib = np.array(sorted({float(z) for z in elevations_m} | set(CALIBRATION_ELEVATIONS) | {ref}))
    z = np.array(sorted(set(calib) | set(TRACK_ELEVATIONS) | set(SWE_BANDS_M)))
    keys = sorted({(d.year, d.month) for d in scenario.dates})
    rec = ClimateRecords(elevations_m=calib, month_keys=keys, temp_sum=np.zeros(len(keys)),
                         temp_days=np.zeros(len(keys)))
    for lo in range(0, replications, block):
        reps = range(lo, min(replications, lo + block))
        _add_block(rec, scenario, compute_snow(scenario, reps, seed, z.tolist()), calib)
        if progress is not None:
            progress(len(reps))
    return rec
