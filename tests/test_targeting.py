"""Optimal targeting of strikes (``Asset.targeting = "optimal"``) in the exogenous state: the day's optimal
routes within range, the other assets' strikes untouched, the claim and the engine on top of it."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from qalamoun_sim import RouteNetwork, compute_state, load_scenario, scenario_from_dict
from qalamoun_sim.analysis.claim import evaluate_claim
from qalamoun_sim.engine.engine import simulate_replication
from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.network.interdiction import FlowInterdiction


def place(nid: str, kind: str, lat: float, side: str = "militant", **kw: Any) -> dict[str, Any]:
    return {"id": nid, "kind": kind, "side": side, "elevation_m": 300, "lat": lat, "lon": 36.0, **kw}


def road(rid: str, a: str, b: str, cap: float, **kw: Any) -> dict[str, Any]:
    return {"id": rid, "from": a, "to": b, "length_km": 8, "max_elevation_m": 400, "surface": "road",
            "capacity_tpd": cap, "corridor": "c", **kw}


def gun(**kw: Any) -> dict[str, Any]:
    return {"id": "gun", "kind": "artillery", "base": "base", "range_km": 100, "strikes_per_day": 1,
            "hit_probability": 1.0, "repair_days": 1, "targeting": "optimal", **kw}


def doc(assets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "scenario": {"name": "targeting", "start": "2013-12-01", "days": 12, "seed": 3},
        "nodes": [place("s", "source", 34.0, supply_tpd=100, corridor="c"), place("a", "junction", 34.05),
                  place("t", "town", 34.1, stock_t=100, consumption_tpd=5), place("base", "base", 34.2, "army")],
        "routes": [road("sa", "s", "a", 10), road("at", "a", "t", 10), road("st", "s", "t", 5),
                   road("other", "a", "t", 50, corridor=None)],
        "claim": {"corridor": "c", "window_start": "2013-12-01", "window_end": "2013-12-12"},
        "interdiction": {"assets": assets},
    }


def test_an_optimal_asset_strikes_the_days_best_routes() -> None:
    scn = scenario_from_dict(doc([gun(strikes_per_day=2)]))
    net = RouteNetwork.from_scenario(scn)
    state = compute_state(scn, 3, seed=1)
    fi = FlowInterdiction.for_corridor(net, "c")
    best = fi.solve(state.snow_capacity_factor[0, 0], 2).flow
    for k in range(3):
        for d in range(scn.scenario.days):
            f = state.capacity_factor[k, d]
            assert state.interdicted[k, d].sum() <= 2
            assert not state.interdicted[k, d, net.route_index["other"]]  # outside the corridor: never a target
            assert fi.max_flow(f) == pytest.approx(best, abs=1e-9)


def test_hits_follow_the_hit_probability_and_last_the_repair_days() -> None:
    scn = scenario_from_dict(doc([gun(hit_probability=0.0)]))
    assert not compute_state(scn, 2, seed=1).interdicted.any()
    closed = compute_state(scenario_from_dict(doc([gun(repair_days=3)])), 1, seed=1).interdicted[0]
    starts = closed[1:] & ~closed[:-1]  # a hit on a route open the day before
    for d, r in zip(*np.nonzero(starts), strict=True):
        assert closed[d + 1:d + 4, r].all()  # closed that day and the two after it
    assert closed[0].any()


def test_out_of_range_nothing_is_struck() -> None:
    scn = scenario_from_dict(doc([gun(range_km=1)]))
    assert not compute_state(scn, 2, seed=1).interdicted.any()


def test_an_optimal_asset_leaves_the_random_assets_strikes_as_they_were() -> None:
    rand = gun(id="rand", strikes_per_day=2, hit_probability=0.5, repair_days=2, targeting="random")
    alone = compute_state(scenario_from_dict(doc([rand])), 4, seed=9).interdicted
    both = compute_state(scenario_from_dict(doc([rand, gun(id="opt")])), 4, seed=9).interdicted
    assert (both >= alone).all() and (both.sum() > alone.sum())


def test_random_is_the_default_and_changes_nothing() -> None:
    scn = load_scenario()
    explicit = scn.model_dump(by_alias=True)
    for a in explicit["interdiction"]["assets"]:
        a["targeting"] = "random"
    a, b = compute_state(scn, 3, seed=2), compute_state(scenario_from_dict(explicit), 3, seed=2)
    assert (a.interdicted == b.interdicted).all()


@pytest.fixture(scope="module")
def targeted() -> Any:
    d = load_scenario().model_dump(by_alias=True)
    d["interdiction"]["assets"][1]["targeting"] = "optimal"
    return scenario_from_dict(d)


def test_the_state_of_some_routes_equals_the_whole_state_with_optimal_targeting(targeted: Any) -> None:
    whole = compute_state(targeted, 2, seed=5)
    some = compute_state(targeted, 2, seed=5, routes=["arsal-jurd", "m5-north-qara"])
    cols = [whole.route_ids.index(r) for r in some.route_ids]
    assert (some.interdicted == whole.interdicted[..., cols]).all()
    np.testing.assert_array_equal(some.snow_capacity_factor, whole.snow_capacity_factor[..., cols])


def test_the_claim_and_the_engine_run_with_optimal_targeting(targeted: Any) -> None:
    v = evaluate_claim(targeted, replications=3, seed=1)
    base = evaluate_claim(load_scenario(), replications=3, seed=1)
    assert 0.0 <= v["total_cut_share"]["connectivity"]["p50"] <= 1.0
    assert v["snow_cut_share"] == base["snow_cut_share"]  # snow is the same whichever way the guns aim
    run = simulate_replication(targeted, replication=0, seed=1)
    routes = run.routes
    assert set(routes["state"].astype(str)) <= {"open", "snow", "interdicted", "both"}


def test_optimal_targeting_needs_a_claim_corridor_with_routes() -> None:
    d = copy.deepcopy(doc([gun()]))
    d["claim"]["corridor"] = "nowhere"
    with pytest.raises(ScenarioError, match=r"interdiction.assets\[0\].targeting"):
        scenario_from_dict(d)
