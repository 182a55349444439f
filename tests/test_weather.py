"""Weather at the reference elevation: seasonal cycle, lapse rate, rain/snow split, storms, precipitation.

Known answers (constant climates, the lapse rate, the snow-fraction ramp, the storm process's exact
storm-day probability) and statistical checks on many replications drawn from fixed seeds, so every
figure here is deterministic. The generator honours its inputs: monthly means and totals, storm days
included, equal the inputs within sampling error (issue 13).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from qalamoun_sim.environment import (
    Weather,
    band_elevations,
    seasonal_cycle,
    simulate_weather,
    snow_fraction,
    temperature_at,
)
from qalamoun_sim.environment.state import STREAM_WEATHER, replication_rng
from qalamoun_sim.environment.storms import onset_probability, storm_day_probability
from qalamoun_sim.environment.weather import snow_line_m, wet_day_probability
from qalamoun_sim.scenario import SnowConfig, WeatherConfig

WINTER = [dt.date(2013, 11, 1) + dt.timedelta(days=i) for i in range(181)]
YEAR = [dt.date(2014, 1, 1) + dt.timedelta(days=i) for i in range(365)]


def rngs(n: int, seed: int = 11) -> list[np.random.Generator]:
    return [replication_rng(seed, r, STREAM_WEATHER) for r in range(n)]


def calm(**kw: object) -> WeatherConfig:
    """A climate without randomness in temperature: constant monthly means, no anomalies, no storms."""
    base: dict[str, object] = dict(monthly_mean_c=[-5.0] * 12, anomaly_sd_c=0.0, storms_per_month=[0.0] * 12)
    base.update(kw)
    return WeatherConfig(**base)


# ----------------------------------------------------------------------------- seasonal cycle
@pytest.mark.parametrize("value", [-5.0, 0.0, 12.5])
@pytest.mark.parametrize("harmonics", [0, 2, 5])
def test_seasonal_cycle_of_a_constant_climate_is_that_constant(value: float, harmonics: int) -> None:
    c = seasonal_cycle([value] * 12, YEAR, harmonics)
    assert c.shape == (365,)
    np.testing.assert_allclose(c, value, atol=1e-9)


@pytest.mark.parametrize("year", [2013, 2014, 2016])
def test_seasonal_cycle_with_six_harmonics_keeps_every_monthly_mean_exactly(year: int) -> None:
    means = WeatherConfig().monthly_mean_c
    days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(366 if year % 4 == 0 else 365)]
    c = seasonal_cycle(means, days, 6)
    got = np.array([c[[d.month == m for d in days]].mean() for m in range(1, 13)])
    np.testing.assert_allclose(got, means, atol=1e-9)
    assert np.abs(np.diff(c)).max() < 0.5, "a smooth cycle: no jump between days"


@pytest.mark.parametrize("harmonics", [2, 3, 5])
def test_seasonal_cycle_reproduces_the_monthly_means(harmonics: int) -> None:
    means = WeatherConfig().monthly_mean_c
    c = seasonal_cycle(means, YEAR, harmonics)
    got = np.array([c[[d.month == m for d in YEAR]].mean() for m in range(1, 13)])
    # fewer harmonics fit the month averages by least squares, within a few tenths of a degree
    np.testing.assert_allclose(got, means, atol=0.6)
    assert abs(c.mean() - np.mean(means)) < 0.1
    # the coldest month is January and the warmest July or August, as in the input
    assert int(np.argmin(got)) == 0
    assert int(np.argmax(got)) in (6, 7)


def test_seasonal_cycle_with_no_harmonics_is_the_annual_mean() -> None:
    means = WeatherConfig().monthly_mean_c
    np.testing.assert_allclose(seasonal_cycle(means, YEAR, 0), np.mean(means), atol=1e-9)


def test_seasonal_cycle_is_linear_in_the_monthly_means() -> None:
    means = np.array(WeatherConfig().monthly_mean_c)
    a = seasonal_cycle(means, WINTER)
    b = seasonal_cycle(means + 2.5, WINTER)
    np.testing.assert_allclose(b - a, 2.5, atol=1e-9)


# ----------------------------------------------------------------------------- lapse rate
def test_temperature_at_follows_the_lapse_rate_exactly() -> None:
    rng = np.random.default_rng(0)
    wx = Weather(temperature_c=rng.normal(0, 5, (3, 10)), precipitation_mm=np.zeros((3, 10)),
                 storm=np.zeros((3, 10), bool), reference_elevation_m=1500.0, lapse_rate_c_per_km=5.5)
    np.testing.assert_allclose(temperature_at(wx, 1500.0), wx.temperature_c, atol=1e-12)
    z = np.array([500.0, 1500.0, 2100.0, 2669.0])
    t = temperature_at(wx, z)
    assert t.shape == (3, 10, 4)
    for j, zj in enumerate(z):
        np.testing.assert_allclose(t[..., j], wx.temperature_c - 5.5 * (zj - 1500.0) / 1000.0, atol=1e-12)
    # higher is colder by exactly lapse * dz
    np.testing.assert_allclose(t[..., 3] - t[..., 2], -5.5 * (2669.0 - 2100.0) / 1000.0, atol=1e-12)
    np.testing.assert_allclose(temperature_at(wx, 2500.0), wx.temperature_c - 5.5, atol=1e-12)


def test_zero_lapse_rate_gives_the_same_temperature_everywhere() -> None:
    wx = Weather(np.full((1, 4), 2.0), np.zeros((1, 4)), np.zeros((1, 4), bool), 1500.0, 0.0)
    np.testing.assert_allclose(temperature_at(wx, np.array([600.0, 2800.0])), 2.0)


# ----------------------------------------------------------------------------- rain or snow
def test_snow_fraction_endpoints_and_midpoint() -> None:
    thr, mix = 1.5, 3.0
    t = np.array([-20.0, 0.0, 0.75, 1.5, 2.25, 3.0, 3.01, 25.0])
    f = snow_fraction(t, thr, mix)
    np.testing.assert_allclose(f, [1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0], atol=1e-12)
    assert np.all(np.diff(f) <= 0), "colder never means less snow"


def test_snow_fraction_without_a_mix_is_a_step_at_the_threshold() -> None:
    f = snow_fraction(np.array([-1.0, 0.99, 1.0, 1.01, 5.0]), 1.0, 0.0)
    np.testing.assert_array_equal(f, [1.0, 1.0, 0.0, 0.0, 0.0])


# ----------------------------------------------------------------------------- simulated weather
def test_constant_climate_without_anomalies_or_storms_is_constant() -> None:
    wx = simulate_weather(calm(), WINTER, rngs(4))
    assert wx.temperature_c.shape == (4, 181)
    np.testing.assert_allclose(wx.temperature_c, -5.0, atol=1e-9)
    assert not wx.storm.any()
    assert (wx.precipitation_mm >= 0).all()


def test_dry_climate_without_storms_never_precipitates() -> None:
    wx = simulate_weather(calm(monthly_precip_mm=[0.0] * 12), WINTER, rngs(5))
    assert not wx.precipitation_mm.any()


def test_storm_every_day_keeps_the_climate_on_average_and_is_wet() -> None:
    # every day a storm: each storm is its own anomaly below climate + the mean anomaly, constant over its days
    cfg = calm(monthly_mean_c=[2.0] * 12, storms_per_month=[100.0] * 12, storm_cold_anomaly_c=8.0, storm_days=3)
    wx = simulate_weather(cfg, WINTER, rngs(200))
    assert wx.storm.all()
    np.testing.assert_array_equal(wx.storm_starts[:, ::3], True)
    t = wx.temperature_c[:, :180].reshape(200, 60, 3)
    np.testing.assert_allclose(t, t[..., :1].repeat(3, axis=-1), atol=1e-9)
    assert wx.temperature_c.max() <= 2.0 + 8.0 + 1e-9
    assert wx.temperature_c.mean() == pytest.approx(2.0, abs=0.05)
    assert (wx.precipitation_mm > 0).mean() > 0.99


def test_storms_last_storm_days() -> None:
    cfg = WeatherConfig(storms_per_month=[3.0] * 12, storm_days=4)
    wx = simulate_weather(cfg, WINTER, rngs(50))
    runs: list[int] = []
    for row in wx.storm:
        edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        runs += [int(e - s) for s, e in zip(starts, ends, strict=True) if e < len(row)]  # skip runs cut by the end
    assert runs, "no storm at three a month"
    # back-to-back storms can chain, so a run is a whole number of storms
    assert all(r % 4 == 0 for r in runs)


def test_storms_are_part_of_the_climate_not_added_on_top() -> None:
    # without anomalies, a day outside a storm is the cycle plus the storms' expected cold of that day,
    # and a storm day is that minus the storm's own cold: the expected temperature is the cycle itself
    cfg = WeatherConfig(anomaly_sd_c=0.0, storms_per_month=[2.0] * 12)
    wx = simulate_weather(cfg, WINTER, rngs(20))
    clim = seasonal_cycle(cfg.monthly_mean_c, WINTER, cfg.harmonics)
    share = storm_day_probability(onset_probability(cfg, WINTER), cfg.storm_days)
    calm_days = np.broadcast_to(clim + share * cfg.storm_cold_anomaly_c, wx.temperature_c.shape)
    np.testing.assert_allclose(wx.temperature_c[~wx.storm], calm_days[~wx.storm], atol=1e-9)
    assert (wx.temperature_c[wx.storm] < calm_days[wx.storm]).all()


def test_storm_day_probability_is_exact() -> None:
    cfg = WeatherConfig(storms_per_month=[0.0] * 10 + [3.0, 1.5], storm_days=4)
    dates = [dt.date(2013, 11, 1) + dt.timedelta(days=i) for i in range(61)]
    expected = storm_day_probability(onset_probability(cfg, dates), cfg.storm_days)
    wx = simulate_weather(cfg, dates, rngs(20000, seed=8))
    # 20,000 replications: the binomial standard error of each day is below 0.0035
    np.testing.assert_allclose(wx.storm.mean(axis=0), expected, atol=0.015)
    assert expected[0] == pytest.approx(3.0 / 30.0)


def test_wet_day_probability_starts_dry_and_tends_to_the_stationary_share() -> None:
    cfg = WeatherConfig(p_wet_after_dry=0.15, p_wet_after_wet=0.55)
    w = wet_day_probability(cfg, 60)
    assert w[0] == pytest.approx(0.15)
    assert w[-1] == pytest.approx(0.15 / (1 - 0.55 + 0.15), abs=1e-9)


def _monthly(wx: Weather, dates: list[dt.date]) -> tuple[list[int], np.ndarray, np.ndarray]:
    months = sorted({(d.year, d.month) for d in dates}, key=lambda ym: (ym[0], ym[1]))
    means, totals = [], []
    for y, m in months:
        sel = np.array([(d.year, d.month) == (y, m) for d in dates])
        means.append(wx.temperature_c[:, sel].mean())
        totals.append(wx.precipitation_mm[:, sel].sum(axis=1).mean())
    return [m for _, m in months], np.array(means), np.array(totals)


def test_the_default_generator_honours_its_monthly_means_and_totals() -> None:
    # issue 13: storms included, simulated monthly means within 0.1 degC and totals within 3 % of the inputs
    cfg = WeatherConfig()
    wx = simulate_weather(cfg, WINTER, rngs(4000, seed=13))
    months, means, totals = _monthly(wx, WINTER)
    np.testing.assert_allclose(means, [cfg.monthly_mean_c[m - 1] for m in months], atol=0.1)
    np.testing.assert_allclose(totals, [cfg.monthly_precip_mm[m - 1] for m in months], rtol=0.03)


def test_storms_too_wet_for_a_dry_month_are_scaled_down_to_its_total() -> None:
    cfg = WeatherConfig(monthly_precip_mm=[10.0] * 12, storms_per_month=[6.0] * 12, storm_precip_mm=50.0)
    wx = simulate_weather(cfg, WINTER, rngs(3000, seed=14))
    _, _, totals = _monthly(wx, WINTER)
    np.testing.assert_allclose(totals[1:], 10.0, rtol=0.05)       # November starts outside a storm


def test_storm_snow_lines_are_those_of_the_sources() -> None:
    # docs/background.md s.12: storms usually bring the snow line to 1000-1400 m, strong outbreaks to 500-900 m
    wx = simulate_weather(WeatherConfig(), WINTER, rngs(1000, seed=15))
    line = snow_line_m(wx, SnowConfig().rain_snow_threshold_c)[wx.storm]
    assert 1000.0 <= np.median(line) <= 1400.0
    assert 500.0 <= np.quantile(line, 0.05) <= 900.0
    assert (line <= 800.0).mean() < 0.1, "strong outbreaks are the tail, not the rule"


def test_snow_line_follows_the_lapse_rate() -> None:
    wx = Weather(np.array([[1.5, 7.0, -4.0]]), np.zeros((1, 3)), np.zeros((1, 3), bool), 1500.0, 5.5)
    np.testing.assert_allclose(snow_line_m(wx, 1.5)[0], [1500.0, 2500.0, 500.0])


@pytest.mark.parametrize("storms", [0.0, 1.0])
def test_monthly_precipitation_totals_are_right_on_average(storms: float) -> None:
    cfg = WeatherConfig(storms_per_month=[storms] * 12)
    dates = [dt.date(2014, 1, 1) + dt.timedelta(days=i) for i in range(90)]  # Jan, Feb, Mar
    wx = simulate_weather(cfg, dates, rngs(1500, seed=3))
    for month in (1, 2, 3):
        sel = np.array([d.month == month for d in dates])
        mean_total = wx.precipitation_mm[:, sel].sum(axis=1).mean()
        assert mean_total == pytest.approx(cfg.monthly_precip_mm[month - 1], rel=0.04), month


def test_wet_days_persist_as_the_markov_chain_says() -> None:
    cfg = WeatherConfig(storms_per_month=[0.0] * 12, p_wet_after_dry=0.15, p_wet_after_wet=0.55)
    wx = simulate_weather(cfg, WINTER, rngs(400, seed=4))
    wet = wx.precipitation_mm > 0
    prev, now = wet[:, :-1], wet[:, 1:]
    assert now[prev].mean() == pytest.approx(0.55, abs=0.02)
    assert now[~prev].mean() == pytest.approx(0.15, abs=0.01)


def test_anomalies_have_the_configured_spread_and_autocorrelation() -> None:
    cfg = WeatherConfig(monthly_mean_c=[0.0] * 12, storms_per_month=[0.0] * 12, anomaly_sd_c=3.0,
                        anomaly_autocorrelation=0.7)
    wx = simulate_weather(cfg, WINTER, rngs(300, seed=5))
    a = wx.temperature_c
    assert a.std() == pytest.approx(3.0, rel=0.05)
    r = np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]
    assert r == pytest.approx(0.7, abs=0.03)


def test_each_replication_draws_only_from_its_own_generator() -> None:
    cfg = WeatherConfig()
    together = simulate_weather(cfg, WINTER, [replication_rng(9, r, STREAM_WEATHER) for r in range(6)])
    for r in (0, 4):
        alone = simulate_weather(cfg, WINTER, [replication_rng(9, r, STREAM_WEATHER)])
        np.testing.assert_array_equal(alone.temperature_c[0], together.temperature_c[r])
        np.testing.assert_array_equal(alone.precipitation_mm[0], together.precipitation_mm[r])
        np.testing.assert_array_equal(alone.storm[0], together.storm[r])
        np.testing.assert_array_equal(alone.storm_starts[0], together.storm_starts[r])


def test_different_generators_give_different_weather() -> None:
    a = simulate_weather(WeatherConfig(), WINTER, rngs(1, seed=1))
    b = simulate_weather(WeatherConfig(), WINTER, rngs(1, seed=2))
    assert not np.array_equal(a.temperature_c, b.temperature_c)


def test_replayed_weather_is_the_file_in_every_replication(tmp_path) -> None:
    dates = WINTER[:5]
    csv = tmp_path / "wx.csv"
    csv.write_text("date,temperature_c,precipitation_mm,storm\n" + "".join(
        f"{d},{-1.0 * i},{2.0 * i},{int(i == 3)}\n" for i, d in enumerate(dates)))
    wx = simulate_weather(WeatherConfig(replay_csv=str(csv)), dates, rngs(3))
    np.testing.assert_array_equal(wx.temperature_c, np.tile([0.0, -1, -2, -3, -4], (3, 1)))
    np.testing.assert_array_equal(wx.precipitation_mm, np.tile([0.0, 2, 4, 6, 8], (3, 1)))
    np.testing.assert_array_equal(wx.storm, np.tile([False, False, False, True, False], (3, 1)))
    np.testing.assert_array_equal(wx.storm_starts, wx.storm)  # one-day storms: each starts a storm


def test_band_elevations_are_inclusive_and_evenly_spaced() -> None:
    b = band_elevations(WeatherConfig(band_min_m=500, band_max_m=3000, band_step_m=100))
    assert b[0] == 500.0 and b[-1] == 3000.0 and len(b) == 26
    np.testing.assert_allclose(np.diff(b), 100.0)
