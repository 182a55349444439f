"""The climate against its sources: each figure of docs/background.md s.12, the model's value, the verdict.

:data:`TARGETS` holds the sourced figures, each with the rule that reads the model's value, the
interval that counts as within, the source and the parameter it calibrated (docs/background.md
s.12). :func:`calibration_table` evaluates them on :class:`~qalamoun_sim.analysis.climate_records.ClimateRecords`;
the verdict is ``within`` when the model's value lies in the target interval, ``outside`` otherwise
(``no data`` where the sample holds none, e.g. no major storm in a short horizon).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .climate_records import TRACK_ELEVATIONS, ClimateRecords

__all__ = ["Target", "TARGETS", "calibration_table", "wilson_interval", "format_calibration"]


@dataclass(frozen=True)
class Target:
    """A sourced figure: what it says, the interval that counts as within, how the model's value is read."""

    figure: str
    target: str
    low: float
    high: float
    source: str
    calibrates: str
    value: Callable[[ClimateRecords], tuple[float, float, float]]   # value, interval low, interval high
    statistic: str


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n``.

    >>> [round(x, 3) for x in wilson_interval(5, 100)]
    [0.022, 0.112]
    """
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    den = 1.0 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def _at(rec: ClimateRecords, name: str, z: float) -> np.ndarray:
    return rec.stacked(name)[:, int(np.searchsorted(rec.elevations_m, z))]


_NONE = (math.nan, math.nan, math.nan)


def _mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    if not v.size:
        return _NONE
    half = 1.96 * v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def _median_spread(values: np.ndarray) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return _NONE
    return float(np.median(v)), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95))


def _quantile_spread(values: np.ndarray, q: float) -> tuple[float, float, float]:
    """The q-quantile, with the 95 % interval of an order statistic (binomial) around it."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    if not n:
        return _NONE
    half = 1.96 * math.sqrt(n * q * (1 - q))
    lo, hi = int(max(0, math.floor(n * q - half))), int(min(n - 1, math.ceil(n * q + half)))
    return float(np.quantile(v, q)), float(v[lo]), float(v[hi])


def _alexa_return_period(rec: ClimateRecords) -> tuple[float, float, float]:
    a = rec.stacked("alexa")
    if not a.size:
        return _NONE
    lo, hi = wilson_interval(int(a.sum()), len(a))
    inv = lambda p: 1.0 / p if p > 0 else math.inf  # noqa: E731
    return inv(float(a.mean())), inv(hi), inv(lo)


def _reopen(z: float) -> Callable[[ClimateRecords], tuple[float, float, float]]:
    i = TRACK_ELEVATIONS.index(z)
    return lambda rec: _median_spread(rec.reopen_after_major()[:, i])


#: The sourced figures of docs/background.md s.12 (with the single-storm depth) the climate is calibrated against.
TARGETS: tuple[Target, ...] = (
    Target("snowfall days at ~700 m (Damascus, 680 m)", "about 2 a year", 1.0, 3.0, "Damascus climate table [S]",
           "orographic_gradient_below_per_km (derived), storm cold anomaly",
           lambda r: _mean_ci(_at(r, "snowfall_days", 700.0)), "mean, 95 % CI"),
    Target("snowfall days at 1300-1600 m (1500 m)", "10-20 a year", 10.0, 20.0, "estimate [E]",
           "annual precipitation at 1500 m, storms per month",
           lambda r: _median_spread(_at(r, "snowfall_days", 1500.0)), "p50 (p05-p95)"),
    Target("snow on the ground at 1300-1600 m (1500 m)", "20-50 days, large spread", 20.0, 50.0,
           "estimate [E]", "melt and densification (sourced, not tuned)",
           lambda r: _median_spread(_at(r, "snow_cover_days", 1500.0)), "p50 (p05-p95)"),
    Target("storm snow line, usually", "1000-1400 m", 1000.0, 1400.0, "Lebanese and Syrian met services [S]",
           "storm_cold_anomaly_c", lambda r: _quantile_spread(r.stacked("snow_lines"), 0.5),
           "p50 of storm days (95 % CI)"),
    Target("storm snow line, strong cold outbreaks", "500-900 m", 500.0, 900.0,
           "Lebanese and Syrian met services [S]", "storm_cold_shape",
           lambda r: _quantile_spread(r.stacked("snow_lines"), 0.05), "p05 of storm days (95 % CI)"),
    Target("an Alexa-size storm", "rare: the worst in about 60 years", 30.0, 120.0,
           "Guardian, 13 Dec 2013; Zawya [S]", "storm_cold_shape, storm_precip_shape",
           _alexa_return_period, "return period, winters (95 % CI)"),
    Target("new snow of one storm at 1300-1600 m (1500 m)", "10-40 cm", 10.0, 40.0, "estimate [E]",
           "storm_precip_mm", lambda r: _median_spread(r.stacked("storm_new_snow")), "p50 of storms (p05-p95)"),
    Target("peak mean SWE, 1200-2500 m", "at or below Mount Lebanon's 73-286 mm", 0.0, 286.0,
           "Fayad & Gascoin 2020 [S]", "none (a check)", lambda r: _median_spread(r.stacked("mean_swe_peak")),
           "p50 (p05-p95)"),
    Target("crest track at 2000 m closed after a major storm", "about 1-3 weeks", 7.0, 21.0,
           "estimate [E]", "track broken_after_days, broken_below_cm", _reopen(2000.0), "p50 days (p05-p95)"),
    Target("crest track at 2100 m closed after a major storm", "about 1-3 weeks", 7.0, 21.0,
           "estimate [E]", "track broken_after_days, broken_below_cm", _reopen(2100.0), "p50 days (p05-p95)"),
)


def calibration_table(rec: ClimateRecords) -> list[dict[str, Any]]:
    """Each target with the model's value, its interval and the verdict (``within`` / ``outside``)."""
    rows = []
    for t in TARGETS:
        value, lo, hi = t.value(rec)
        rows.append({"figure": t.figure, "target": t.target, "target_low": t.low, "target_high": t.high,
                     "statistic": t.statistic, "model": _json_number(value), "model_low": _json_number(lo),
                     "model_high": _json_number(hi), "verdict": _verdict(value, t),
                     "source": t.source, "calibrates": t.calibrates})
    return rows


def _verdict(value: float, target: Target) -> str:
    if math.isnan(value):
        return "no data"
    return "within" if target.low <= value <= target.high else "outside"


def _json_number(x: float) -> float | None:
    return round(float(x), 3) if math.isfinite(x) else None


def _fmt(x: float | None) -> str:
    if x is None:
        return "inf"
    return f"{x:.0f}" if abs(x) >= 20 else f"{x:.1f}"


def format_calibration(rows: list[dict[str, Any]]) -> str:
    """The calibration table as readable text."""
    lines = [f"  {'figure':<64}{'target':<40}{'model':>8}  {'interval':<14}verdict"]
    for r in rows:
        interval = f"{_fmt(r['model_low'])}-{_fmt(r['model_high'])}"
        lines.append(f"  {r['figure']:<64}{r['target']:<40}{_fmt(r['model']):>8}  {interval:<14}{r['verdict']}")
    return "\n".join(lines)
