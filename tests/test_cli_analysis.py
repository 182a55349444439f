"""The analysis commands: plot, sweep and critical on a tiny scenario, and their one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_main

from qalamoun_sim import load_scenario, run_ensemble
from qalamoun_sim.plotting import FIGURES

TINY = Path(__file__).parent / "data" / "tiny.toml"
_SCRIPT = Path(sys.executable).parent / "qalamoun-sim"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "qalamoun_sim.cli"]
PNG = b"\x89PNG\r\n\x1a\n"


def one_line_error(rc: int, out: str, err: str, *needles: str) -> None:
    assert rc == 2, (rc, out, err)
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err


@pytest.fixture(scope="module")
def tiny_c(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.toml with the claim on its own corridor "c"."""
    path = tmp_path_factory.mktemp("scn") / "tiny_c.toml"
    path.write_text(TINY.read_text() + '\n[claim]\ncorridor = "c"\n')
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, tiny_c: Path) -> Path:
    folder = tmp_path_factory.mktemp("res") / "results"
    run_ensemble(load_scenario(tiny_c), 3, 5, out=folder)
    return folder


# ---------------------------------------------------------------------------- plot
@pytest.mark.slow
def test_plot_writes_the_figures(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "plot", str(results))
    assert rc == 0, err
    paths = [Path(p) for p in out.split()]
    assert [p.name for p in paths] == list(FIGURES)
    assert all(p.parent == results / "figures" for p in paths)
    assert len(paths) >= 4
    for p in paths:
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 10_000


@pytest.mark.slow
def test_plot_out_folder_via_the_console_script(results: Path, tmp_path: Path) -> None:
    res = subprocess.run([*COMMAND, "plot", str(results), "--out", str(tmp_path / "figs")], capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "figs").glob("*.png")) == sorted(FIGURES)


@pytest.mark.parametrize("case", ["missing", "empty", "file", "bad_summary"])
def test_plot_bad_results_folder(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x"
    if case == "empty":
        target.mkdir()
    elif case == "file":
        target.write_text("not a folder")
    elif case == "bad_summary":
        target.mkdir()
        (target / "summary.json").write_text("{")
    rc, out, err = run_main(capsys, "plot", str(target))
    one_line_error(rc, out, err, "qalamoun-sim: ", str(target))
    assert not (target / "figures").exists() if target.is_dir() else True


def test_plot_needs_a_folder_argument(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "plot")
    one_line_error(rc, out, err, "RESULTS_DIR")


# ---------------------------------------------------------------------------- sweep
def test_sweep_one_parameter_table_and_files(tiny_c: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "sweep", str(tiny_c), "--param", "climate.warming_c=-6,0,6",
                            "--replications", "8", "--seed", "2", "--out", str(tmp_path))
    assert rc == 0, err
    lines = out.splitlines()
    assert "8 replications per combination, seed 2" in lines[0]
    assert lines[1].startswith("climate.warming_c") and "P(claim)" in lines[1]
    assert [ln.split()[0] for ln in lines[2:5]] == ["-6", "0", "6"]
    frame = pd.read_csv(tmp_path / "sweep.csv")
    assert list(frame["climate.warming_c"]) == [-6, 0, 6]
    assert frame["snow_share_p50"].is_monotonic_decreasing  # warmer winters, less snow (same seeds)
    assert (tmp_path / "sweep.png").read_bytes()[:8] == PNG


def test_sweep_two_parameters_json(tiny_c: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "sweep", str(tiny_c), "--param", "climate.warming_c=-3,3",
                            "--param", "corridor.elevation_shift_m=0,400", "--replications", "5", "--json",
                            "--out", str(tmp_path))
    assert rc == 0, err
    doc = json.loads(out)  # exactly one JSON object
    assert doc["replications"] == 5 and len(doc["rows"]) == 4
    assert doc["params"] == {"climate.warming_c": [-3, 3], "corridor.elevation_shift_m": [0, 400]}
    assert {"claim_probability", "snow_share_p50", "total_share_p50"} <= set(doc["rows"][0])
    assert sorted(Path(p).name for p in doc["files"]) == ["sweep.csv", "sweep.png"]
    rows = {(r["climate.warming_c"], r["corridor.elevation_shift_m"]): r["snow_share_p50"] for r in doc["rows"]}
    assert rows[(-3, 400)] >= rows[(-3, 0)] and rows[(-3, 0)] >= rows[(3, 0)]


@pytest.mark.parametrize("param, needle", [
    ("weather.lapse_rate_c_per_km", "expected PATH=V1,V2"),
    ("weather.lapse_rate_c_per_km=-1", "weather.lapse_rate_c_per_km"),
    ("nosuch.field=1", "unknown key 'nosuch'"),
    ("climate.warming_c=warm", "must be a number"),
])
def test_sweep_bad_parameter(param: str, needle: str, tiny_c: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "sweep", str(tiny_c), "--param", param, "--replications", "2")
    one_line_error(rc, out, err, needle)


def test_sweep_three_parameters_refused(tiny_c: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "sweep", str(tiny_c), "--param", "a=1", "--param", "b=1", "--param", "c=1")
    one_line_error(rc, out, err, "one or two parameters")


def test_sweep_needs_a_param(tiny_c: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "sweep", str(tiny_c))
    one_line_error(rc, out, err, "--param")


# ---------------------------------------------------------------------------- critical
def test_critical_table_and_files(tiny_c: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "critical", str(tiny_c), "--replications", "2", "--seed", "4",
                            "--out", str(tmp_path))
    assert rc == 0, err
    lines = out.splitlines()
    assert "2 replications, seed 4" in lines[0]
    assert "nominal max flow of corridor 'c' 35 t/day" in lines[1]
    ranked = [ln.split() for ln in lines if ln.strip()[:1].isdigit()]
    assert [r[0] for r in ranked] == ["1", "2", "3", "4", "5"]
    assert {ranked[0][1], ranked[1][1]} == {"r0", "r1"}
    csv = pd.read_csv(tmp_path / "critical.csv")
    assert len(csv) == 5 and csv.loc[csv["route"] == "r4", "max_flow_loss_tpd"].item() == 0.0
    assert (tmp_path / "critical.png").read_bytes()[:8] == PNG


def test_critical_json(tiny_c: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "critical", str(tiny_c), "--replications", "1", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["corridor"] == "c" and doc["nominal_max_flow_tpd"] == 35.0 and doc["replications"] == 1
    assert [r["rank"] for r in doc["routes"]] == [1, 2, 3, 4, 5]
    assert {"route", "max_flow_loss_tpd", "delivered_loss_t", "snow_closed_share"} <= set(doc["routes"][0])


def test_critical_top_limits_the_table(tiny_c: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "critical", str(tiny_c), "--replications", "1", "--top", "2")
    assert rc == 0, err
    assert sum(ln.strip()[:1].isdigit() for ln in out.splitlines()) == 2
    assert "3 more routes" in out


def test_critical_bad_corridor_and_file(tiny_c: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "critical", str(tiny_c), "--corridor", "nowhere", "--replications", "1")
    one_line_error(rc, out, err, "--corridor", "nowhere")
    rc, out, err = run_main(capsys, "critical", str(tmp_path / "missing.toml"))
    one_line_error(rc, out, err, "missing.toml", "file not found")
    rc, out, err = run_main(capsys, "critical", str(tiny_c), "--replications", "0")
    one_line_error(rc, out, err, "--replications")
