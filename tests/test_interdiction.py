"""Interdiction: strikes by air, artillery and rockets, repairs, grounding in weather, siege lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qalamoun_sim import RouteNetwork, load_scenario, scenario_from_dict
from qalamoun_sim.environment.interdiction import (
    asset_active_days,
    grounded_days,
    simulate_strikes,
    target_weights,
)
from qalamoun_sim.environment.state import STREAM_STRIKES, compute_state, replication_rng

START = dt.date(2013, 12, 1)
DAYS = 20

# base at (34.00, 36.70); "near" routes have midpoints ~5-10 km away, "far" ones ~100 km
NODES = [
    {"id": "s", "kind": "source", "side": "militant", "elevation_m": 1400, "lat": 34.02, "lon": 36.62,
     "corridor": "c"},
    {"id": "t", "kind": "town", "side": "militant", "elevation_m": 1300, "lat": 34.00, "lon": 36.74},
    {"id": "u", "kind": "junction", "side": "militant", "elevation_m": 1300, "lat": 34.90, "lon": 36.70},
    {"id": "v", "kind": "junction", "side": "militant", "elevation_m": 1300, "lat": 34.92, "lon": 36.75},
    {"id": "base", "kind": "base", "side": "army", "elevation_m": 1200, "lat": 34.00, "lon": 36.70},
]


def routes(**caps: float) -> list[dict[str, Any]]:
    def r(rid: str, a: str, b: str, **kw: Any) -> dict[str, Any]:
        return {"id": rid, "from": a, "to": b, "length_km": 10, "max_elevation_m": 1300, "surface": "track",
                "capacity_tpd": caps.get(rid, 20), "corridor": "c", **kw}
    return [r("near", "s", "t"),
            r("army_road", "s", "t", surface="road", side="army"),
            r("far", "u", "v"),
            r("near2", "s", "t")]


def scenario(assets: list[dict[str, Any]] | None, tmp_path: Path | None = None, wet: list[bool] | None = None,
             caps: dict[str, float] | None = None, with_interdiction: bool = True, **itd: Any) -> Any:
    doc: dict[str, Any] = {
        "scenario": {"name": "strikes", "start": START.isoformat(), "days": DAYS, "seed": 5, "replications": 4},
        "nodes": NODES, "routes": routes(**(caps or {})),
    }
    if with_interdiction:
        doc["interdiction"] = {"assets": assets or [], **itd}
    if wet is not None:
        assert tmp_path is not None
        csv = tmp_path / "wx.csv"
        csv.write_text("date,temperature_c,precipitation_mm\n" + "".join(
            f"{START + dt.timedelta(days=i)},5.0,{3.0 if w else 0.0}\n" for i, w in enumerate(wet)))
        doc["weather"] = {"replay_csv": str(csv)}
    return scenario_from_dict(doc)


def asset(**kw: Any) -> dict[str, Any]:
    a = {"id": "a", "kind": "artillery", "base": "base", "range_km": 30, "strikes_per_day": 1,
         "hit_probability": 1.0, "repair_days": 1}
    a.update(kw)
    return a


# ----------------------------------------------------------------------------- no interdiction
def test_no_interdiction_section_means_nothing_is_ever_interdicted() -> None:
    scn = scenario(None, with_interdiction=False)
    assert scn.interdiction is None
    st_ = compute_state(scn, 6, seed=1)
    assert st_.interdicted.shape == (6, DAYS, 4)
    assert not st_.interdicted.any()


def test_bundled_snow_only_scenario_has_no_interdiction() -> None:
    from qalamoun_sim.scenario import default_scenario_path

    scn = load_scenario(default_scenario_path().with_name("snow_only.toml"))
    assert scn.interdiction is None
    assert not compute_state(scn, 3, seed=1).interdicted.any()


def test_empty_interdiction_section_interdicts_nothing() -> None:
    assert not compute_state(scenario([]), 3, seed=1).interdicted.any()


# ----------------------------------------------------------------------------- targets
def test_assets_never_hit_army_routes_or_routes_out_of_range() -> None:
    scn = scenario([asset(strikes_per_day=5, repair_days=3)])
    net = RouteNetwork.from_scenario(scn)
    w = target_weights(net, scn.interdiction.assets[0])
    assert w.tolist() == [20.0, 0.0, 0.0, 20.0]
    st_ = compute_state(scn, 30, seed=2)
    assert not st_.interdicted[..., 1].any(), "army road struck"
    assert not st_.interdicted[..., 2].any(), "route out of range struck"
    assert st_.interdicted[..., 0].any() and st_.interdicted[..., 3].any()


def test_default_scenario_never_strikes_army_routes() -> None:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    army = net.route_side == "army"
    st_ = compute_state(scn, 40, seed=6)
    assert army.any() and st_.interdicted[..., ~army].any()
    assert not st_.interdicted[..., army].any()


def test_targets_are_chosen_in_proportion_to_capacity() -> None:
    scn = scenario([asset()], caps={"near": 30, "near2": 10})
    st_ = compute_state(scn, 400, seed=3)
    hits = st_.interdicted[..., [0, 3]]
    assert (hits.sum(axis=-1) == 1).all(), "one strike a day, always a hit, repaired the next day"
    assert hits[..., 0].mean() == pytest.approx(0.75, abs=0.02)


def test_asset_out_of_range_of_every_route_does_nothing() -> None:
    st_ = compute_state(scenario([asset(range_km=1)]), 5, seed=1)
    assert not st_.interdicted.any()


# ----------------------------------------------------------------------------- repairs
@pytest.mark.parametrize("repair_days", [1, 2, 5])
def test_hit_route_stays_closed_exactly_repair_days(repair_days: int) -> None:
    day = START + dt.timedelta(days=4)
    scn = scenario([asset(repair_days=repair_days, start=day.isoformat(), end=day.isoformat())],
                   caps={"near2": 1e-9})
    st_ = compute_state(scn, 8, seed=4)
    for k in range(8):
        closed_days = np.flatnonzero(st_.interdicted[k].any(axis=-1)).tolist()
        assert closed_days == list(range(4, 4 + repair_days))
        assert st_.interdicted[k].sum() == repair_days, "one route, one strike"


def test_repeated_hits_extend_the_closure_without_gaps() -> None:
    # a hit every day on the single eligible route, repaired in 3 days: closed from day 0 to the end
    scn = scenario([asset(repair_days=3)], caps={"near2": 1e-9})
    st_ = compute_state(scn, 3, seed=4)
    assert st_.interdicted[..., 0].all()


def test_zero_hit_probability_or_zero_strikes_never_interdict() -> None:
    assert not compute_state(scenario([asset(hit_probability=0.0, strikes_per_day=10)]), 5).interdicted.any()
    assert not compute_state(scenario([asset(strikes_per_day=0)]), 5).interdicted.any()


def test_hit_probability_is_respected_on_average() -> None:
    scn = scenario([asset(hit_probability=0.3)], caps={"near2": 1e-9})
    st_ = compute_state(scn, 300, seed=8)
    assert st_.interdicted[..., 0].mean() == pytest.approx(0.3, abs=0.02)


def test_asset_acts_only_between_its_start_and_end() -> None:
    s, e = START + dt.timedelta(days=5), START + dt.timedelta(days=9)
    scn = scenario([asset(start=s.isoformat(), end=e.isoformat())])
    a = scn.interdiction.assets[0]
    assert np.flatnonzero(asset_active_days(a, scn)).tolist() == [5, 6, 7, 8, 9]
    st_ = compute_state(scn, 5, seed=1)
    struck = st_.interdicted.any(axis=(0, 2))
    assert np.flatnonzero(struck).tolist() == [5, 6, 7, 8, 9]


# ----------------------------------------------------------------------------- weather
def test_grounded_air_asset_never_strikes_on_wet_days(tmp_path: Path) -> None:
    wet = [i % 3 == 0 or i in (7, 8) for i in range(DAYS)]
    scn = scenario([asset(kind="air", range_km=50)], tmp_path, wet, caps={"near2": 1e-9})
    assert scn.interdiction.assets[0].grounded_in_weather
    st_ = compute_state(scn, 10, seed=9)
    struck = st_.interdicted[..., 0]
    # always a hit on the one route, repaired the next day: closed exactly on the dry days
    np.testing.assert_array_equal(struck, np.broadcast_to(~np.array(wet), struck.shape))


def test_grounded_air_asset_on_random_weather_strikes_only_on_dry_calm_days() -> None:
    scn = scenario([asset(kind="air", range_km=50, strikes_per_day=3)], caps={"near2": 1e-9})
    st_ = compute_state(scn, 50, seed=10)
    struck = st_.interdicted[..., 0]
    wet = (st_.precipitation_mm > 0) | st_.storm
    assert wet.any() and struck.any()
    assert not (struck & wet).any()


def test_artillery_is_not_grounded_by_weather(tmp_path: Path) -> None:
    wet = [True] * DAYS
    scn = scenario([asset(kind="artillery")], tmp_path, wet, caps={"near2": 1e-9})
    assert compute_state(scn, 3, seed=1).interdicted[..., 0].all()


def test_grounding_can_be_set_for_any_asset(tmp_path: Path) -> None:
    wet = [True] * DAYS
    rockets = scenario([asset(kind="rocket", grounded_when_precipitating=True)], tmp_path, wet)
    air = scenario([asset(kind="air", grounded_when_precipitating=False)], tmp_path, wet)
    assert not compute_state(rockets, 3, seed=1).interdicted.any()
    assert compute_state(air, 3, seed=1).interdicted.any()


def test_grounded_days_function() -> None:
    scn = scenario([asset(kind="air"), asset(id="b", kind="artillery")])
    st_ = compute_state(scn, 4, seed=2)
    from qalamoun_sim.environment import Weather

    wx = Weather(st_.temperature_c, st_.precipitation_mm, st_.storm, 1500.0, 5.5)
    air, guns = scn.interdiction.assets
    np.testing.assert_array_equal(grounded_days(air, wx), (wx.precipitation_mm > 0) | wx.storm)
    assert not grounded_days(guns, wx).any()


# ----------------------------------------------------------------------------- siege lines
def test_siege_line_routes_are_always_interdicted() -> None:
    scn = scenario([], siege_lines=["far", "near2"])
    st_ = compute_state(scn, 5, seed=1)
    assert st_.interdicted[..., [2, 3]].all()
    assert not st_.interdicted[..., [0, 1]].any()


def test_siege_lines_hold_alongside_strikes() -> None:
    scn = scenario([asset(hit_probability=0.5, strikes_per_day=2)], siege_lines=["army_road"])
    st_ = compute_state(scn, 20, seed=1)
    assert st_.interdicted[..., 1].all()


# ----------------------------------------------------------------------------- streams
def test_strikes_of_a_replication_do_not_depend_on_its_batch() -> None:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    full = compute_state(scn, 6, seed=12, network=net)
    from qalamoun_sim.environment import Weather

    wx = Weather(full.temperature_c[[2]], full.precipitation_mm[[2]], full.storm[[2]], 1500.0, 5.5)
    alone = simulate_strikes(scn, net, wx, [replication_rng(12, 2, STREAM_STRIKES)])
    np.testing.assert_array_equal(alone[0], full.interdicted[2])
