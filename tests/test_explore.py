"""explore: known indices through the same machinery, identical rows on every backend, resume, bad ranges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_main

import qalamoun_sim.analysis.explore as ex
from qalamoun_sim.analysis.explore import (
    index_convergence,
    n_evaluations,
    run_explore,
    values,
    with_values,
)
from qalamoun_sim.analysis.explore_ranges import DEFAULT_RANGES, Parameter, default_parameters, load_ranges
from qalamoun_sim.analysis.sweep import apply_param
from qalamoun_sim.errors import ResultsError, ScenarioError
from qalamoun_sim.scenario import load_scenario

TINY = Path(__file__).parent / "data" / "tiny.toml"
THREE = [Parameter("climate.warming_c", -1.0, 1.0), Parameter("weather.lapse_rate_c_per_km", 4.5, 6.5),
         Parameter("snow.melt_factor_mm_per_c_day", 3.0, 6.0)]


@pytest.fixture(scope="module")
def tiny_c(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.toml with the claim on its own corridor "c"."""
    path = tmp_path_factory.mktemp("scn") / "tiny_c.toml"
    path.write_text(TINY.read_text() + '\n[claim]\ncorridor = "c"\n')
    return path


@pytest.fixture
def additive(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every sample's outcome is u1 + 2 u2 (u: the parameters scaled to [0, 1]): S1 = ST = 1/5, 4/5, 0."""
    calls: list[int] = []

    def toy(scenario: Any, paths: Any, point: Any, replications: int, seed: int, memos: Any = None) -> dict:
        calls.append(1)
        u = [(float(v) - p.low) / (p.high - p.low) for v, p in zip(point, THREE, strict=True)]
        y = u[0] + 2 * u[1]
        return {k: y for k in ex.OUTCOMES} | {"claim_probability_ci95_low": y, "claim_probability_ci95_high": y}

    monkeypatch.setattr(ex, "evaluate_sample", toy)
    return calls


def test_sobol_first_order_indices_within_their_intervals(additive: list[int], tiny_c: Path) -> None:
    res = run_explore(load_scenario(tiny_c), THREE, method="sobol", samples=512, replications=1, seed=3)
    assert len(additive) == 512 * 5 == res.meta["evaluations"]
    for p, truth in zip(THREE, (0.2, 0.8, 0.0), strict=True):
        s = res.sensitivity[p.path]
        assert abs(s["S1"] - truth) <= s["S1_conf"] + 1e-9, (p.path, s)
        assert abs(s["ST"] - truth) <= s["ST_conf"] + 1e-9, (p.path, s)
    assert res.ranking() == ["weather.lapse_rate_c_per_km", "climate.warming_c", "snow.melt_factor_mm_per_c_day"]
    conv = index_convergence(res, smallest=64)
    assert sorted(conv["samples"].unique()) == [64, 128, 256, 512]


def test_morris_and_lhs_rank_the_toy(additive: list[int], tiny_c: Path) -> None:
    scn = load_scenario(tiny_c)
    m = run_explore(scn, THREE, method="morris", samples=10, replications=1, seed=3)
    mu = {p.path: m.sensitivity[p.path]["mu_star"] for p in THREE}
    assert mu["weather.lapse_rate_c_per_km"] == pytest.approx(2 * mu["climate.warming_c"])
    assert mu["snow.melt_factor_mm_per_c_day"] == 0
    lhs = run_explore(scn, THREE, method="lhs", samples=200, replications=1, seed=3)
    delta = {p.path: lhs.sensitivity[p.path]["delta"] for p in THREE}
    assert delta["weather.lapse_rate_c_per_km"] > delta["climate.warming_c"] > delta["snow.melt_factor_mm_per_c_day"]


def test_boxes_where_the_toy_holds_and_fails(additive: list[int], tiny_c: Path) -> None:
    """u1 + 2 u2 >= 1.5 needs a high lapse rate: the 'holds' box restricts it from below."""
    res = run_explore(load_scenario(tiny_c), THREE, method="lhs", samples=400, replications=1, seed=5,
                      threshold=1.5)
    holds, fails, holds2, fails2 = res.boxes
    assert [b["claim"] for b in res.boxes] == ["holds", "fails", "holds", "fails"]
    assert holds["searched"] == "all parameters"
    assert holds2["searched"] == ["weather.lapse_rate_c_per_km", "climate.warming_c"]
    assert holds["bounds"]["weather.lapse_rate_c_per_km"][0] > 5.2
    assert holds["bounds"]["weather.lapse_rate_c_per_km"][1] == 6.5  # no cut at the top: the range's end
    assert "snow.melt_factor_mm_per_c_day" not in holds["bounds"]
    assert holds["density"] >= 0.8 and 0 < holds["coverage"] <= 1
    assert fails["bounds"]["weather.lapse_rate_c_per_km"][1] < 6.2 and fails2["density"] >= 0.8


def test_common_random_numbers_and_integer_values(tiny_c: Path) -> None:
    scn = load_scenario(tiny_c)
    params = [Parameter("climate.warming_c", -1.0, 1.0), Parameter("weather.storm_days", 2, 4, integer=True)]
    x = np.array([[0.5, 1.6], [0.5, 4.4999]])
    applied = values(params, x)
    assert applied[:, 1].tolist() == [2, 4] and isinstance(applied[0, 1], int)
    a = ex.evaluate_sample(scn, ["climate.warming_c"], [0.0], 6, 11)
    b = ex.evaluate_sample(scn, ["climate.warming_c"], [0.0], 6, 11)
    assert a == b  # the same seeds for every sample: equal parameters give equal figures
    one_by_one = apply_param(apply_param(scn, "climate.warming_c", 0.5), "corridor.elevation_shift_m", 100.0)
    assert with_values(scn, ["climate.warming_c", "corridor.elevation_shift_m"], [0.5, 100.0]) == one_by_one


def test_identical_rows_on_serial_and_processes(tiny_c: Path) -> None:
    scn = load_scenario(tiny_c)
    kw: dict[str, Any] = dict(method="morris", samples=2, replications=3, seed=4)
    serial = run_explore(scn, THREE, **kw)
    pool = run_explore(scn, THREE, backend="processes", workers=2, **kw)
    assert len(serial.rows) == n_evaluations("morris", 2, 3) == 8
    assert serial.rows.equals(pool.rows)
    assert serial.to_json() == pool.to_json()


@pytest.mark.slow
def test_identical_rows_on_dask(tiny_c: Path) -> None:
    pytest.importorskip("dask.distributed")
    scn = load_scenario(tiny_c)
    kw: dict[str, Any] = dict(method="morris", samples=2, replications=3, seed=4)
    assert run_explore(scn, THREE, **kw).rows.equals(run_explore(scn, THREE, backend="dask", workers=2, **kw).rows)


class Interrupt:
    """A progress callback that raises KeyboardInterrupt once ``after`` samples have finished."""

    def __init__(self, after: int) -> None:
        self.after, self.seen = after, 0

    def __call__(self, k: int) -> None:
        self.seen += k
        if self.seen >= self.after:
            raise KeyboardInterrupt


def test_resume_after_an_interrupt(tiny_c: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scn = load_scenario(tiny_c)
    kw: dict[str, Any] = dict(method="morris", samples=2, replications=3, seed=4)
    whole = run_explore(scn, THREE, **kw)
    out = tmp_path / "ex"
    with pytest.raises(KeyboardInterrupt):
        run_explore(scn, THREE, out=str(out), progress=Interrupt(3), **kw)
    kept = sorted(p.name for p in (out / "rows").iterdir())
    assert len(kept) == 3 and not (out / "rows.csv").exists()
    (out / "rows" / kept[0]).write_text('{"sample": 0, "values": [')  # a damaged row is redone
    calls: list[int] = []
    real = ex.evaluate_sample

    def counting(*a: Any, **k: Any) -> dict:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(ex, "evaluate_sample", counting)
    again = run_explore(scn, THREE, out=str(out), resume=True, **kw)
    assert len(calls) == 8 - 2
    assert again.rows.equals(whole.rows)
    assert json.loads((out / "result.json").read_text())["rows"] == "rows.csv"
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"
    with pytest.raises(ResultsError, match="other explore settings"):
        run_explore(scn, THREE, out=str(out), resume=True, **{**kw, "samples": 3})
    with pytest.raises(ResultsError, match="not empty; use --resume or another --out folder"):
        run_explore(scn, THREE, out=str(out), **kw)


def test_default_ranges_fit_the_bundled_scenario() -> None:
    params = default_parameters(load_scenario())
    assert [p.path for p in params] == [r[0] for r in DEFAULT_RANGES] and len(params) >= 10
    assert {p.path for p in params if p.integer} == {"snow.limits.track.broken_after_days", "weather.storm_days"}
    assert all(p.note for p in params)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ranges.toml"
    path.write_text(text)
    return path


def test_ranges_file_overrides_and_replaces(tiny_c: Path, tmp_path: Path) -> None:
    scn = load_scenario(tiny_c)
    over = load_ranges(write(tmp_path, '[explore]\n[[explore.parameters]]\npath = "climate.warming_c"\n'
                                       'low = -0.5\nhigh = 0.5\n'), scn)
    assert over[0].path == "climate.warming_c" and (over[0].low, over[0].high) == (-0.5, 0.5)
    assert len(over) == len(DEFAULT_RANGES)
    only = load_ranges(write(tmp_path, '[explore]\ndefaults = false\n[[explore.parameters]]\n'
                                       'path = "routes[0].capacity_tpd"\nlow = 20\nhigh = 60\n'
                                       '[[explore.parameters]]\npath = "weather.storm_days"\nlow = 1\nhigh = 5\n'),
                       scn)
    assert [p.path for p in only] == ["routes[0].capacity_tpd", "weather.storm_days"] and only[1].integer


@pytest.mark.parametrize(("text", "needles"), [
    ('[explore]\n[[explore.parameters]]\npath = "weather.lapse_rate_c_per_kn"\nlow = 4\nhigh = 6\n',
     ["explore.parameters[0].path", "unknown parameter", "did you mean 'weather.lapse_rate_c_per_km'"]),
    ('[explore]\n[[explore.parameters]]\npath = "climate.warming_c"\nlow = 1\nhigh = 1\n',
     ["explore.parameters[0].high", "must be above low"]),
    ('[explore]\n[[explore.parameters]]\npath = "weather.lapse_rate_c_per_km"\nlow = 4\nhigh = 20\n',
     ["explore.parameters[0].high", "outside what the scenario allows", "must be <= 12"]),
    ('[explore]\n[[explore.parameters]]\npath = "weather.storm_days"\nlow = 1.5\nhigh = 3\n',
     ["explore.parameters[0].low", "whole numbers"]),
    ('[explore]\nparameter = []\n', ["explore.parameter", "unknown key", "did you mean 'parameters'"]),
    ('[explore\n', ["TOML syntax"]),
])
def test_bad_ranges_are_one_line(capsys: pytest.CaptureFixture[str], tiny_c: Path, tmp_path: Path, text: str,
                                 needles: list[str]) -> None:
    path = write(tmp_path, text)
    rc, out, err = run_main(capsys, "explore", str(tiny_c), "--ranges", str(path), "--method", "morris")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(str(path)), err
    for n in needles:
        assert n in err, err


@pytest.mark.parametrize(("args", "needle"), [
    (["--method", "sobol", "--samples", "6"], "power of two"),
    (["--method", "fast"], "invalid choice"),
    (["--threshold", "2"], "between 0 and 1"),
    (["--resume"], "needs --out"),
])
def test_bad_options_are_one_line(capsys: pytest.CaptureFixture[str], tiny_c: Path, args: list[str],
                                  needle: str) -> None:
    rc, out, err = run_main(capsys, "explore", str(tiny_c), *args)
    assert rc == 2 and out == "" and err.count("\n") == 1 and needle in err, err


def test_cli_json_and_text(capsys: pytest.CaptureFixture[str], tiny_c: Path, tmp_path: Path) -> None:
    ranges = write(tmp_path, '[explore]\ndefaults = false\n' + "".join(
        f'[[explore.parameters]]\npath = "{p.path}"\nlow = {p.low}\nhigh = {p.high}\n' for p in THREE))
    args = ["explore", str(tiny_c), "--ranges", str(ranges), "--method", "morris", "--samples", "3",
            "--replications", "3", "--seed", "2"]
    rc, out, err = run_main(capsys, *args, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    for key in ("scenario", "seed", "method", "samples", "replications", "outcome", "parameters", "sensitivity",
                "boxes", "rows"):
        assert key in doc
    assert [p["path"] for p in doc["parameters"]] == [p.path for p in THREE]
    assert all("mu_star" in doc["sensitivity"][p.path] for p in THREE) and len(doc["rows"]) == 12
    rc, text, err = run_main(capsys, *args, "--out", str(tmp_path / "o"))
    assert rc == 0, err
    assert "mu_star" in text and "sensitivity.png" in text
    assert (tmp_path / "o" / "explore_pairs.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "o" / "rows.csv").read_text().splitlines()) == 13


def test_explore_face_and_bad_outcome(tiny_c: Path) -> None:
    with pytest.raises(ScenarioError, match="--outcome"):
        run_explore(load_scenario(tiny_c), THREE, method="lhs", samples=8, outcome="nope")
    with pytest.raises(ScenarioError, match="claim.corridor"):
        run_explore(load_scenario(TINY), THREE, method="lhs", samples=8)


def test_the_parser_stays_light() -> None:
    """Every command builds the whole parser: explore's family must not load pandas, matplotlib or SALib."""
    import subprocess
    import sys

    code = ("import sys; from qalamoun_sim.cli.main import build_parser; build_parser(); "
            "print([m for m in ('pandas', 'matplotlib', 'SALib', 'simpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
