"""The 70 percent verdict: reproducibility, the JSON contract (docs/reference.md, Outputs), the table, known answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qalamoun_sim import RouteNetwork, load_scenario, scenario_from_dict
from qalamoun_sim.analysis.claim import ClaimShares, claim_shares, claim_verdict, evaluate_claim
from qalamoun_sim.analysis.metrics import METRICS
from qalamoun_sim.environment.state import compute_state
from qalamoun_sim.scenario import default_scenario_path

DATA = Path(__file__).parent / "data"
DESIGN_KEYS = {"scenario", "seed", "replications", "threshold", "corridor", "window_start", "window_end",
               "snow_cut_share", "interdiction_cut_share", "total_cut_share", "claim_probability",
               "first_day_at_threshold"}
EXTRA_KEYS = {"metric", "rule", "fraction_of_window_days_at_threshold", "never_at_threshold_fraction",
              "total_claim_probability", "claim_probability_ci95", "total_claim_probability_ci95",
              "replications_for_ci_halfwidth", "readings"}
SHARE_KEYS = ("snow_cut_share", "interdiction_cut_share", "total_cut_share")
Q = ("p05", "p50", "p95")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    here = Path(sys.executable).parent / "qalamoun-sim"
    exe = str(here) if here.exists() else shutil.which("qalamoun-sim")
    assert exe, "the qalamoun-sim console script is not installed"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def default() -> Any:
    return load_scenario()


@pytest.fixture(scope="module")
def cli_json() -> dict[str, Any]:
    p = cli("claim", "--json", "--replications", "20", "--seed", "5")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


# ----------------------------------------------------------------------------- reproducibility
def test_state_of_a_replication_does_not_depend_on_its_block(default: Any) -> None:
    net = RouteNetwork.from_scenario(default)
    full = compute_state(default, range(10), seed=77, network=net)
    part = compute_state(default, [3, 7], seed=77, network=net)
    assert part.replications.tolist() == [3, 7]
    assert part.dates == full.dates and part.route_ids == full.route_ids
    for f in dataclasses.fields(full):
        a, b = getattr(full, f.name), getattr(part, f.name)
        if isinstance(a, np.ndarray) and a.ndim >= 2:
            np.testing.assert_array_equal(b, a[[3, 7]], err_msg=f.name)
    one = full.replication(7)
    np.testing.assert_array_equal(one.interdicted, part.interdicted[[1]])
    np.testing.assert_array_equal(compute_state(default, 4, seed=77, network=net).snow_capacity_factor,
                                  full.snow_capacity_factor[:4])


def test_state_is_reproducible_and_seeds_differ(default: Any) -> None:
    a, b = compute_state(default, 3, seed=1), compute_state(default, 3, seed=1)
    c = compute_state(default, 3, seed=2)
    np.testing.assert_array_equal(a.band_depth_cm, b.band_depth_cm)
    np.testing.assert_array_equal(a.interdicted, b.interdicted)
    assert not np.array_equal(a.temperature_c, c.temperature_c)
    assert not np.array_equal(a.temperature_c[0], a.temperature_c[1]), "replications must differ"
    # the scenario's own seed is the default
    np.testing.assert_array_equal(compute_state(default, 2).temperature_c,
                                  compute_state(default, 2, seed=default.scenario.seed).temperature_c)


def test_claim_shares_do_not_depend_on_the_block_size(default: Any) -> None:
    big = claim_shares(default, 12, seed=3)
    small = claim_shares(default, 12, seed=3, block=5)
    for kind in ("snow", "interdiction", "total"):
        for m in METRICS:
            np.testing.assert_allclose(small.daily[kind][m], big.daily[kind][m], rtol=0, atol=1e-12)
    assert claim_verdict(small) == claim_verdict(big)


def test_same_seed_same_claim_json_on_the_command_line(cli_json: dict[str, Any]) -> None:
    again = cli("claim", "--json", "--replications", "20", "--seed", "5")
    assert again.returncode == 0
    assert json.loads(again.stdout) == cli_json


def test_command_line_and_in_process_verdicts_agree(cli_json: dict[str, Any], default: Any) -> None:
    inproc = evaluate_claim(default, replications=20, seed=5)
    assert json.loads(json.dumps(inproc)) == cli_json
    assert evaluate_claim(default, replications=20, seed=5) == inproc


def test_different_seed_gives_different_draws(cli_json: dict[str, Any], default: Any) -> None:
    other = cli("claim", "--json", "--replications", "20", "--seed", "6")
    assert other.returncode == 0
    assert json.loads(other.stdout) != cli_json
    a, b = claim_shares(default, 5, seed=5), claim_shares(default, 5, seed=6)
    assert not np.array_equal(a.daily["snow"]["capacity"], b.daily["snow"]["capacity"])


# ----------------------------------------------------------------------------- the JSON contract
def test_claim_json_has_exactly_the_design_keys_and_the_extras(cli_json: dict[str, Any]) -> None:
    keys = set(cli_json)
    assert DESIGN_KEYS <= keys, f"missing {DESIGN_KEYS - keys}"
    assert keys == DESIGN_KEYS | EXTRA_KEYS, f"unexpected {keys - DESIGN_KEYS - EXTRA_KEYS}; update EXTRA_KEYS"
    for k in SHARE_KEYS:
        assert set(cli_json[k]) == set(METRICS), k
        for m in METRICS:
            assert set(cli_json[k][m]) == set(Q), (k, m)
    assert set(cli_json["first_day_at_threshold"]) == set(Q)
    assert set(cli_json["fraction_of_window_days_at_threshold"]) == set(Q)


def test_claim_json_values(cli_json: dict[str, Any], default: Any) -> None:
    v = cli_json
    assert v["scenario"] == default.scenario.name
    assert v["seed"] == 5 and v["replications"] == 20
    assert v["threshold"] == 0.7 and v["corridor"] == "arsal" and v["metric"] == "connectivity"
    assert (v["window_start"], v["window_end"]) == ("2013-12-01", "2014-02-28")
    for k in SHARE_KEYS:
        for m in METRICS:
            q = v[k][m]
            assert 0.0 <= q["p05"] <= q["p50"] <= q["p95"] <= 1.0, (k, m, q)
    for k in ("claim_probability", "total_claim_probability", "never_at_threshold_fraction"):
        assert 0.0 <= v[k] <= 1.0
    assert v["total_claim_probability"] >= v["claim_probability"], "snow and army reach it whenever snow does"
    first, last = default.scenario.start, default.dates[-1]
    seen = [d for d in (v["first_day_at_threshold"][q] for q in Q) if d is not None]
    assert all(first <= dt.date.fromisoformat(d) <= last for d in seen)
    assert seen == sorted(seen)
    # in the reference winter snow matters: its median share is neither nil nor total
    assert 0.05 < v["snow_cut_share"]["capacity"]["p50"] < 0.95


def test_json_output_is_one_object_and_nothing_else(cli_json: dict[str, Any]) -> None:
    p = cli("claim", "--json", "--replications", "3", "--seed", "1")
    assert p.returncode == 0
    assert p.stdout.count("\n") == 1 and p.stdout.strip().startswith("{")
    json.loads(p.stdout)
    assert p.stderr == "", "progress must be hidden when stderr is not a terminal"


def test_claim_probability_follows_its_definition(default: Any) -> None:
    shares = claim_shares(default, 15, seed=8)
    v = claim_verdict(shares)
    ws, we = default.claim_window()
    window = np.array([ws <= d <= we for d in shares.dates])
    at = shares.daily["snow"]["connectivity"][:, window] >= 0.7
    assert v["claim_probability"] == pytest.approx(float((at.mean(axis=1) >= 0.5).mean()), abs=1e-6)
    snow_mean = shares.daily["snow"]["capacity"][:, window].mean(axis=1)
    assert v["snow_cut_share"]["capacity"]["p50"] == pytest.approx(float(np.median(snow_mean)), abs=1e-6)


def test_claim_probability_never_rises_with_the_threshold(default: Any) -> None:
    shares = claim_shares(default, 20, seed=2)
    probs = []
    for thr in (0.0, 0.3, 0.5, 0.7, 0.9, 1.0):
        scn = default.with_updates({"claim.threshold": thr})
        probs.append(claim_verdict(dataclasses.replace(shares, scenario=scn))["claim_probability"])
    assert probs[0] == 1.0
    assert probs == sorted(probs, reverse=True)


def test_snow_only_scenario_has_no_interdiction_share() -> None:
    scn = load_scenario(default_scenario_path().with_name("snow_only.toml"))
    v = evaluate_claim(scn, replications=6, seed=4)
    for m in METRICS:
        assert v["interdiction_cut_share"][m] == {"p05": 0.0, "p50": 0.0, "p95": 0.0}
        assert v["total_cut_share"][m] == v["snow_cut_share"][m]
    assert v["total_claim_probability"] == v["claim_probability"]


# ----------------------------------------------------------------------------- known answers
def tiny_claim_scenario(**claim: Any) -> Any:
    return scenario_from_dict({
        "scenario": {"name": "hand", "start": "2013-11-29", "days": 10},
        "nodes": [{"id": "s", "kind": "source", "elevation_m": 1400, "lat": 34.1, "lon": 36.4, "corridor": "c"},
                  {"id": "t", "kind": "town", "side": "militant", "elevation_m": 1300, "lat": 34.0, "lon": 36.7}],
        "routes": [{"id": "r", "from": "s", "to": "t", "length_km": 10, "surface": "track", "capacity_tpd": 10,
                    "corridor": "c"}],
        "claim": {"corridor": "c", "window_start": "2013-12-01", "window_end": "2013-12-08", **claim},
    })


def hand_shares(scn: Any, snow: np.ndarray, total: np.ndarray | None = None) -> ClaimShares:
    total = snow if total is None else total
    daily = {"snow": {m: snow for m in METRICS}, "total": {m: total for m in METRICS},
             "interdiction": {m: total - snow for m in METRICS}}
    return ClaimShares(scenario=scn, seed=0, corridor="c", dates=scn.dates, daily=daily)


def test_verdict_by_hand() -> None:
    scn = tiny_claim_scenario()
    # days 0-1 (29-30 Nov) are outside the 8-day window 1-8 Dec (days 2-9)
    snow = np.array([
        [0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8],   # holds on every window day
        [0.0, 0.0, 0.7, 0.7, 0.7, 0.7, 0.1, 0.1, 0.1, 0.1],   # exactly at 0.7 on exactly half: holds
        [0.0, 0.0, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69],  # just under every day: fails
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9],   # 3 of 8 days: fails
    ])
    v = claim_verdict(hand_shares(scn, snow))
    assert v["claim_probability"] == 0.5
    assert (v["window_start"], v["window_end"]) == ("2013-12-01", "2013-12-08")
    means = sorted([0.8, 0.4, 0.69, 0.3375])
    assert v["snow_cut_share"]["capacity"]["p50"] == pytest.approx((means[1] + means[2]) / 2, abs=1e-6)
    assert v["snow_cut_share"]["capacity"]["p05"] == pytest.approx(means[0] + 0.15 * (means[1] - means[0]),
                                                                   abs=1e-6)
    # first day at the threshold: days 0, 2, never, 7 -> p05 the earliest, p50 the second, p95 never
    assert v["first_day_at_threshold"] == {"p05": "2013-11-29", "p50": "2013-12-01", "p95": None}
    assert v["never_at_threshold_fraction"] == 0.25
    assert v["fraction_of_window_days_at_threshold"]["p95"] == pytest.approx(1.0 - 0.15 * 0.5, abs=1e-6)


def test_verdict_min_fraction_and_metric_are_parameters() -> None:
    snow = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9]])
    assert claim_verdict(hand_shares(tiny_claim_scenario(), snow))["claim_probability"] == 0.0
    scn = tiny_claim_scenario(min_fraction_of_days=0.375)
    assert claim_verdict(hand_shares(scn, snow))["claim_probability"] == 1.0
    scn = tiny_claim_scenario(metric="count", threshold=0.95)
    assert claim_verdict(hand_shares(scn, snow))["claim_probability"] == 0.0


def test_total_claim_uses_snow_and_interdiction_together() -> None:
    snow = np.full((2, 10), 0.4)
    total = np.array([np.full(10, 0.8), np.full(10, 0.5)])
    v = claim_verdict(hand_shares(tiny_claim_scenario(), snow, total))
    assert v["claim_probability"] == 0.0 and v["total_claim_probability"] == 0.5
    assert v["interdiction_cut_share"]["capacity"]["p95"] == pytest.approx(0.1 + 0.95 * 0.3, abs=1e-6)


def test_window_outside_the_horizon_is_refused_in_process() -> None:
    scn = tiny_claim_scenario(window_start="2014-01-01", window_end="2014-01-31")
    with pytest.raises(ValueError, match="window"):
        claim_verdict(hand_shares(scn, np.zeros((2, 10))))


@pytest.mark.parametrize(("start", "window"), [
    ("2013-11-01", ("2013-12-01", "2014-02-28")),
    ("2013-12-01", ("2013-12-01", "2014-02-28")),
    ("2013-12-02", ("2014-12-01", "2015-02-28")),
    ("2015-10-01", ("2015-12-01", "2016-02-29")),   # leap year
])
def test_default_claim_window(start: str, window: tuple[str, str]) -> None:
    scn = scenario_from_dict({
        "scenario": {"name": "w", "start": start, "days": 800},
        "nodes": [{"id": "s", "kind": "source", "elevation_m": 1, "lat": 0, "lon": 0},
                  {"id": "t", "kind": "town", "elevation_m": 1, "lat": 0, "lon": 0.1}],
        "routes": [{"id": "r", "from": "s", "to": "t", "length_km": 1, "surface": "road", "capacity_tpd": 1}],
    })
    ws, we = scn.claim_window()
    assert (ws.isoformat(), we.isoformat()) == window


# ----------------------------------------------------------------------------- the table
def test_claim_without_json_prints_a_readable_table(cli_json: dict[str, Any]) -> None:
    p = cli("claim", "--replications", "20", "--seed", "5")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
    assert "70%" in out and "arsal" in out and "2013-12-01" in out and "2014-02-28" in out
    header = next(line for line in out.splitlines() if "p05" in line)
    assert header.split()[-3:] == ["p05", "p50", "p95"]
    rows = [line for line in out.splitlines() if line.strip().startswith("by ")]
    assert len(rows) == 3 * len(METRICS)
    for line in rows:
        numbers = [float(x) for x in line.split()[-3:]]
        assert numbers == sorted(numbers) and all(0 <= x <= 1 for x in numbers)
    snow_cap = next(line for line in rows if line.strip().startswith("by snow, capacity"))
    assert [float(x) for x in snow_cap.split()[-3:]] == [
        round(cli_json["snow_cut_share"]["capacity"][q], 2) for q in Q]
    assert f"{cli_json['claim_probability']:.2f}" in next(line for line in out.splitlines() if "P(claim holds)" in line)


def test_claim_table_columns_line_up() -> None:
    out = cli("claim", "--replications", "3", "--seed", "5").stdout
    header = next(line for line in out.splitlines() if "p05" in line)
    rows = [line for line in out.splitlines() if line.strip().startswith("by ")]
    assert {len(line) for line in rows} == {len(header)}


# ----------------------------------------------------------------------------- bad input on the command line
def test_claim_on_a_scenario_without_the_claim_corridor_is_one_line_exit_2() -> None:
    p = cli("claim", str(DATA / "tiny.toml"), "--replications", "2")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "corridor" in p.stderr and p.stdout == ""


def test_claim_with_a_window_outside_the_horizon_is_one_line_exit_2(tmp_path: Path) -> None:
    text = (DATA / "tiny.toml").read_text().replace("start = 2013-12-01", "start = 2013-03-01")
    bad = tmp_path / "spring.toml"
    bad.write_text(text + '\n[claim]\ncorridor = "c"\n')
    p = cli("claim", str(bad), "--replications", "2")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "window" in p.stderr and p.stdout == ""


def test_claim_on_tiny_with_its_corridor_works(tmp_path: Path) -> None:
    good = tmp_path / "tiny_c.toml"
    good.write_text((DATA / "tiny.toml").read_text() + '\n[claim]\ncorridor = "c"\n')
    p = cli("claim", str(good), "--json", "--replications", "3", "--seed", "2")
    assert p.returncode == 0, p.stderr
    v = json.loads(p.stdout)
    assert v["corridor"] == "c" and v["replications"] == 3
    assert v["window_end"] == "2014-02-28" and v["first_day_at_threshold"]["p95"] in (None, *[
        (dt.date(2013, 12, 1) + dt.timedelta(days=i)).isoformat() for i in range(10)])


def test_wilson_interval_against_a_hand_computation() -> None:
    from qalamoun_sim.analysis.claim import replications_for_halfwidth, wilson_interval

    z = 1.959963984540054
    for k, n in ((42, 100), (0, 20), (20, 20), (7, 60)):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-9)
    n = replications_for_halfwidth(0.4, 0.02)
    lo, hi = wilson_interval(round(0.4 * n), n)
    assert (hi - lo) / 2 <= 0.02 + 1e-3 and replications_for_halfwidth(0.4, 0.02) > replications_for_halfwidth(0.4, 0.05)


def test_every_reading_is_reported_with_its_interval() -> None:
    scn = tiny_claim_scenario()
    snow = np.array([[0.9] * 10, [0.0, 0.0, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.72] * 5 + [0.5] * 5])
    v = claim_verdict(hand_shares(scn, snow))
    rows = {(r["metric"], r["rule"]): r for r in v["readings"]}
    assert len(rows) == len(METRICS) * 3 and sum(r["primary"] for r in rows.values()) == 1
    m = scn.claim.metric
    # window 1-8 Dec = days 2..9: winter 0 holds every day; winter 1 one day; winter 2 days 2-4 (3 of 8)
    assert rows[(m, "half_days")]["claim_probability"] == pytest.approx(1 / 3, abs=1e-6)
    assert rows[(m, "any_day")]["claim_probability"] == 1.0
    assert rows[(m, "window_mean")]["claim_probability"] == pytest.approx(1 / 3, abs=1e-6)
    for r in rows.values():
        lo, hi = r["ci95"]
        assert lo <= r["claim_probability"] <= hi
