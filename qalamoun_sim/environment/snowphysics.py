"""The snowpack's physics, elementwise over any array shape: Snow-17's melt and heat, CLASS's densification.

Every function here takes arrays (one value per replication and band, or any shape) and returns
arrays of that shape; :func:`qalamoun_sim.environment.snowpack.simulate_snowpack` runs them a day
at a time. The constants are those of the sources named beside them, with Snow-17's 6-hourly
figures converted to a daily step (``DT_HOURS = 24``, as the daily implementations of Snow-17 do).

Sources: Anderson, E. A. (2006), *Snow Accumulation and Ablation Model -- SNOW-17*, NWS (the
user's manual; after Anderson 1973, 1976); default parameters of Shamir & Georgakakos (2007) as
carried by the University of Washington's Snow-17 implementation (UW-Hydro tonic); the snow aging
of the Canadian Land Surface Scheme, CLASS (Verseghy 1991; Brown et al. 2006), after Longley (1960),
Gold (1958) and Tabler et al. (1990).

Densification is CLASS's relaxation rather than Anderson's (1976) overburden compaction, and the
melt leaves out Snow-17's rain-on-snow switch: both keep the order of two packs (more snow, or a
colder history, is never shallower), which Anderson's law breaks where a heavier, fresher pack
collapses faster and the switch breaks where a wetter day melts less; the closure rules and the
model's monotone properties rest on that order (docs/background.md s.4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

__all__ = ["DT_HOURS", "HEAT_DEFICIT_CAP", "LATENT_OVER_HEAT", "ICE_DENSITY_KG_M3", "seasonal_melt_factor",
           "antecedent_temperature", "temperature_deficit_change", "melt_mm", "max_density",
           "densify", "pack_temperature_c", "is_melting"]

#: The model's time step in hours (Snow-17's rates are per 6 h or per hour; scaled by this).
DT_HOURS = 24.0
#: Latent heat of fusion over the specific heat of ice, 80 cal/g / 0.5 cal/g/degC: a heat deficit of
#: 1 mm of water refreezes 1 mm, and ``-T x W / 160`` is the deficit of ``W`` mm of ice at ``T`` degC [S].
LATENT_OVER_HEAT = 160.0
#: Snow-17: the heat deficit is capped at a third of the ice water equivalent [S, Anderson 2006].
HEAT_DEFICIT_CAP = 0.33
#: Snow-17 negative melt factor NMF, 0.15 mm/degC per 6 h [S, Shamir & Georgakakos 2007].
NMF_MM_PER_C_6H = 0.15
#: Snow-17 antecedent temperature index weight TIPM per 6 h, 0.1 (Anderson: 0.1-0.2 for deep packs) [S].
TIPM_6H = 0.1
#: Snow-17: a snowfall above 1.5 mm an hour resets the antecedent temperature index [S, Anderson 2006].
ATI_RESET_MM_PER_H = 1.5
#: Heat of rain: specific heat of water over latent heat of fusion, 1/80 = 0.0125 mm melt per mm per degC [S].
MELT_RAIN_HEAT_PER_MM_C = 0.0125
#: Ice, the density no snow can pass (kg/m3).
ICE_DENSITY_KG_M3 = 917.0

#: Tabler et al. (1990) maximum density: ``A - (204.7 / z) (1 - exp(-z / 0.673))``, depth z in m [S, via CLASS].
_TABLER_B = 204.7
_TABLER_Z = 0.673


def seasonal_melt_factor(dates: Sequence[dt.date], mean_mm_per_c_day: float, ratio: float) -> np.ndarray:
    """(D,) Snow-17's seasonal melt factor (mm/degC/day): lowest on 21 December, highest on 21 June.

    ``MF = MFMIN + (MFMAX - MFMIN) x (0.5 sin(2 pi n / N) + 0.5)`` with ``n`` the days since 21 March
    and ``N`` the days of the year (Anderson 2006); ``mean_mm_per_c_day`` is its equinox (and annual
    mean) value ``(MFMAX + MFMIN) / 2`` and ``ratio = MFMIN / MFMAX``.

    Examples
    --------
    >>> import datetime as dt
    >>> [round(float(f), 3) for f in seasonal_melt_factor([dt.date(2013, 12, 21), dt.date(2014, 3, 21),
    ...                                                      dt.date(2014, 6, 21)], 4.0, 0.6)]
    [3.0, 4.0, 5.0]
    """
    mf_max = 2.0 * mean_mm_per_c_day / (1.0 + ratio)
    mf_min = ratio * mf_max
    out = np.empty(len(dates))
    for i, d in enumerate(dates):
        leap = d.year % 4 == 0 and (d.year % 100 != 0 or d.year % 400 == 0)
        n_days = 366 if leap else 365
        since = d.timetuple().tm_yday - (81 if leap else 80)
        out[i] = mf_min + (mf_max - mf_min) * (0.5 * np.sin(2.0 * np.pi * since / n_days) + 0.5)
    return out


def antecedent_temperature(ati: np.ndarray, temp_c: np.ndarray, snowfall_mm: np.ndarray) -> np.ndarray:
    """Snow-17's antecedent temperature index of the pack surface (degC, never above 0).

    It follows the air with weight ``1 - (1 - TIPM)^(DT/6)`` a step, and jumps to the new snow's
    temperature under a heavy snowfall.
    """
    weight = 1.0 - (1.0 - TIPM_6H) ** (DT_HOURS / 6.0)
    new_snow_c = np.minimum(temp_c, 0.0)
    out = np.where(snowfall_mm > ATI_RESET_MM_PER_H * DT_HOURS, new_snow_c, ati + weight * (temp_c - ati))
    return np.minimum(out, 0.0)


def temperature_deficit_change(ati: np.ndarray, temp_c: np.ndarray, melt_factor: float, mf_max: float) -> np.ndarray:
    """Snow-17's change of the heat deficit (mm) from the gradient between pack surface and air.

    ``NMF x (DT/6) x (MF / MFMAX) x (ATI - T_new)``: the pack loses heat when the air is colder than
    its surface index and regains it when warmer.
    """
    scale = melt_factor / mf_max if mf_max > 0 else 0.0
    return NMF_MM_PER_C_6H * (DT_HOURS / 6.0) * scale * (ati - np.minimum(temp_c, 0.0))


def melt_mm(temp_c: np.ndarray, rain_mm: np.ndarray, melt_factor: float, base_c: float) -> np.ndarray:
    """Potential melt (mm of ice) of a day: Snow-17's seasonal degree-day melt and the heat of the rain.

    ``MF x (T - base) + 0.0125 x rain x T`` above the base temperature, 0 at or below it. Snow-17's
    separate rain-on-snow energy balance (above 0.25 mm of rain an hour) is left out: its switch makes a
    warmer, wetter day melt less than a slightly colder, drier one, and a daily model of a dry
    climate has few such days.
    """
    t = np.asarray(temp_c, dtype=float)
    heat = MELT_RAIN_HEAT_PER_MM_C * np.asarray(rain_mm, dtype=float) * np.maximum(t, 0.0)
    return np.where(t > base_c, melt_factor * (t - base_c) + heat, 0.0)


def pack_temperature_c(ice_mm: np.ndarray, deficit_mm: np.ndarray) -> np.ndarray:
    """Mean pack temperature (degC) that a heat deficit implies: ``-160 x deficit / ice`` (0 without ice)."""
    return np.where(ice_mm > 0, -LATENT_OVER_HEAT * deficit_mm / np.where(ice_mm > 0, ice_mm, 1.0), 0.0)


def is_melting(temp_c: np.ndarray, base_c: float) -> np.ndarray:
    """A pack near the melting point (CLASS's regime from -0.01 degC): a day whose air is above the melt base.

    Read from the air rather than the pack's heat deficit or its liquid water, so that a warmer day or
    a lower band is never in the colder regime (the order the model's monotone properties need).
    """
    return np.asarray(temp_c) > base_c


def max_density(depth_cm: np.ndarray, melting: np.ndarray, cold_kg_m3: float, melting_kg_m3: float) -> np.ndarray:
    """The density a pack of this depth settles toward (Tabler et al. 1990, as CLASS uses it).

    ``A - (204.7 / z) (1 - exp(-z / 0.673))`` with ``z`` the depth in m and ``A`` = 450 kg/m3 for a
    cold pack, 700 near the melting point (Brown et al. 2006): deep packs settle denser, wet ones
    much denser.

    Examples
    --------
    >>> [round(float(max_density(np.array(z), np.array(False), 450.0, 700.0))) for z in (30.0, 100.0, 200.0)]
    [205, 292, 353]
    """
    z = np.maximum(np.asarray(depth_cm, dtype=float) / 100.0, 1e-6)
    a = np.where(melting, melting_kg_m3, cold_kg_m3)
    return a - (_TABLER_B / z) * (-np.expm1(-z / _TABLER_Z))


def densify(density_kg_m3: np.ndarray, target_kg_m3: np.ndarray, settling_days: float) -> np.ndarray:
    """One day of CLASS's aging: ``rho' = (rho - rho_max) exp(-1 / tau) + rho_max``, never lighter, never ice.

    CLASS's ``exp(-0.01 dt / 3600 s)`` is a time constant of 100 h, 4.2 days (Longley 1960, Gold 1958).
    """
    rho = np.asarray(density_kg_m3, dtype=float)
    relaxed = (rho - target_kg_m3) * np.exp(-1.0 / settling_days) + target_kg_m3
    return np.minimum(np.maximum(rho, relaxed), ICE_DENSITY_KG_M3)
