"""The snowpack per elevation band: accumulation, degree-day melt, settling, conservation of water.

Weather objects are built by hand (constant temperature, chosen precipitation) and fed to
``simulate_snowpack`` so each figure can be worked out on paper.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from qalamoun_sim import load_scenario
from qalamoun_sim.environment import Weather, band_elevations, simulate_snowpack, simulate_weather
from qalamoun_sim.environment.state import STREAM_WEATHER, compute_state, replication_rng
from qalamoun_sim.scenario import SnowConfig, WeatherConfig

REF = 1500.0
ONE_BAND = np.array([REF])


def hand_weather(temperature_c: float | np.ndarray, precipitation_mm: np.ndarray) -> Weather:
    """Weather at the reference elevation for one or more replications, shapes (R, D)."""
    p = np.atleast_2d(np.asarray(precipitation_mm, dtype=float))
    t = np.broadcast_to(np.asarray(temperature_c, dtype=float), p.shape).copy()
    return Weather(temperature_c=t, precipitation_mm=p, storm=np.zeros(p.shape, bool),
                   reference_elevation_m=REF, lapse_rate_c_per_km=5.5)


def flat_climate() -> WeatherConfig:
    """No orographic gain: every band gets the reference precipitation."""
    return WeatherConfig(reference_elevation_m=REF, orographic_gradient_per_km=0.0)


def layered_depth(snowfall_mm: np.ndarray, melt_mm: np.ndarray, cfg: SnowConfig) -> np.ndarray:
    """Reference depth (cm) of one band: new snow adds its own depth on top of the pack.

    Depth is volume: after a snowfall the pack is the old pack plus a fresh layer of
    ``snowfall / new density``; melt takes water at the bulk density; the bulk density then relaxes
    toward the settled density with the settling time constant (the documented model of weather.py).
    """
    relax = 1.0 - math.exp(-1.0 / cfg.settling_days)
    rho_new, rho_old = cfg.new_snow_density_kg_m3, cfg.settled_density_kg_m3
    swe, vol, out = 0.0, 0.0, []
    for fall, melt in zip(snowfall_mm, melt_mm, strict=True):
        swe, vol = swe + fall, vol + fall / rho_new
        if swe > 0:
            rho = swe / vol
            swe = swe - melt
            if swe > 1e-12:
                rho = rho + (rho_old - rho) * relax
                vol = swe / rho
            else:
                swe, vol = 0.0, 0.0
        out.append(100.0 * vol)
    return np.array(out)


# ----------------------------------------------------------------------------- accumulation
def test_constant_cold_snowfall_grows_swe_and_depth_linearly_at_one_density() -> None:
    # new and settled snow have the same density, so depth = 100 * SWE / density exactly
    scfg = SnowConfig(new_snow_density_kg_m3=250, settled_density_kg_m3=250)
    days = 60
    pack = simulate_snowpack(hand_weather(-5.0, np.full(days, 4.0)), flat_climate(), scfg, ONE_BAND)
    swe, depth = pack.swe_mm[0, :, 0], pack.depth_cm[0, :, 0]
    np.testing.assert_allclose(swe, 4.0 * np.arange(1, days + 1), rtol=1e-12)
    np.testing.assert_allclose(depth, 100.0 * swe / 250.0, rtol=1e-12)
    np.testing.assert_allclose(np.diff(depth), 100.0 * 4.0 / 250.0, rtol=1e-9)
    assert not pack.melt_mm.any()
    np.testing.assert_allclose(pack.snowfall_cm, 100.0 * 4.0 / 250.0)


def test_constant_cold_snowfall_with_settling_grows_swe_linearly_and_depth_within_the_densities() -> None:
    scfg = SnowConfig(new_snow_density_kg_m3=100, settled_density_kg_m3=300, settling_days=7)
    days = 90
    pack = simulate_snowpack(hand_weather(-5.0, np.full(days, 3.0)), flat_climate(), scfg, ONE_BAND)
    swe, depth = pack.swe_mm[0, :, 0], pack.depth_cm[0, :, 0]
    np.testing.assert_allclose(swe, 3.0 * np.arange(1, days + 1), rtol=1e-12)
    density = 100.0 * swe / depth                         # the bulk density the depth implies
    assert (density >= 100.0 - 1e-9).all() and (density <= 300.0 + 1e-9).all()
    assert (np.diff(density) >= -1e-9).all(), "the pack only gets denser in a cold spell"
    assert (np.diff(depth) > 0).all(), "a snowfall every day and no melt: the snow only gets deeper"


def test_constant_cold_snowfall_with_settling_matches_the_layered_depth() -> None:
    scfg = SnowConfig(new_snow_density_kg_m3=100, settled_density_kg_m3=300, settling_days=7)
    days = 90
    pack = simulate_snowpack(hand_weather(-5.0, np.full(days, 3.0)), flat_climate(), scfg, ONE_BAND)
    expected = layered_depth(pack.snowfall_mm[0, :, 0], pack.melt_mm[0, :, 0], scfg)
    np.testing.assert_allclose(pack.depth_cm[0, :, 0], expected, rtol=1e-9)


def test_new_snow_on_a_settled_pack_adds_its_own_depth() -> None:
    # 30 mm on day 0, a month of cold settling, then 30 mm (30 cm of new snow) on day 30
    scfg = SnowConfig(new_snow_density_kg_m3=100, settled_density_kg_m3=300, settling_days=5)
    precip = np.zeros(40)
    precip[0] = precip[30] = 30.0
    pack = simulate_snowpack(hand_weather(-10.0, precip), flat_climate(), scfg, ONE_BAND)
    depth = pack.depth_cm[0, :, 0]
    relax = 1.0 - math.exp(-1.0 / scfg.settling_days)
    # before the second fall the pack is ~10 cm; the new 30 cm settle for one day at most by `relax`
    assert depth[29] == pytest.approx(10.0, abs=0.1)
    assert depth[30] >= depth[29] + 30.0 * (1.0 - relax) * 100.0 / (100.0 + 200.0 * relax)
    np.testing.assert_allclose(depth, layered_depth(pack.snowfall_mm[0, :, 0], pack.melt_mm[0, :, 0], scfg),
                               rtol=1e-9)


def test_rain_adds_no_snow() -> None:
    pack = simulate_snowpack(hand_weather(10.0, np.full(20, 15.0)), flat_climate(), SnowConfig(), ONE_BAND)
    assert not pack.swe_mm.any() and not pack.depth_cm.any() and not pack.snowfall_mm.any()


def test_snowfall_is_precipitation_times_snow_fraction_and_orographic_gain() -> None:
    wcfg = WeatherConfig(reference_elevation_m=REF, orographic_gradient_per_km=1.0)
    bands = np.array([REF, 2500.0])
    # 1.5 degC at the reference: half snow there (the 50 % threshold); -4 degC at 2500 m: all snow, x2
    pack = simulate_snowpack(hand_weather(1.5, np.full(3, 10.0)), wcfg, SnowConfig(), bands)
    np.testing.assert_allclose(pack.snowfall_mm[0, :, 0], 5.0)
    np.testing.assert_allclose(pack.snowfall_mm[0, :, 1], 20.0)
    np.testing.assert_allclose(pack.snowfall_cm, 100.0 * pack.snowfall_mm / 100.0)


# ----------------------------------------------------------------------------- melt
@pytest.mark.parametrize(("temp", "factor", "base"), [(2.5, 4.0, 0.0), (4.0, 3.0, 1.0), (6.0, 5.0, 2.0)])
def test_warm_days_melt_at_the_degree_day_rate_until_gone(temp: float, factor: float, base: float) -> None:
    scfg = SnowConfig(melt_factor_mm_per_c_day=factor, melt_base_c=base)
    days = 30
    t = np.full(days, temp)
    t[0] = -10.0                                   # one cold day with 100 mm of snow
    precip = np.zeros(days)
    precip[0] = 100.0
    pack = simulate_snowpack(hand_weather(t, precip), flat_climate(), scfg, ONE_BAND)
    rate = factor * (temp - base)
    expected = np.maximum(100.0 - rate * np.arange(days), 0.0)
    np.testing.assert_allclose(pack.swe_mm[0, :, 0], expected, atol=1e-9)
    melt = pack.melt_mm[0, :, 0]
    assert melt[0] == 0.0
    np.testing.assert_allclose(melt[1:], np.diff(-expected), atol=1e-9)
    assert melt.max() <= rate + 1e-9
    gone = expected == 0
    assert (pack.depth_cm[0, gone, 0] == 0).all() and (pack.depth_cm[0, ~gone, 0] > 0).all()


def test_no_melt_at_or_below_the_base_temperature() -> None:
    scfg = SnowConfig(melt_base_c=0.0)
    t = np.array([-10.0, 0.0, -1.0, 0.0])
    pack = simulate_snowpack(hand_weather(t, np.array([20.0, 0, 0, 0])), flat_climate(), scfg, ONE_BAND)
    assert not pack.melt_mm.any()
    np.testing.assert_allclose(pack.swe_mm[0, :, 0], 20.0)


# ----------------------------------------------------------------------------- conservation and order
def _random_pack(n: int = 20, days: int = 181) -> tuple[Weather, object, np.ndarray]:
    scn = load_scenario()
    dates = [scn.scenario.start + dt.timedelta(days=i) for i in range(days)]
    wx = simulate_weather(scn.weather, dates, [replication_rng(4, r, STREAM_WEATHER) for r in range(n)])
    bands = band_elevations(scn.weather)
    return wx, simulate_snowpack(wx, scn.weather, scn.snow, bands), bands


def test_snow_water_is_conserved_on_random_weather() -> None:
    _, pack, _ = _random_pack()
    fallen = np.cumsum(pack.snowfall_mm, axis=1)
    melted = np.cumsum(pack.melt_mm, axis=1)
    assert fallen[..., -1].max() > 100.0, "the test needs real snow"
    np.testing.assert_allclose(fallen, melted + pack.swe_mm, atol=1e-8, rtol=1e-12)


def test_pack_is_never_negative_and_depth_is_zero_exactly_without_water() -> None:
    _, pack, _ = _random_pack()
    assert (pack.swe_mm >= 0).all() and (pack.depth_cm >= 0).all() and (pack.melt_mm >= 0).all()
    assert ((pack.depth_cm > 0) == (pack.swe_mm > 0)).all()


def test_bulk_density_stays_between_new_and_settled_snow() -> None:
    _, pack, _ = _random_pack()
    snow = pack.swe_mm > 1e-9
    rho = 100.0 * pack.swe_mm[snow] / pack.depth_cm[snow]
    assert rho.min() >= 100.0 - 1e-6 and rho.max() <= 300.0 + 1e-6


def test_snow_water_never_decreases_with_elevation() -> None:
    _, pack, bands = _random_pack()
    assert (np.diff(bands) > 0).all()
    assert (np.diff(pack.swe_mm, axis=-1) >= -1e-9).all()
    assert (np.diff(pack.depth_cm, axis=-1) >= -1e-9).all()


def test_crest_holds_more_snow_than_the_towns_in_the_reference_winter() -> None:
    # domain.md s.3: 10-40 cm storms at 1300-1600 m, 40-100+ cm on the crest above 2000 m
    _, pack, bands = _random_pack(n=50)
    low, crest = int(np.searchsorted(bands, 1400.0)), int(np.searchsorted(bands, 2100.0))
    assert pack.depth_cm[..., crest].max(axis=1).mean() > 2 * pack.depth_cm[..., low].max(axis=1).mean()


def test_warmer_climate_never_deepens_the_snow_on_any_day() -> None:
    scn = load_scenario()
    warm = scn.with_updates({"weather.monthly_mean_c": [m + 0.5 for m in scn.weather.monthly_mean_c]})
    a, b = compute_state(scn, 100, seed=3), compute_state(warm, 100, seed=3)
    assert (b.band_depth_cm <= a.band_depth_cm + 1e-9).all()
