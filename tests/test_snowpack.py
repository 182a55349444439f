"""The snowpack per elevation band: accumulation, settling, melt, liquid water, refreezing, conservation of water.

Weather objects are built by hand (constant temperature, chosen precipitation) and fed to
``simulate_snowpack`` so each figure can be worked out on paper; random winters check conservation
and the order of packs by elevation and warmth.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from qalamoun_sim import load_scenario
from qalamoun_sim.environment import Snowpack, Weather, band_elevations, simulate_snowpack, simulate_weather
from qalamoun_sim.environment.snowpack import orographic_factor
from qalamoun_sim.environment.snowphysics import seasonal_melt_factor
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
    return WeatherConfig(reference_elevation_m=REF, orographic_gradient_per_km=0.0, orographic_gradient_below_per_km=0.0)


def reference_depth(snowfall_mm: np.ndarray, temp_c: np.ndarray, cfg: SnowConfig) -> np.ndarray:
    """Depth (cm) of one band of a cold, dry pack, worked out one day at a time as docs/background.md s.4 states.

    New snow adds ``100 x S / rho_new`` cm; at the end of the day the bulk density relaxes toward
    Tabler's maximum density ``A - (204.7 / z) (1 - exp(-z / 0.673))`` (``A`` = 450 kg/m3 cold, 700 above
    the melt base) with the time constant ``settling_days``, never getting lighter.
    """
    swe, depth, out = 0.0, 0.0, []
    for fall, t in zip(snowfall_mm, temp_c, strict=True):
        swe, depth = swe + fall, depth + 100.0 * fall / cfg.new_snow_density_kg_m3
        if swe > 0:
            rho = 100.0 * swe / depth
            z = depth / 100.0
            a = cfg.max_density_melting_kg_m3 if t > cfg.melt_base_c else cfg.max_density_cold_kg_m3
            target = a - (204.7 / z) * (1.0 - math.exp(-z / 0.673))
            rho = max(rho, (rho - target) * math.exp(-1.0 / cfg.settling_days) + target)
            depth = 100.0 * swe / rho
        out.append(depth)
    return np.array(out)


# ----------------------------------------------------------------------------- accumulation
def test_constant_cold_snowfall_grows_swe_linearly_and_depth_as_worked_out() -> None:
    scfg = SnowConfig()
    days = 90
    pack = simulate_snowpack(hand_weather(-5.0, np.full(days, 3.0)), flat_climate(), scfg, ONE_BAND)
    swe, depth = pack.swe_mm[0, :, 0], pack.depth_cm[0, :, 0]
    np.testing.assert_allclose(swe, 3.0 * np.arange(1, days + 1), rtol=1e-12)
    assert not pack.melt_mm.any() and not pack.liquid_mm.any() and not pack.runoff_mm.any()
    np.testing.assert_allclose(depth, reference_depth(pack.snowfall_mm[0, :, 0], np.full(days, -5.0), scfg),
                               rtol=1e-9)
    density = 100.0 * swe / depth
    assert (np.diff(depth) > 0).all(), "a snowfall every day and no melt: the snow only gets deeper"
    assert (density >= scfg.new_snow_density_kg_m3 - 1e-9).all() and (density <= scfg.max_density_cold_kg_m3).all()


def test_a_cold_pack_settles_to_the_sourced_settled_densities_and_a_melting_one_beyond() -> None:
    # an estimate [E]: settled snow 250-400 kg/m3; old, wet snow denser still (a deep pack: Tabler's depth term
    # keeps shallow cold packs lighter, about 200-240 kg/m3 at 30-50 cm)
    precip = np.zeros(40)
    precip[0] = 200.0                                             # 2 m of new snow, then a dry month
    cold = simulate_snowpack(hand_weather(-6.0, precip), flat_climate(), SnowConfig(), ONE_BAND)
    rho_cold = cold.density_kg_m3[0, -1, 0]
    assert 250.0 <= rho_cold <= 400.0
    t = np.full(40, 0.5)
    t[0] = -6.0
    wet = simulate_snowpack(hand_weather(t, precip), flat_climate(), SnowConfig(melt_factor_mm_per_c_day=0.5),
                            ONE_BAND)
    assert wet.density_kg_m3[0, -1, 0] > 400.0


def test_new_snow_on_a_settled_pack_adds_its_own_depth() -> None:
    # 30 mm on day 0, a month of cold settling, then 30 mm (30 cm of new snow) on day 30
    scfg = SnowConfig()
    precip = np.zeros(40)
    precip[0] = precip[30] = 30.0
    pack = simulate_snowpack(hand_weather(-10.0, precip), flat_climate(), scfg, ONE_BAND)
    depth = pack.depth_cm[0, :, 0]
    assert depth[30] > depth[29] + 20.0, "30 cm of new snow settle by a day's relaxation at most"
    np.testing.assert_allclose(depth, reference_depth(pack.snowfall_mm[0, :, 0], np.full(40, -10.0), scfg),
                               rtol=1e-9)


def test_rain_adds_no_snow() -> None:
    pack = simulate_snowpack(hand_weather(10.0, np.full(20, 15.0)), flat_climate(), SnowConfig(), ONE_BAND)
    assert not pack.swe_mm.any() and not pack.depth_cm.any() and not pack.snowfall_mm.any()
    assert not pack.rain_on_snow_mm.any(), "rain on bare ground is not the pack's"


def test_snowfall_is_precipitation_times_snow_fraction_and_orographic_gain() -> None:
    wcfg = WeatherConfig(reference_elevation_m=REF, orographic_gradient_per_km=1.0,
                         orographic_gradient_below_per_km=0.5)
    bands = np.array([700.0, REF, 2500.0])
    # 1.5 degC at the reference: half snow there (the 50 % threshold); -4 degC at 2500 m: all snow, x2;
    # +5.9 degC at 700 m: rain only, and 1 - 0.5 x 0.8 = 0.6 of the reference's precipitation
    pack = simulate_snowpack(hand_weather(1.5, np.full(3, 10.0)), wcfg, SnowConfig(), bands)
    np.testing.assert_allclose(pack.snowfall_mm[0, :, 0], 0.0)
    np.testing.assert_allclose(pack.snowfall_mm[0, :, 1], 5.0)
    np.testing.assert_allclose(pack.snowfall_mm[0, :, 2], 20.0)
    np.testing.assert_allclose(pack.snowfall_cm, 100.0 * pack.snowfall_mm / 100.0)
    np.testing.assert_allclose(orographic_factor(wcfg, bands), [0.6, 1.0, 2.0])


# ----------------------------------------------------------------------------- melt, liquid water, refreezing
@pytest.mark.parametrize(("temp", "factor", "base"), [(2.5, 4.0, 0.0), (4.0, 3.0, 1.0), (6.0, 5.0, 2.0)])
def test_warm_days_melt_at_the_degree_day_rate_until_gone(temp: float, factor: float, base: float) -> None:
    # snow falls at 0 degC (no cold content), no liquid is held: the pack loses the stated rate a day
    scfg = SnowConfig(melt_factor_mm_per_c_day=factor, melt_base_c=base, liquid_water_capacity=0.0)
    days = 30
    t = np.full(days, temp)
    t[0] = 0.0 if base >= 0.0 else base
    precip = np.zeros(days)
    precip[0] = 100.0
    pack = simulate_snowpack(hand_weather(t, precip), flat_climate(), scfg, ONE_BAND)
    rate = factor * (temp - base)
    expected = np.maximum(100.0 - rate * np.arange(days), 0.0)
    np.testing.assert_allclose(pack.swe_mm[0, :, 0], expected, atol=1e-9)
    melt = pack.melt_mm[0, :, 0]
    assert melt[0] == 0.0
    np.testing.assert_allclose(melt[1:], np.diff(-expected), atol=1e-9)
    np.testing.assert_allclose(pack.runoff_mm[0, :, 0], melt, atol=1e-9)
    gone = expected == 0
    assert (pack.depth_cm[0, gone, 0] == 0).all() and (pack.depth_cm[0, ~gone, 0] > 0).all()


def test_melt_follows_snow17s_seasonal_factor() -> None:
    dates = [dt.date(2013, 12, 21), dt.date(2014, 3, 21), dt.date(2014, 4, 30)]
    scfg = SnowConfig(liquid_water_capacity=0.0)
    wx = hand_weather(np.array([[0.0, 2.0, 2.0]]), np.array([[200.0, 0.0, 0.0]]))
    pack = simulate_snowpack(wx, flat_climate(), scfg, ONE_BAND, dates)
    mf = seasonal_melt_factor(dates, scfg.melt_factor_mm_per_c_day, scfg.melt_factor_seasonal_ratio)
    np.testing.assert_allclose(pack.melt_mm[0, 1:, 0], 2.0 * mf[1:], rtol=1e-12)
    assert mf[0] < mf[1] < mf[2]
    assert mf[1] == pytest.approx(scfg.melt_factor_mm_per_c_day, rel=1e-3)   # the equinox's is the mean


def test_no_melt_at_or_below_the_base_temperature() -> None:
    scfg = SnowConfig(melt_base_c=0.0)
    t = np.array([-10.0, 0.0, -1.0, 0.0])
    pack = simulate_snowpack(hand_weather(t, np.array([20.0, 0, 0, 0])), flat_climate(), scfg, ONE_BAND)
    assert not pack.melt_mm.any()
    np.testing.assert_allclose(pack.swe_mm[0, :, 0], 20.0)


def test_liquid_water_is_held_up_to_its_capacity_and_the_rest_runs_off() -> None:
    scfg = SnowConfig(liquid_water_capacity=0.05)
    t = np.array([0.0, 1.0])
    pack = simulate_snowpack(hand_weather(t, np.array([100.0, 0.0])), flat_climate(), scfg, ONE_BAND)
    melt = scfg.melt_factor_mm_per_c_day * 1.0                  # 4 mm of ice melt on day 1
    ice = 100.0 - melt
    assert pack.melt_mm[0, 1, 0] == pytest.approx(melt)
    assert pack.liquid_mm[0, 1, 0] == pytest.approx(min(melt, 0.05 * ice))
    assert pack.runoff_mm[0, 1, 0] == pytest.approx(melt - min(melt, 0.05 * ice))
    assert pack.swe_mm[0, 1, 0] == pytest.approx(ice + pack.liquid_mm[0, 1, 0])


def test_rain_on_a_cold_pack_refreezes_against_its_cold_content() -> None:
    # 64 mm of snow at -12 degC carry a heat deficit of 12 x 64 / 160 = 4.8 mm; a day later 2 mm of rain at
    # the same air temperature (a threshold of -10 degC makes it rain) refreeze whole, into ice, not depth
    scfg = SnowConfig(rain_snow_threshold_c=-10.0, mix_range_c=0.0)
    wx = hand_weather(np.array([-12.0, -8.0, -8.0]), np.array([[64.0, 2.0, 0.0]]))
    pack = simulate_snowpack(wx, flat_climate(), scfg, ONE_BAND)
    assert pack.rain_on_snow_mm[0, 1, 0] == pytest.approx(2.0)
    assert pack.refreeze_mm[0, 1, 0] == pytest.approx(2.0)
    assert pack.liquid_mm[0, 1, 0] == 0.0 and pack.runoff_mm[0, 1, 0] == 0.0
    assert pack.swe_mm[0, 1, 0] == pytest.approx(66.0)


def test_water_is_conserved_with_melt_rain_and_refreezing_on_hand_weather() -> None:
    rng = np.random.default_rng(5)
    t = rng.normal(0.5, 3.0, (4, 120))
    p = rng.gamma(0.8, 6.0, (4, 120)) * (rng.random((4, 120)) < 0.4)
    pack = simulate_snowpack(hand_weather(t, p), flat_climate(), SnowConfig(), np.array([REF, 2000.0]))
    gained = np.cumsum(pack.snowfall_mm + pack.rain_on_snow_mm - pack.runoff_mm, axis=1)
    assert pack.refreeze_mm.sum() > 0 and pack.liquid_mm.max() > 0 and pack.melt_mm.sum() > 0
    np.testing.assert_allclose(gained, pack.swe_mm, atol=1e-8)


# ----------------------------------------------------------------------------- conservation and order
def _random_pack(n: int = 20, days: int = 181) -> tuple[Weather, Snowpack, np.ndarray]:
    scn = load_scenario()
    dates = [scn.scenario.start + dt.timedelta(days=i) for i in range(days)]
    wx = simulate_weather(scn.weather, dates, [replication_rng(4, r, STREAM_WEATHER) for r in range(n)])
    bands = band_elevations(scn.weather)
    return wx, simulate_snowpack(wx, scn.weather, scn.snow, bands, dates), bands


def test_snow_water_is_conserved_on_random_weather() -> None:
    # snowfall + rain on the pack = runoff + the water (ice and liquid) on the ground, refreezing included
    _, pack, _ = _random_pack()
    gained = np.cumsum(pack.snowfall_mm + pack.rain_on_snow_mm - pack.runoff_mm, axis=1)
    assert np.cumsum(pack.snowfall_mm, axis=1)[..., -1].max() > 100.0, "the test needs real snow"
    assert pack.refreeze_mm.sum() > 0, "the test needs refreezing"
    np.testing.assert_allclose(gained, pack.swe_mm, atol=1e-8, rtol=1e-12)
    # ice melted and refrozen balance through the liquid: ice = snowfall - melt + refreeze
    ice = np.cumsum(pack.snowfall_mm - pack.melt_mm + pack.refreeze_mm, axis=1)
    np.testing.assert_allclose(ice, pack.swe_mm - pack.liquid_mm, atol=1e-8)


def test_pack_is_never_negative_and_depth_is_zero_exactly_without_water() -> None:
    _, pack, _ = _random_pack()
    assert (pack.swe_mm >= 0).all() and (pack.depth_cm >= 0).all() and (pack.melt_mm >= 0).all()
    assert ((pack.depth_cm > 0) == (pack.swe_mm > 0)).all()


def test_density_stays_between_new_snow_and_ice() -> None:
    # a thin pack soaked by rain that refreezes turns to ice: the cap is ice, and nothing is lighter than new snow
    _, pack, _ = _random_pack()
    snow = pack.swe_mm > 1e-9
    ice_density = 100.0 * (pack.swe_mm - pack.liquid_mm)[snow] / pack.depth_cm[snow]
    assert ice_density.min() >= 100.0 - 1e-6 and ice_density.max() <= 917.0 + 1e-6
    assert np.median(ice_density) < 450.0


def test_snow_water_never_decreases_with_elevation() -> None:
    _, pack, bands = _random_pack()
    assert (np.diff(bands) > 0).all()
    assert (np.diff(pack.swe_mm, axis=-1) >= -1e-9).all()
    assert (np.diff(pack.depth_cm, axis=-1) >= -1e-9).all()


def test_crest_holds_more_snow_than_the_towns_in_the_reference_winter() -> None:
    # docs/background.md s.2, s.12: 10-40 cm storms at 1300-1600 m, 40-100+ cm on the crest above 2000 m
    _, pack, bands = _random_pack(n=50)
    low, crest = int(np.searchsorted(bands, 1400.0)), int(np.searchsorted(bands, 2100.0))
    assert pack.depth_cm[..., crest].max(axis=1).mean() > 2 * pack.depth_cm[..., low].max(axis=1).mean()


def test_warmer_climate_never_deepens_the_snow_on_any_day() -> None:
    scn = load_scenario()
    warm = scn.with_updates({"weather.monthly_mean_c": [m + 0.5 for m in scn.weather.monthly_mean_c]})
    a, b = compute_state(scn, 100, seed=3), compute_state(warm, 100, seed=3)
    assert (b.band_depth_cm <= a.band_depth_cm + 1e-9).all()
