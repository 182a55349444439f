"""The budget curve (analysis.interdiction) and the ``interdict`` command: known answers, the connectivity
share's rules, JSON keys, files and one-line errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_main

from qalamoun_sim import RouteNetwork, load_scenario, scenario_from_dict
from qalamoun_sim.analysis.claim import claim_shares
from qalamoun_sim.analysis.interdiction import optimal_interdiction, parse_budgets
from qalamoun_sim.analysis.interdiction_curves import CorridorDays, daily_curves, plan_curves
from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.network.interdiction import FlowInterdiction

PNG = b"\x89PNG\r\n\x1a\n"


def place(nid: str, kind: str, lat: float, **kw: Any) -> dict[str, Any]:
    return {"id": nid, "kind": kind, "side": "militant", "elevation_m": 300, "lat": lat, "lon": 36.0 + lat - 34.0, **kw}


def road(rid: str, a: str, b: str, cap: float, **kw: Any) -> dict[str, Any]:
    return {"id": rid, "from": a, "to": b, "length_km": 8, "max_elevation_m": 400, "surface": "road",
            "capacity_tpd": cap, "corridor": "c", **kw}


#: s -> a -> t (10 t/day each) beside s -> t (5 t/day), below any snow: 15 / 5 / 0 t/day with 0 / 1 / 2 strikes.
TINY: dict[str, Any] = {
    "scenario": {"name": "interdiction known answer", "start": "2013-12-01", "days": 10, "seed": 1},
    "nodes": [place("s", "source", 34.0, supply_tpd=100, corridor="c"), place("a", "junction", 34.05),
              place("t", "town", 34.1, stock_t=100, consumption_tpd=5)],
    "routes": [road("sa", "s", "a", 10), road("at", "a", "t", 10), road("st", "s", "t", 5)],
    "claim": {"corridor": "c", "window_start": "2013-12-01", "window_end": "2013-12-10"},
}


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = ["[scenario]", 'name = "interdiction known answer"', "start = 2013-12-01", "days = 10", "seed = 1"]
    for n in TINY["nodes"]:
        lines += ["[[nodes]]"] + [f"{k} = {json.dumps(v)}" for k, v in n.items()]
    for r in TINY["routes"]:
        lines += ["[[routes]]"] + [f"{k} = {json.dumps(v)}" for k, v in r.items()]
    lines += ["[claim]", 'corridor = "c"', "window_start = 2013-12-01", "window_end = 2013-12-10"]
    path = tmp_path_factory.mktemp("scn") / "tiny_interdict.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def bundled() -> Any:
    return load_scenario()


# ---------------------------------------------------------------------------- known answers
@pytest.mark.parametrize("mode", ["daily", "plan"])
def test_the_known_answer_of_the_tiny_network(mode: str) -> None:
    r = optimal_interdiction(scenario_from_dict(TINY), [0, 1, 2], mode, replications=3, seed=1).as_dict()
    assert r["nominal_flow_tpd"] == 15.0
    assert [c["residual_flow_tpd"]["p50"] for c in r["budget_curve"]] == [15.0, 5.0, 0.0]
    assert [c["cut_share"]["p50"] for c in r["budget_curve"]] == [0.0, pytest.approx(2 / 3, abs=1e-6), 1.0]
    assert r["strikes_to_cut_rest"] == {"p05": 2, "p50": 2, "p95": 2}
    assert r["no_snow_strikes_to_cut_rest"] == 2


def test_budget_zero_and_the_random_policy_are_the_claims_connectivity_shares(bundled: Any) -> None:
    """Nominal flow = RouteNetwork.max_flow; budget 0 = snow's connectivity share; random = the total share."""
    report = optimal_interdiction(bundled, [0, 1], replications=4, seed=11)
    shares = claim_shares(bundled, 4, 11)
    window = shares.window_mask()
    assert report.nominal_flow == RouteNetwork.from_scenario(bundled).max_flow("arsal")
    np.testing.assert_allclose(report.share[:, 0], shares.daily["snow"]["connectivity"][:, window].mean(axis=1),
                               atol=1e-12)
    np.testing.assert_allclose(report.random_share, shares.daily["total"]["connectivity"][:, window].mean(axis=1),
                               atol=1e-12)


@pytest.fixture(scope="module")
def both_modes(bundled: Any) -> dict[str, Any]:
    return {m: optimal_interdiction(bundled, [0, 1, 2, 3], m, replications=6, seed=2) for m in ("daily", "plan")}


def test_the_curve_never_rises_and_the_daily_choice_beats_any_fixed_plan(both_modes: dict[str, Any]) -> None:
    for report in both_modes.values():
        assert (np.diff(report.residual, axis=1) <= 1e-9).all()
        assert (np.diff(report.share, axis=1) >= -1e-9).all()
    assert (both_modes["daily"].residual <= both_modes["plan"].residual + 1e-9).all()


def test_json_keys_and_routes_by_mode(both_modes: dict[str, Any]) -> None:
    daily, plan = both_modes["daily"].as_dict(), both_modes["plan"].as_dict()
    for r in (daily, plan):
        for key in ("scenario", "seed", "replications", "mode", "corridor", "nominal_flow_tpd", "budget_curve",
                    "random_policy", "strikes_to_cut_rest", "no_snow_curve", "window_start", "window_end"):
            assert key in r
        for c in r["budget_curve"]:
            assert set(c) >= {"strikes", "residual_flow_tpd", "cut_share", "routes"}
            assert c["residual_flow_tpd"]["p05"] <= c["residual_flow_tpd"]["p50"] <= c["residual_flow_tpd"]["p95"]
        assert set(r["random_policy"]) >= {"cut_share", "residual_flow_tpd", "routes_closed_per_day"}
        json.dumps(r)
    assert isinstance(plan["budget_curve"][2]["routes"], list) and len(plan["budget_curve"][2]["routes"]) <= 2
    freq = daily["budget_curve"][1]["routes"]
    assert isinstance(freq, dict) and all(0 < v <= 1 for v in freq.values()) and sum(freq.values()) <= 1 + 1e-9


def test_a_corridor_closed_by_snow_gives_zero_for_every_budget() -> None:
    doc = copy.deepcopy(TINY)
    doc["scenario"].update(start="2013-09-01", days=120)
    for r in doc["routes"]:
        r.update(max_elevation_m=3000, surface="trail")
    doc["weather"] = {"monthly_mean_c": [-25.0] * 12, "monthly_precip_mm": [400.0] * 12}
    r = optimal_interdiction(scenario_from_dict(doc), [0, 1, 2, 5], replications=3, seed=1).as_dict()
    assert all(c["residual_flow_tpd"]["p95"] == 0.0 and c["cut_share"]["p05"] == 1.0 for c in r["budget_curve"])
    assert r["strikes_to_cut_rest"] == {"p05": 0, "p50": 0, "p95": 0}
    assert r["milp_solves"] == 2  # only the open-weather curve needs the MILP (one and two strikes)


def test_curves_of_closed_patterns_need_no_solve() -> None:
    fi = FlowInterdiction([("s", "a", 0, 10.0), ("a", "t", 1, 10.0), ("s", "t", 2, 5.0)], 3, ["s"], ["t"])
    closed = CorridorDays(np.zeros((2, 3)), np.array([15.0, 15.0]), np.array([3, 2]), np.array([[0, 1, 0]]),
                          np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((1, 3), dtype=int))
    for build in (daily_curves, plan_curves):
        curves = build(fi, closed, 4, [], 1.0, ("sa", "at", "st"))
        assert curves.solves == 0 and (curves.flow == 0).all()
        assert (curves.replication_share(4) == 1.0).all() and curves.strikes_needed(1.0).tolist() == [0.0]


def test_assets_limit_the_reach_and_the_count_of_strikes(bundled: Any) -> None:
    free = optimal_interdiction(bundled, [0, 2], replications=2, seed=4).as_dict()
    held = optimal_interdiction(bundled, [0, 2], replications=2, seed=4, assets=True).as_dict()
    assert held["assets"] and held["budget_curve"][0] == free["budget_curve"][0]
    assert held["budget_curve"][1]["residual_flow_tpd"]["p50"] >= free["budget_curve"][1]["residual_flow_tpd"]["p50"]


def test_routes_restrict_the_candidates(bundled: Any) -> None:
    r = optimal_interdiction(bundled, [0, 1, 2], "plan", replications=2, seed=4, routes=["arsal-jurd"]).as_dict()
    assert [c["routes"] for c in r["budget_curve"]] == [[], ["arsal-jurd"], ["arsal-jurd"]]


@pytest.mark.parametrize("kwargs, field", [({"budgets": [-1]}, "--budget"), ({"budgets": []}, "--budget"),
                                           ({"target": 0.0}, "--target"), ({"target": 1.5}, "--target"),
                                           ({"mode": "weekly"}, "--mode"), ({"routes": ["nowhere"]}, "--routes"),
                                           ({"replications": 0}, "--replications")])
def test_bad_arguments_are_scenario_errors_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    args = {"budgets": [0, 1], "mode": "daily", "replications": 2, **kwargs}
    with pytest.raises(ScenarioError) as info:
        optimal_interdiction(scenario_from_dict(TINY), args.pop("budgets"), args.pop("mode"), args.pop("replications"),
                             seed=1, **args)
    assert str(info.value).startswith(field)


def test_a_corridor_without_routes_names_the_claim_corridor() -> None:
    doc = copy.deepcopy(TINY)
    doc["claim"]["corridor"] = "elsewhere"
    with pytest.raises(ScenarioError, match="claim.corridor"):
        optimal_interdiction(scenario_from_dict(doc), [0, 1], replications=1)


def test_parse_budgets() -> None:
    assert parse_budgets("3,1,1") == (1, 3)
    assert parse_budgets("0-2,5") == (0, 1, 2, 5)
    for bad in ("", "1,x", "-1", "2-x", "1.5"):
        with pytest.raises(ScenarioError, match="--budget"):
            parse_budgets(bad)


# ---------------------------------------------------------------------------- the command
def test_cli_json_is_one_object_and_deterministic(capsys: pytest.CaptureFixture[str], tiny_file: Path) -> None:
    args = ["interdict", str(tiny_file), "--budget", "0,1,2", "--mode", "plan", "--replications", "3", "--json"]
    rc, out, err = run_main(capsys, *args)
    assert rc == 0, err
    first = json.loads(out)
    assert {c["strikes"]: c["residual_flow_tpd"]["p50"] for c in first["budget_curve"]} == {0: 15.0, 1: 5.0, 2: 0.0}
    assert first["mode"] == "plan" and first["corridor"] == "c" and first["files"] == []
    assert json.loads(run_main(capsys, *args)[1]) == first


def test_cli_text_and_files(capsys: pytest.CaptureFixture[str], tiny_file: Path, tmp_path: Path) -> None:
    rc, out, err = run_main(capsys, "interdict", str(tiny_file), "--budget", "0-2", "--replications", "2",
                            "--target", "0.9", "--out", str(tmp_path / "out"))
    assert rc == 0, err
    assert "fewest strikes to bring the cut share to 0.90" in out and "residual t/day" in out
    assert json.loads((tmp_path / "out" / "interdict.json").read_text())["target"] == 0.9
    for name in ("budget_curve.png", "interdiction_map.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == PNG


@pytest.mark.parametrize("extra, needle", [(["--budget", "1,x"], "--budget"), (["--budget=-1"], "--budget"),
                                           (["--target", "0"], "--target"), (["--target", "abc"], "--target"),
                                           (["--target", "1.01"], "--target"), (["--routes", "sa,zz"], "--routes"),
                                           (["--mode", "weekly"], "--mode"), (["--replications", "0"], "--replications"),
                                           (["--assets"], "interdiction.assets")])
def test_cli_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tiny_file: Path,
                                              extra: list[str], needle: str) -> None:
    rc, out, err = run_main(capsys, "interdict", str(tiny_file), "--replications", "1", *extra)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err and needle in err, err
