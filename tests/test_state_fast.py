"""The exogenous state's fast paths give the same bits as the plain formulas (issue 20).

The snowpack's buffered day (``snowpack._run``) against the functions of ``snowphysics`` applied as
docs/background.md s.4 states them; the closures computed day by day (``snow_factors``, ``RouteSnow``)
against ``factors_from_depth`` and ``broken_open``; the strikes' table search against ``np.searchsorted``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalamoun_sim import RouteNetwork, load_scenario
from qalamoun_sim.environment import snowphysics as sp
from qalamoun_sim.environment.closures import (
    RouteSnow,
    break_rules,
    broken_open,
    factors_from_depth,
    limits_of_routes,
    snow_factors,
)
from qalamoun_sim.environment.interdiction import searchsorted_right
from qalamoun_sim.environment.snowpack import (
    FIELDS,
    band_elevations,
    orographic_factor,
    pack_series,
    simulate_snowpack,
    snow_fraction,
)
from qalamoun_sim.environment.state import route_depth_from_bands
from qalamoun_sim.environment.weather import Weather, temperature_at
from qalamoun_sim.scenario import SnowConfig, WeatherConfig


def reference_pack(weather: Weather, wcfg: WeatherConfig, scfg: SnowConfig, bands: np.ndarray,
                   dates: list[dt.date] | None) -> dict[str, np.ndarray]:
    """The pack as the snowphysics functions state it, one day of (R, B) arrays at a time."""
    temp = temperature_at(weather, bands)
    precip = weather.precipitation_mm[..., None] * orographic_factor(wcfg, bands)
    snowfall = precip * snow_fraction(temp, scfg.rain_snow_threshold_c, scfg.mix_range_c)
    rain = precip - snowfall
    n_rep, n_day, n_band = temp.shape
    mean, ratio = scfg.melt_factor_mm_per_c_day, scfg.melt_factor_seasonal_ratio
    mf = sp.seasonal_melt_factor(dates, mean, ratio) if dates is not None else np.full(n_day, mean)
    mf_max = 2.0 * mean / (1.0 + ratio) if dates is not None else mean
    ice, liquid, deficit, ati, depth = (np.zeros((n_rep, n_band)) for _ in range(5))
    out = {k: np.empty_like(temp) for k in FIELDS}
    for d in range(n_day):
        t, snow, r = temp[:, d], snowfall[:, d], rain[:, d]
        ice = ice + snow
        depth = depth + 100.0 * snow / scfg.new_snow_density_kg_m3
        has = ice > 0
        rain_on = np.where(has, r, 0.0)
        ati = sp.antecedent_temperature(ati, t, snow)
        deficit = (deficit - np.minimum(t, 0.0) * snow / sp.LATENT_OVER_HEAT
                   + sp.temperature_deficit_change(ati, t, float(mf[d]), mf_max))
        deficit = np.clip(deficit, 0.0, sp.HEAT_DEFICIT_CAP * ice)
        melt = np.minimum(np.where(has, sp.melt_mm(t, rain_on, float(mf[d]), scfg.melt_base_c), 0.0), ice)
        left = ice - melt
        depth = np.where(left > 0, depth * left / np.where(has, ice, 1.0), 0.0)
        ice = left
        deficit = np.where(left > 0, deficit, 0.0)
        water = liquid + melt + rain_on
        refreeze = np.minimum(water, deficit)
        ice, deficit, water = ice + refreeze, deficit - refreeze, water - refreeze
        liquid = np.minimum(water, scfg.liquid_water_capacity * ice)
        has = ice > 0
        rho = np.where(has, 100.0 * ice / np.where(has, depth, 1.0), 1.0)
        target = sp.max_density(depth, sp.is_melting(t, scfg.melt_base_c), scfg.max_density_cold_kg_m3,
                                scfg.max_density_melting_kg_m3)
        depth = np.where(has, 100.0 * ice / sp.densify(rho, target, scfg.settling_days), 0.0)
        for key, value in (("depth_cm", depth), ("swe_mm", ice + liquid), ("melt_mm", melt), ("liquid_mm", liquid),
                           ("refreeze_mm", refreeze), ("rain_on_snow_mm", rain_on), ("runoff_mm", water - liquid)):
            out[key][:, d] = value
    out["snowfall_mm"] = snowfall
    out["snowfall_cm"] = 100.0 * snowfall / scfg.new_snow_density_kg_m3
    return out


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), mix=st.sampled_from([0.0, 2.0]), melt=st.sampled_from([0.0, 3.0, 7.0]),
       seasonal=st.booleans(), reps=st.integers(1, 40))
def test_the_buffered_pack_is_the_plain_formulas_bit_for_bit(seed: int, mix: float, melt: float, seasonal: bool,
                                                             reps: int) -> None:
    rng = np.random.default_rng(seed)
    days = 50
    temp = rng.normal(-1.0, 5.0, (reps, days))
    precip = rng.gamma(0.6, 10.0, (reps, days)) * (rng.random((reps, days)) < 0.5)
    wx = Weather(temp, precip, np.zeros((reps, days), bool), 1500.0, 5.5)
    wcfg = WeatherConfig(reference_elevation_m=1500.0)
    scfg = SnowConfig(mix_range_c=mix, melt_factor_mm_per_c_day=melt)
    bands = np.array([600.0, 1500.0, 1550.0, 2300.0, 3000.0])
    dates = [dt.date(2013, 11, 1) + dt.timedelta(days=i) for i in range(days)] if seasonal else None
    want = reference_pack(wx, wcfg, scfg, bands, dates)
    got = pack_series(wx, wcfg, scfg, bands, dates)
    for key in FIELDS:
        assert _same_bits(got[key], want[key]), key


def test_chunks_of_replications_change_no_number(monkeypatch: pytest.MonkeyPatch) -> None:
    from qalamoun_sim.environment import snowpack

    scn = load_scenario()
    from qalamoun_sim.environment.state import STREAM_WEATHER, replication_rng
    from qalamoun_sim.environment.weather import simulate_weather

    wx = simulate_weather(scn.weather, scn.dates, [replication_rng(3, r, STREAM_WEATHER) for r in range(30)])
    bands = band_elevations(scn.weather)
    whole = simulate_snowpack(wx, scn.weather, scn.snow, bands, scn.dates)
    monkeypatch.setattr(snowpack, "CHUNK_CELLS", 7 * len(bands))
    chunked = simulate_snowpack(wx, scn.weather, scn.snow, bands, scn.dates)
    for key in FIELDS:
        assert _same_bits(getattr(whole, key), getattr(chunked, key)), key


def _reference_factors(depth: np.ndarray, fresh: np.ndarray, net: RouteNetwork, cfg: SnowConfig,
                       cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    chosen = [limits_of_routes(net, cfg)[i] for i in cols]
    cap, speed = factors_from_depth(depth, chosen)
    return broken_open(cap, speed, depth, fresh, chosen, *break_rules(net, cfg, cols))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_the_closures_day_by_day_are_those_of_factors_from_depth_and_broken_open(seed: int) -> None:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.choice(net.n_routes, size=12, replace=False))
    shape = (3, 40, len(cols))
    depth = rng.choice([0.0, 5.0, 14.9, 15.0, 30.0, 35.0, 44.9, 45.0, 75.0, 160.0], shape) + rng.random(shape) * 0.1
    fresh = rng.choice([0.0, 0.5, 1.0, 3.0], shape) * (rng.random(shape) < 0.2)
    want = _reference_factors(depth, fresh, net, scn.snow, cols)
    got = snow_factors(depth, fresh, net, scn.snow, cols)
    assert all(_same_bits(g, w) for g, w in zip(got, want, strict=True))


def test_route_snow_is_the_interpolation_and_the_factors_of_the_whole_arrays() -> None:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    from qalamoun_sim.environment.state import STREAM_WEATHER, replication_rng
    from qalamoun_sim.environment.weather import simulate_weather

    wx = simulate_weather(scn.weather, scn.dates, [replication_rng(8, r, STREAM_WEATHER) for r in range(20)])
    bands = band_elevations(scn.weather)
    for cols in (np.arange(net.n_routes), np.array([0, 3, 4, 20])):
        sink = RouteSnow(net, scn.snow, cols, bands, (20, len(scn.dates)))
        pack = pack_series(wx, scn.weather, scn.snow, bands, scn.dates, ("depth_cm", "snowfall_cm"), sink=sink)
        depth = route_depth_from_bands(pack["depth_cm"], bands, net.max_elevation_m[cols])
        fresh = route_depth_from_bands(pack["snowfall_cm"], bands, net.max_elevation_m[cols])
        assert _same_bits(sink.depth_cm, depth)
        cap, speed = _reference_factors(depth, fresh, net, scn.snow, cols)
        assert _same_bits(sink.capacity_factor, cap) and _same_bits(sink.speed_factor, speed)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 3000), zeros=st.floats(0.0, 0.9))
def test_the_table_search_is_searchsorted(seed: int, n: int, zeros: float) -> None:
    rng = np.random.default_rng(seed)
    w = rng.random(n) * (rng.random(n) >= zeros)
    w[0] += 1e-3
    cdf = np.cumsum(w) / w.sum()
    u = np.concatenate([rng.random(5000), cdf, np.nextafter(cdf, 0), [0.0, np.nextafter(1.0, 0), 1.0, 1.5, -0.1]])
    np.testing.assert_array_equal(searchsorted_right(cdf, u), np.searchsorted(cdf, u, side="right"))


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(0, 2**32 - 1), st.integers(2**32, 2**200)),
       st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6), st.integers(0, 3))
def test_spawned_generators_are_replication_rngs(seed: int, keys: list[int], stream: int) -> None:
    """The generators built all at once have the state and the draws of replication_rng's, one by one."""
    from qalamoun_sim.environment.seeding import spawned_generators
    from qalamoun_sim.environment.state import replication_rng

    fast = spawned_generators(seed, keys, stream)
    slow = [replication_rng(seed, k, stream) for k in keys]
    assert [g.bit_generator.state for g in fast] == [g.bit_generator.state for g in slow]
    assert all(np.array_equal(f.standard_normal(7), s.standard_normal(7)) for f, s in zip(fast, slow, strict=True))


def test_spawned_generators_build_the_slow_way_when_the_hash_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should numpy's hash ever differ from the copy (another numpy), the first generator shows it and every
    generator is numpy's own."""
    import qalamoun_sim.environment.seeding as seeding

    monkeypatch.setattr(seeding, "_INIT_B", seeding._INIT_B ^ 1)
    fast = seeding.spawned_generators(3, [0, 1, 2], 1)
    want = [np.random.default_rng(np.random.SeedSequence(3, spawn_key=(k, 1))) for k in (0, 1, 2)]
    assert [g.bit_generator.state for g in fast] == [g.bit_generator.state for g in want]
    assert isinstance(fast[0].bit_generator.seed_seq, np.random.SeedSequence)
