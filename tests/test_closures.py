"""Closures: snow depth on a route's highest point against its surface's limits, ploughed roads,
and the monotone physics of snow closures (Hypothesis).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalamoun_sim import RouteNetwork, load_scenario, scenario_from_dict
from qalamoun_sim.environment.closures import (
    FRESH_SNOW_CM,
    factors_from_depth,
    limits_of_routes,
    recent_snowfall,
    snow_factors,
)
from qalamoun_sim.environment.state import compute_state
from qalamoun_sim.scenario import SnowConfig, SurfaceLimits

START = dt.date(2013, 12, 1)
DEFAULT_MONTHLY_MEAN_C = list(load_scenario().weather.monthly_mean_c)


def node(nid: str, kind: str, z: float, lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    return {"id": nid, "kind": kind, "side": kw.pop("side", "militant"), "elevation_m": z, "lat": lat,
            "lon": lon, **kw}


def route(rid: str, a: str, b: str, z: float, surface: str = "track", **kw: Any) -> dict[str, Any]:
    return {"id": rid, "from": a, "to": b, "length_km": 10, "max_elevation_m": z, "surface": surface,
            "capacity_tpd": kw.pop("capacity_tpd", 20), "corridor": kw.pop("corridor", "c"), **kw}


def scenario(routes: list[dict[str, Any]], days: int = 30, **sections: Any) -> Any:
    doc: dict[str, Any] = {
        "scenario": {"name": "closures test", "start": START.isoformat(), "days": days, "seed": 1,
                     "replications": 2},
        "nodes": [node("s", "source", 1400, 34.18, 36.42, corridor="c"),
                  node("t", "town", 1300, 34.15, 36.74)],
        "routes": routes,
    }
    doc.update(sections)
    return scenario_from_dict(doc)


def replay_csv(path: Path, temps: list[float], precip: list[float]) -> str:
    rows = [f"{START + dt.timedelta(days=i)},{t},{p}\n" for i, (t, p) in enumerate(zip(temps, precip, strict=True))]
    path.write_text("date,temperature_c,precipitation_mm\n" + "".join(rows))
    return str(path)


# ----------------------------------------------------------------------------- depth limits
@pytest.mark.parametrize("surface", ["road", "track", "trail"])
def test_factors_change_exactly_at_the_surface_thresholds(surface: str) -> None:
    lim = SnowConfig().limits[surface]
    eps = 1e-6
    depth = np.array([0.0, lim.slowed_cm - eps, lim.slowed_cm, lim.closed_cm - eps, lim.closed_cm, 500.0])
    cap, speed = factors_from_depth(depth[:, None], [lim])
    np.testing.assert_allclose(cap[:, 0], [1, 1, lim.slowed_capacity_factor, lim.slowed_capacity_factor, 0, 0])
    np.testing.assert_allclose(speed[:, 0], [1, 1, lim.slowed_speed_factor, lim.slowed_speed_factor, 0, 0])


def test_default_limits_follow_domain_notes() -> None:
    cfg = SnowConfig()
    # docs/background.md s.5: unploughed road closed >=15, track >=30-40, trail >75; ploughed road >=25-30
    assert cfg.limits["road"].closed_cm == 15
    assert 30 <= cfg.limits["track"].closed_cm <= 40
    assert cfg.limits["trail"].closed_cm >= 75
    assert 25 <= cfg.ploughed_road.closed_cm <= 30
    assert cfg.limits["road"].closed_cm < cfg.limits["track"].closed_cm < cfg.limits["trail"].closed_cm


def test_factors_broadcast_over_replications_and_days_with_per_route_limits() -> None:
    lims = [SurfaceLimits(slowed_cm=10, closed_cm=15), SurfaceLimits(slowed_cm=30, closed_cm=75)]
    depth = np.array([[[12.0, 12.0], [40.0, 40.0]], [[0.0, 80.0], [15.0, 29.9]]])  # (R=2, D=2, N=2)
    cap, _ = factors_from_depth(depth, lims)
    np.testing.assert_allclose(cap, [[[0.5, 1.0], [0.0, 0.5]], [[1.0, 0.0], [0.0, 1.0]]])


def test_army_roads_take_the_ploughed_limits() -> None:
    scn = scenario([route("track", "s", "t", 2000), route("m5", "s", "t", 1300, "road", side="army"),
                    route("old", "s", "t", 1300, "road"),
                    route("forced", "s", "t", 1300, "road", ploughed=True)])
    net = RouteNetwork.from_scenario(scn)
    lims = limits_of_routes(net, scn.snow)
    assert net.ploughed.tolist() == [False, True, False, True]
    assert lims[0] == scn.snow.limits["track"]
    assert lims[1] == lims[3] == scn.snow.ploughed_road
    assert lims[2] == scn.snow.limits["road"]


# ----------------------------------------------------------------------------- ploughed roads
def test_recent_snowfall_window() -> None:
    fresh = np.zeros((1, 8, 1))
    fresh[0, 2, 0] = FRESH_SNOW_CM
    fresh[0, 3, 0] = FRESH_SNOW_CM / 2  # a dusting does not count
    assert recent_snowfall(fresh, 1)[0, :, 0].tolist() == [0, 0, 1, 0, 0, 0, 0, 0]
    assert recent_snowfall(fresh, 3)[0, :, 0].tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert not recent_snowfall(fresh, 0).any()
    assert recent_snowfall(fresh, 50)[0, :, 0].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("plough_days", [1, 2, 3])
def test_ploughed_road_reopens_after_plough_days(plough_days: int) -> None:
    scn = scenario([route("m5", "s", "t", 1300, "road", side="army"), route("trk", "s", "t", 1300)],
                   snow={"plough_days": plough_days})
    net = RouteNetwork.from_scenario(scn)
    days = 12
    depth = np.full((1, days, 2), 50.0)           # deep snow on the ground all along, too deep to break a track
    fresh = np.zeros((1, days, 2))
    fresh[0, 3, :] = 40.0                           # a storm on day 3
    cap, speed = snow_factors(depth, fresh, net, scn.snow)
    lim = scn.snow.ploughed_road
    closed = cap[0, :, 0] == 0.0
    assert np.flatnonzero(closed).tolist() == list(range(3, 3 + plough_days))
    # once cleared, at worst slowed
    np.testing.assert_allclose(cap[0, ~closed, 0], lim.slowed_capacity_factor)
    np.testing.assert_allclose(speed[0, ~closed, 0], lim.slowed_speed_factor)
    # the unploughed track under 50 cm stays closed every day
    assert (cap[0, :, 1] == 0).all()


@pytest.mark.parametrize(("after", "below"), [(1, 60.0), (3, 60.0), (5, 40.0)])
def test_a_track_reopens_as_the_break_rule_says(after: int, below: float) -> None:
    # a storm on day 3 leaves 55 cm that settle 2 cm a day: traffic breaks the track `after` days after the
    # last fresh snow, once less than `below` cm lie; until then it is closed, afterwards slowed
    lim = {"slowed_cm": 15, "closed_cm": 35, "broken_after_days": after, "broken_below_cm": below}
    scn = scenario([route("trk", "s", "t", 2000)], snow={"limits": {**SnowConfig().model_dump()["limits"],
                                                                    "track": lim}})
    net = RouteNetwork.from_scenario(scn)
    days = 20
    depth = np.zeros((1, days, 1))
    depth[0, 3:, 0] = 55.0 - 2.0 * np.arange(days - 3)
    fresh = np.zeros((1, days, 1))
    fresh[0, 3, 0] = 55.0
    cap, _ = snow_factors(depth, fresh, net, scn.snow)
    open_from = next(d for d in range(3, days) if d >= 3 + after and depth[0, d, 0] < below)
    undisturbed_open = next(d for d in range(3, days) if depth[0, d, 0] < 35.0)
    closed = np.flatnonzero(cap[0, :, 0] == 0.0).tolist()
    assert closed == list(range(3, min(open_from, undisturbed_open)))
    broken = [d for d in range(open_from, undisturbed_open)]
    np.testing.assert_allclose(cap[0, broken, 0], 0.5)


def test_a_track_under_deep_snow_is_not_broken_and_fresh_snow_closes_a_broken_track_again() -> None:
    scn = scenario([route("trk", "s", "t", 2000)])
    net = RouteNetwork.from_scenario(scn)
    lim = scn.snow.limits["track"]
    assert (lim.broken_after_days, lim.broken_below_cm) == (7, 45)   # the defaults, docs/background.md s.5
    depth = np.full((1, 30, 1), 38.0)
    depth[0, :10, 0] = 80.0                                          # too deep to break for ten days
    fresh = np.zeros((1, 30, 1))
    fresh[0, 0, 0] = fresh[0, 20, 0] = 5.0                           # a storm, then a new fall on day 20
    cap, _ = snow_factors(depth, fresh, net, scn.snow)
    closed = np.flatnonzero(cap[0, :, 0] == 0.0).tolist()
    assert closed == list(range(0, 10)) + list(range(20, 27))


def test_the_bundled_trails_are_broken_the_day_after_the_snow_below_150_cm() -> None:
    lim = SnowConfig().limits["trail"]
    assert (lim.broken_after_days, lim.broken_below_cm) == (1, 150)
    with pytest.raises(ValueError, match="broken_below_cm"):
        SurfaceLimits(slowed_cm=15, closed_cm=35, broken_below_cm=30)


def test_ploughed_road_under_shallow_snow_is_only_slowed_even_on_a_snowy_day() -> None:
    scn = scenario([route("m5", "s", "t", 1300, "road", side="army")])
    net = RouteNetwork.from_scenario(scn)
    depth = np.array([[[2.0], [10.0], [29.0], [30.0]]])
    fresh = np.full_like(depth, 5.0)
    cap, _ = snow_factors(depth, fresh, net, scn.snow)
    np.testing.assert_allclose(cap[0, :, 0], [1.0, 0.7, 0.7, 0.0])


def test_ploughed_road_end_to_end_from_replayed_weather(tmp_path: Path) -> None:
    # a 60 mm snowfall (60 cm fresh) on day 2 at -10 degC, then cold and dry: the army road closes on
    # day 2 only (plough_days = 1); the unploughed track stays closed for days
    temps, precip = [-10.0] * 15, [0.0] * 15
    precip[2] = 60.0
    csv = replay_csv(tmp_path / "w.csv", temps, precip)
    scn = scenario([route("m5", "s", "t", 1500, "road", side="army"), route("trk", "s", "t", 1500)], days=15,
                   weather={"replay_csv": csv}, snow={"plough_days": 1})
    st_ = compute_state(scn, 2, seed=3)
    assert np.flatnonzero(st_.snow_closed[0, :, 0]).tolist() == [2]
    assert st_.snow_closed[0, 2:5, 1].all() and not st_.snow_closed[0, :2, 1].any()
    np.testing.assert_array_equal(st_.snow_closed[0], st_.snow_closed[1])  # replayed weather is shared


# ----------------------------------------------------------------------------- the snow line
def test_route_below_the_snow_line_never_closes_and_one_above_does() -> None:
    # 0 degC at 1500 m all winter: +4.95 degC at 600 m, above the 0-3 degC mix, so no snow falls there;
    # -5.5 degC at 2500 m, all snow
    weather = {"monthly_mean_c": [0.0] * 12, "anomaly_sd_c": 0.0, "storms_per_month": [0.0] * 12}
    scn = scenario([route("valley", "s", "t", 600, "road"), route("crest", "s", "t", 2500, "track")],
                   days=120, weather=weather)
    st_ = compute_state(scn, 10, seed=2)
    assert not st_.route_depth_cm[..., 0].any()
    assert (st_.snow_capacity_factor[..., 0] == 1.0).all()
    assert st_.snow_closed[..., 1].any(axis=1).all(), "the crest closes in every replication"


def test_route_between_bands_takes_interpolated_depth() -> None:
    scn = scenario([route("a", "s", "t", 1800), route("b", "s", "t", 1850), route("c", "s", "t", 1900)])
    st_ = compute_state(scn, 5, seed=4)
    bands = st_.band_elevations_m
    i18, i19 = int(np.flatnonzero(bands == 1800)[0]), int(np.flatnonzero(bands == 1900)[0])
    np.testing.assert_allclose(st_.route_depth_cm[..., 0], st_.band_depth_cm[..., i18])
    np.testing.assert_allclose(st_.route_depth_cm[..., 2], st_.band_depth_cm[..., i19])
    np.testing.assert_allclose(st_.route_depth_cm[..., 1],
                               0.5 * (st_.band_depth_cm[..., i18] + st_.band_depth_cm[..., i19]))


def test_higher_copy_of_every_route_is_closed_whenever_the_lower_is() -> None:
    base = load_scenario()
    doc = base.model_dump(by_alias=True, exclude_none=True)
    raised = [dict(r, id=r["id"] + "+300", max_elevation_m=min(r["max_elevation_m"] + 300, 3000))
              for r in doc["routes"]]
    doc["routes"] = doc["routes"] + raised
    scn = scenario_from_dict(doc)
    st_ = compute_state(scn, 60, seed=8)
    n = len(base.routes)
    low, high = st_.snow_closed[..., :n], st_.snow_closed[..., n:]
    assert low.any()
    assert not (low & ~high).any()
    assert (st_.snow_capacity_factor[..., n:] <= st_.snow_capacity_factor[..., :n] + 1e-12).all()


def test_warmer_climate_never_closes_a_route_on_a_day_the_colder_one_left_open() -> None:
    scn = load_scenario()
    warm = scn.with_updates({"weather.monthly_mean_c": [m + 0.5 for m in scn.weather.monthly_mean_c]})
    a, b = compute_state(scn, 100, seed=3), compute_state(warm, 100, seed=3)
    assert not (b.snow_closed & ~a.snow_closed).any()


# ----------------------------------------------------------------------------- Hypothesis: monotone physics
SURFACE_SIDE = st.sampled_from([("track", "militant"), ("trail", "militant"), ("road", "militant"),
                                ("road", "army")])


@st.composite
def small_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A source, a town, a junction and 1-4 routes with random highest points and surfaces."""
    n = draw(st.integers(1, 4))
    routes = []
    for i in range(n):
        surface, side = draw(SURFACE_SIDE)
        a, b = draw(st.sampled_from([("s", "t"), ("s", "j"), ("j", "t")]))
        routes.append(route(f"r{i}", a, b, draw(st.integers(900, 2700)), surface, side=side,
                            capacity_tpd=draw(st.integers(1, 100))))
    routes.append(route("link", "s", "t", 1000, "road"))  # keep the town reachable
    return {
        "scenario": {"name": "hyp", "start": draw(st.sampled_from(["2013-11-15", "2013-12-01", "2014-01-10"])),
                     "days": draw(st.integers(60, 90)), "seed": draw(st.integers(0, 10_000)), "replications": 5},
        "nodes": [node("s", "source", draw(st.integers(800, 1800)), 34.18, 36.42, corridor="c"),
                  node("j", "junction", draw(st.integers(800, 2200)), 34.10, 36.55),
                  node("t", "town", draw(st.integers(800, 1800)), 34.15, 36.74)],
        "routes": routes,
    }


def closure_frequency(doc: dict[str, Any]) -> np.ndarray:
    scn = scenario_from_dict(doc)
    return compute_state(scn, 5).snow_closed.mean(axis=(0, 1))


HYP = settings(max_examples=25, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow])


@HYP
@given(doc=small_scenarios(), which=st.integers(0, 3), rise=st.integers(1, 800))
def test_raising_a_pass_never_lowers_its_snow_closure_frequency(doc: dict[str, Any], which: int,
                                                                rise: int) -> None:
    i = which % (len(doc["routes"]) - 1)
    before = closure_frequency(doc)
    higher = {**doc, "routes": [dict(r) for r in doc["routes"]]}
    higher["routes"][i]["max_elevation_m"] = doc["routes"][i]["max_elevation_m"] + rise
    after = closure_frequency(higher)
    assert after[i] >= before[i] - 1e-12
    others = [k for k in range(len(before)) if k != i]
    np.testing.assert_array_equal(after[others], before[others])  # the other routes do not move


@HYP
@given(doc=small_scenarios(), warming=st.floats(0.1, 6.0))
def test_warmer_climate_never_raises_closure_frequency(doc: dict[str, Any], warming: float) -> None:
    before = closure_frequency(doc)
    warm = {**doc, "weather": {"monthly_mean_c": [m + warming for m in DEFAULT_MONTHLY_MEAN_C]}}
    after = closure_frequency(warm)
    assert (after <= before + 1e-12).all(), (before, after)
