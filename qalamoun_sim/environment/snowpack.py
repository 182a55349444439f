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
from typing import Protocol

import numpy as np

from ..scenario import SnowConfig, WeatherConfig
from . import snowphysics as sp
from .weather import Weather

__all__ = ["Snowpack", "FIELDS", "DaySink", "band_elevations", "band_weights", "snow_fraction", "orographic_factor",
           "simulate_snowpack", "pack_series"]


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


class DaySink(Protocol):
    """What reads the pack as it is computed: :func:`pack_series` calls :meth:`start` before each chunk of
    replications and :meth:`day` at the end of each of its days."""

    def start(self, rows: slice) -> None:
        """A chunk of replications begins (their indices in the block)."""

    def day(self, rows: slice, d: int, depth_cm: np.ndarray, snowfall_cm: np.ndarray) -> None:
        """Day ``d`` of replications ``rows``: depth and fresh snow per band, (r, B), valid during the call."""


def band_weights(bands_m: np.ndarray, elevations_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each elevation, the bands below and above it and the weight of the upper one: a value there is
    ``v[lo] (1 - w) + v[hi] w``. Elevations outside the bands take the nearest band's value.

    >>> [a.tolist() for a in band_weights(np.array([1000.0, 1100.0, 1200.0]), np.array([1150.0, 900.0]))]
    [[1, 0], [2, 1], [0.5, 0.0]]
    """
    z = np.clip(np.asarray(elevations_m, dtype=float), bands_m[0], bands_m[-1])
    hi = np.clip(np.searchsorted(bands_m, z, side="left"), 1, len(bands_m) - 1)
    lo = hi - 1
    return lo, hi, (z - bands_m[lo]) / (bands_m[hi] - bands_m[lo])


#: The series a pack can record, by :class:`Snowpack` field.
FIELDS: tuple[str, ...] = ("depth_cm", "swe_mm", "snowfall_mm", "snowfall_cm", "melt_mm", "liquid_mm", "refreeze_mm",
                           "rain_on_snow_mm", "runoff_mm")


#: Cells (days x replications x bands) whose inputs :class:`_Day` computes at once: a block of days of a small
#: chunk makes fewer numpy calls; a block of a large one would leave the cache (at most :data:`BLOCK_DAYS` days).
BLOCK_CELLS = 2**15
BLOCK_DAYS = 16


def days_per_block(cells_per_day: int, n_days: int, block_cells: int) -> int:
    """How many days a block of at most ``block_cells`` cells holds (at least one, at most
    :data:`BLOCK_DAYS` and ``n_days``).

    >>> days_per_block(1000, 181, 2**15), days_per_block(10**6, 181, 2**15), days_per_block(10, 5, 2**15)
    (16, 1, 5)
    """
    return min(BLOCK_DAYS, max(1, block_cells // max(1, cells_per_day)), max(1, n_days))


class _Day:
    """One day's inputs for a chunk of replications and every band, ``(r, B)`` views of buffers that hold
    a few days (:data:`BLOCK_CELLS`), filled a block at a time as :func:`.weather.temperature_at`,
    :func:`orographic_factor` and :func:`snow_fraction` compute them (elementwise: a block gives each day
    the same bits as a day alone)."""

    def __init__(self, weather: Weather, rows: slice, wcfg: WeatherConfig, scfg: SnowConfig, bands_m: np.ndarray) -> None:
        # by day, so that each day's column is contiguous
        self.temperature = np.ascontiguousarray(weather.temperature_c[rows].T)
        self.precipitation = np.ascontiguousarray(weather.precipitation_mm[rows].T)
        days = days_per_block(self.temperature.shape[1] * len(bands_m), len(self.temperature), BLOCK_CELLS)
        shape = (days, self.temperature.shape[1], len(bands_m))
        self.cooling = weather.lapse_rate_c_per_km * ((np.asarray(bands_m, dtype=float) - weather.reference_elevation_m)
                                                      / 1000.0)
        self.gain = orographic_factor(wcfg, bands_m)
        self.scfg = scfg
        self._floats = tuple(np.empty(shape) for _ in range(7))
        self._bools = (np.empty(shape, dtype=bool), np.empty(shape, dtype=bool))
        self._first = -len(self._floats[0])  # the first day the buffers hold

    def fill(self, d: int) -> None:
        """The day's views (``temp``, ``snowfall``, ``rain``, ``cold``, ``new_depth``, ``cold_snow``, ``max_a``,
        ``reset``, ``melting``) for day ``d``; a day after the block held computes the next block."""
        held = len(self._floats[0])
        if not self._first <= d < self._first + held:
            self._first = d
            self._fill_block(d, min(d + held, len(self.temperature)))
        i = d - self._first
        self.temp, self.snowfall, self.rain, self.cold, self.new_depth, self.cold_snow, self.max_a = (
            a[i] for a in self._floats)
        self.reset, self.melting = (a[i] for a in self._bools)

    def _fill_block(self, first: int, stop: int) -> None:
        """The buffers' first ``stop - first`` days: days ``first`` .. ``stop - 1``."""
        c, n = self.scfg, stop - first
        temp, snowfall, rain, cold, new_depth, cold_snow, max_a = (a[:n] for a in self._floats)
        reset, melting = (a[:n] for a in self._bools)
        np.subtract(self.temperature[first:stop, :, None], self.cooling, out=temp)
        np.multiply(self.precipitation[first:stop, :, None], self.gain, out=rain)        # precipitation, for now
        if c.mix_range_c <= 0:
            np.less(temp, c.rain_snow_threshold_c, out=reset)
            np.multiply(rain, reset, out=snowfall)                                      # precip x (t < threshold)
        else:                                                                            # clip((T0 + m/2 - t) / m, 0, 1)
            np.subtract(c.rain_snow_threshold_c + c.mix_range_c / 2.0, temp, out=snowfall)
            np.divide(snowfall, c.mix_range_c, out=snowfall)
            np.maximum(snowfall, 0.0, out=snowfall)
            np.minimum(snowfall, 1.0, out=snowfall)
            np.multiply(rain, snowfall, out=snowfall)
        np.subtract(rain, snowfall, out=rain)
        np.minimum(temp, 0.0, out=cold)                                                 # the new snow's temperature
        np.multiply(snowfall, 100.0, out=new_depth)
        np.divide(new_depth, c.new_snow_density_kg_m3, out=new_depth)
        np.multiply(cold, snowfall, out=cold_snow)                                      # the heat deficit it brings
        np.divide(cold_snow, sp.LATENT_OVER_HEAT, out=cold_snow)
        np.greater(snowfall, sp.ATI_RESET_MM_PER_H * sp.DT_HOURS, out=reset)            # a heavy snowfall resets ATI
        np.greater(temp, c.melt_base_c, out=melting)                                    # sp.is_melting, and melt
        max_a[...] = np.where(melting, c.max_density_melting_kg_m3, c.max_density_cold_kg_m3)


def _run(weather: Weather, rows: slice, wcfg: WeatherConfig, scfg: SnowConfig, bands_m: np.ndarray, mf: np.ndarray,
         mf_max: float, out: dict[str, np.ndarray], sink: DaySink | None) -> None:
    """The pack of replications ``rows`` day by day, every band; each series in ``out`` (R, D, B) filled there.

    Each day is the sequence of docs/background.md s.4 as the functions of :mod:`.snowphysics` state it,
    the same operations in their order on the same operands (so the same bits: tests/test_state_fast.py
    runs those functions beside it), written into buffers so that a day allocates nothing. Their
    ``where`` calls become products with a mask, or sums with one, wherever the two agree: ice, depth,
    heat deficit, rain and melt are never negative and never -0, and a band without ice has no depth.
    """
    f = _Day(weather, rows, wcfg, scfg, bands_m)
    shape = f.temperature.shape[1:] + (len(bands_m),)
    ice, liquid, deficit, ati, depth = (np.zeros(shape) for _ in range(5))
    has, keep = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)
    melt, rain_on, water, t1, t2, t3 = (np.empty(shape) for _ in range(6))
    weight = 1.0 - (1.0 - sp.TIPM_6H) ** (sp.DT_HOURS / 6.0)
    relax = np.exp(-1.0 / scfg.settling_days)
    fluxes = any(k != "depth_cm" for k in out)
    if sink is not None:
        sink.start(rows)
    for d in range(len(mf)):
        f.fill(d)
        temp, cold = f.temp, f.cold
        np.add(ice, f.snowfall, out=ice)
        np.add(depth, f.new_depth, out=depth)
        np.greater(ice, 0.0, out=has)
        np.multiply(f.rain, has, out=rain_on)                    # where(has, rain, 0)
        # antecedent temperature index: where(reset, min(T, 0), ati + w (T - ati)), never above 0
        np.subtract(temp, ati, out=t1)
        np.multiply(t1, weight, out=t1)
        np.add(ati, t1, out=t1)
        if f.reset.any():
            np.copyto(t1, cold, where=f.reset)
        np.minimum(t1, 0.0, out=ati)
        # heat deficit: - min(T, 0) S / 160 + NMF (DT/6) (MF / MFMAX) (ATI - min(T, 0)), within [0, 0.33 ice]
        scale = float(mf[d]) / mf_max if mf_max > 0 else 0.0
        np.subtract(deficit, f.cold_snow, out=deficit)
        np.subtract(ati, cold, out=t1)
        np.multiply(t1, sp.NMF_MM_PER_C_6H * (sp.DT_HOURS / 6.0) * scale, out=t1)
        np.add(deficit, t1, out=deficit)
        np.multiply(ice, sp.HEAT_DEFICIT_CAP, out=t2)
        np.maximum(deficit, 0.0, out=deficit)                    # np.clip(deficit, 0, 0.33 ice)
        np.minimum(deficit, t2, out=deficit)
        # melt: where(T > base, MF (T - base) + 0.0125 rain max(T, 0), 0) on the pack, at most the ice
        np.multiply(rain_on, sp.MELT_RAIN_HEAT_PER_MM_C, out=t1)
        np.maximum(temp, 0.0, out=t2)
        np.multiply(t1, t2, out=t1)
        np.subtract(temp, scfg.melt_base_c, out=melt)
        np.multiply(melt, float(mf[d]), out=melt)
        np.add(melt, t1, out=melt)
        np.multiply(melt, f.melting, out=melt)
        np.add(melt, 0.0, out=melt)                              # -0 (a product with 0) is 0
        np.minimum(melt, ice, out=melt)                          # off the pack the ice, 0, is the minimum
        np.subtract(ice, melt, out=t3)                           # the ice left, never negative
        np.multiply(depth, t3, out=depth)                        # where(left > 0, depth left / where(has, ice, 1), 0)
        np.logical_not(has, out=keep)
        np.add(ice, keep, out=t1)
        np.divide(depth, t1, out=depth)
        ice, t3 = t3, ice
        np.greater(ice, 0.0, out=keep)
        np.multiply(deficit, keep, out=deficit)                  # where(left > 0, deficit, 0)
        # liquid water refreezes against the deficit (ice, not depth), then is held up to a fraction of the ice
        np.add(liquid, melt, out=water)
        np.add(water, rain_on, out=water)
        refreeze = np.minimum(water, deficit, out=t1)
        np.add(ice, refreeze, out=ice)
        np.subtract(deficit, refreeze, out=deficit)
        np.subtract(water, refreeze, out=water)
        np.multiply(ice, scfg.liquid_water_capacity, out=t2)
        np.minimum(water, t2, out=liquid)
        if fluxes:
            _record(out, rows, d, swe=(ice, liquid), melt=melt, liquid=liquid, refreeze=refreeze, rain_on=rain_on,
                    runoff=(water, liquid), snowfall_mm=f.snowfall, snowfall_cm=f.new_depth)
        _densify(ice, depth, f.max_a, relax, has, t2, t3, melt)
        _record(out, rows, d, depth=depth)
        if sink is not None:
            sink.day(rows, d, depth, f.new_depth)


def _densify(ice: np.ndarray, depth: np.ndarray, max_a: np.ndarray, relax: float, bare: np.ndarray,
             rho: np.ndarray, t: np.ndarray, hundred_ice: np.ndarray) -> None:
    """CLASS's aging of the pack at the end of the day (:func:`.snowphysics.max_density`, :func:`.snowphysics.densify`)
    on ``depth`` in place; the other arrays after ``relax`` are scratch. A band without ice has no depth."""
    np.less_equal(ice, 0.0, out=bare)
    np.add(depth, bare, out=t)                                   # where(has, depth, 1)
    np.multiply(ice, 100.0, out=hundred_ice)
    np.divide(hundred_ice, t, out=rho)
    np.add(rho, bare, out=rho)                                   # where(has, 100 ice / depth, 1)
    # Tabler's maximum density on the depth z (m): A - (204.7 / z) (1 - exp(-z / 0.673))
    z = depth
    np.divide(depth, 100.0, out=z)
    np.maximum(z, 1e-6, out=z)
    np.divide(z, -sp._TABLER_Z, out=t)                           # -z / 0.673, exactly
    np.expm1(t, out=t)
    np.divide(sp._TABLER_B, z, out=z)
    np.multiply(z, t, out=t)
    np.add(max_a, t, out=t)                                      # A - (B / z) (-expm1), exactly: the target
    # rho' = max(rho, (rho - target) exp(-1 / tau) + target), at most ice
    relaxed = depth
    np.subtract(rho, t, out=relaxed)
    np.multiply(relaxed, relax, out=relaxed)
    np.add(relaxed, t, out=relaxed)
    np.maximum(rho, relaxed, out=rho)
    np.minimum(rho, sp.ICE_DENSITY_KG_M3, out=rho)
    np.divide(hundred_ice, rho, out=depth)                       # where(has, 100 ice / rho, 0)


def _record(out: dict[str, np.ndarray], rows: slice, d: int, **series: np.ndarray | tuple[np.ndarray, np.ndarray]) -> None:
    """Store day ``d`` of the recorded series (a pair is a sum, swe, or a difference, runoff)."""
    for key, value in series.items():
        name = _NAMES.get(key, key)
        if name not in out:
            continue
        if isinstance(value, tuple):
            (np.add if key == "swe" else np.subtract)(*value, out=out[name][rows, d])
        else:
            out[name][rows, d] = value


_NAMES = {"depth": "depth_cm", "swe": "swe_mm", "melt": "melt_mm", "liquid": "liquid_mm", "refreeze": "refreeze_mm",
          "rain_on": "rain_on_snow_mm", "runoff": "runoff_mm"}


#: Replications x bands a pass of the pack holds (about 16 arrays of this many floats stay in a core's cache).
CHUNK_CELLS = 8192


def pack_series(weather: Weather, wcfg: WeatherConfig, scfg: SnowConfig, bands_m: np.ndarray,
                dates: Sequence[dt.date] | None = None, fields: Sequence[str] = FIELDS,
                sink: DaySink | None = None) -> dict[str, np.ndarray]:
    """Some of the :class:`Snowpack` series, (R, D, B) each, without computing or holding the others;
    ``sink`` reads each day as it is computed (``compute_state`` turns it into route closures there).
    Arguments as :func:`simulate_snowpack`.

    Replications go a few hundred at a time (:data:`CHUNK_CELLS`): each is its own pack, so the chunks
    change no number.
    """
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ValueError(f"unknown snowpack series '{unknown[0]}' (choose from {', '.join(FIELDS)})")
    n_rep, n_day = weather.temperature_c.shape
    mean, ratio = scfg.melt_factor_mm_per_c_day, scfg.melt_factor_seasonal_ratio
    mf = sp.seasonal_melt_factor(dates, mean, ratio) if dates is not None else np.full(n_day, mean)
    mf_max = 2.0 * mean / (1.0 + ratio) if dates is not None else mean
    out = {k: np.empty((n_rep, n_day, len(bands_m))) for k in fields}
    step = max(1, CHUNK_CELLS // max(1, len(bands_m)))
    for lo in range(0, n_rep, step):
        _run(weather, slice(lo, min(n_rep, lo + step)), wcfg, scfg, bands_m, mf, mf_max, out, sink)
    return out


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
    return Snowpack(**pack_series(weather, wcfg, scfg, bands_m, dates))
