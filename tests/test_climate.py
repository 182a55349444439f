"""The climate summary: what a scenario's weather and snow come to, beside the inputs and the sources (issue 13).

Known answers on replayed weather (a storm that is Alexa-size, a track that reopens as its rule
says), the summary's keys and determinism, its independence of the block size, and the bundled
scenario's calibration against its sources (docs/background.md s.12).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qalamoun_sim import load_scenario, scenario_from_dict
from qalamoun_sim.analysis.calibration import TARGETS, format_calibration, wilson_interval
from qalamoun_sim.analysis.climate import climate_summary
from qalamoun_sim.analysis.climate_records import climate_records, reopen_days, season_largest_snowfall_end
from qalamoun_sim.environment.elevations import compute_snow, surface_open
from qalamoun_sim.environment.state import compute_state
from qalamoun_sim.scenario import SurfaceLimits

START = dt.date(2013, 12, 1)


def replay_scenario(tmp_path: Path, temps: list[float], precip: list[float], storm: list[int]) -> Any:
    rows = [f"{START + dt.timedelta(days=i)},{t},{p},{s}\n"
            for i, (t, p, s) in enumerate(zip(temps, precip, storm, strict=True))]
    csv = tmp_path / "wx.csv"
    csv.write_text("date,temperature_c,precipitation_mm,storm\n" + "".join(rows))
    return scenario_from_dict({
        "scenario": {"name": "climate test", "start": START.isoformat(), "days": len(temps), "seed": 1},
        "nodes": [{"id": "s", "kind": "source", "elevation_m": 1400, "lat": 34.1, "lon": 36.4, "corridor": "c"},
                  {"id": "t", "kind": "town", "elevation_m": 1300, "lat": 34.2, "lon": 36.7}],
        "routes": [{"id": "r", "from": "s", "to": "t", "length_km": 10, "surface": "track", "capacity_tpd": 10,
                    "corridor": "c"}],
        "weather": {"replay_csv": str(csv)}})


# ----------------------------------------------------------------------------- known answers
def test_an_alexa_size_storm_is_counted_and_its_snow_line_reported(tmp_path: Path) -> None:
    # three storm days at -3 degC at 1500 m: the snow line (1.5 degC) at 1500 - 4.5 / 5.5 km = 682 m, and
    # 3 x 12 mm of snow at 1500 m = 36 cm of new snow: both Alexa's marks (800 m, 30 cm)
    temps = [2.0] * 3 + [-3.0] * 3 + [-6.0] * 14
    precip = [0.0] * 3 + [12.0] * 3 + [0.0] * 14
    storm = [0] * 3 + [1] * 3 + [0] * 14
    s = climate_summary(replay_scenario(tmp_path, temps, precip, storm), 3, elevations_m=[1500.0])
    assert s["storms"]["per_season"] == {"p05": 1.0, "p50": 1.0, "p95": 1.0}
    assert s["storms"]["snow_line_m"]["p50"] == pytest.approx(1500.0 - 4500.0 / 5.5, abs=1e-3)
    assert s["storms"]["alexa_size_fraction"] == 1.0
    assert s["storms"]["new_snow_cm_at_reference"]["p50"] == pytest.approx(36.0)
    assert s["elevations"]["1500"]["snowfall_days"]["p50"] == 3.0
    # a slightly warmer storm (line above 800 m) is not Alexa-size
    warmer = climate_summary(replay_scenario(tmp_path, [2.0] * 3 + [-2.0] * 3 + [-6.0] * 14, precip, storm), 2,
                             elevations_m=[1500.0])
    assert warmer["storms"]["alexa_size_fraction"] == 0.0


def test_the_largest_snowfall_and_the_days_until_a_route_reopens() -> None:
    fall = np.zeros((2, 12, 1))
    fall[0, [1, 2], 0] = [5.0, 5.0]          # 10 cm, days 1-2
    fall[0, [6, 7, 8], 0] = [4.0, 6.0, 3.0]  # 13 cm, days 6-8: the largest
    end, total = season_largest_snowfall_end(fall)
    assert end.tolist() == [[8], [-1]] and total.tolist() == [[13.0], [0.0]]
    is_open = np.ones((2, 12, 1), dtype=bool)
    is_open[0, 6:11, 0] = False               # closed days 6-10: open again on day 11, 2 days after day 8
    assert reopen_days(is_open, end).tolist() == [[2], [0]]
    is_open[0, 6:, 0] = False                 # never again: the rest of the horizon (days 9-11)
    assert reopen_days(is_open, end).tolist() == [[3], [0]]


def test_a_track_reopens_as_its_rule_says() -> None:
    lim = SurfaceLimits(slowed_cm=15, closed_cm=35, broken_after_days=7, broken_below_cm=45)
    depth = np.array([60.0, 55, 50, 44, 42, 40, 39, 38, 37, 36, 34, 30]).reshape(1, 12, 1)
    fall = np.zeros_like(depth)
    fall[0, 0, 0] = 60.0
    is_open = surface_open(depth, fall, lim)[0, :, 0]
    # day 7 is the first without fresh snow for 7 days, under 45 cm: broken open; undisturbed it opens on day 10
    assert np.flatnonzero(is_open).tolist() == list(range(7, 12))
    no_rule = surface_open(depth, fall, SurfaceLimits(slowed_cm=15, closed_cm=35))[0, :, 0]
    assert np.flatnonzero(no_rule).tolist() == [10, 11]


def test_wilson_interval_holds_the_proportion() -> None:
    lo, hi = wilson_interval(20, 1000)
    assert lo < 0.02 < hi and 0.0 <= lo and hi <= 1.0
    assert wilson_interval(0, 10)[0] == 0.0


# ----------------------------------------------------------------------------- the summary
SUMMARY = climate_summary(load_scenario(), 60, seed=3, elevations_m=[700.0, 1500.0, 2000.0])


def test_the_summary_has_the_keys_of_issue_13() -> None:
    s = SUMMARY
    for key in ("scenario", "seed", "replications", "reference_elevation_m", "monthly", "elevations", "storms",
                "track_reopen_days", "calibration"):
        assert key in s
    m = s["monthly"]
    assert m["month"] == ["2013-11", "2013-12", "2014-01", "2014-02", "2014-03", "2014-04"]
    for key in ("mean_c_input", "mean_c_simulated", "precip_mm_input", "precip_mm_simulated"):
        assert len(m[key]) == len(m["month"])
    assert set(s["elevations"]) == {"700", "1500", "2000"}
    for e in s["elevations"].values():
        for key in ("snowfall_days", "snow_cover_days", "peak_swe_mm", "peak_depth_cm"):
            assert e[key]["p05"] <= e[key]["p50"] <= e[key]["p95"]
    assert set(s["track_reopen_days"]) == {"1800", "2000", "2100"}
    assert s["replications"] == 60 and s["seed"] == 3
    json.dumps(s)  # JSON-ready as it is


def test_snow_grows_with_elevation() -> None:
    e = SUMMARY["elevations"]
    for key in ("snow_cover_days", "peak_swe_mm", "peak_depth_cm", "snowfall_days"):
        assert e["700"][key]["p50"] <= e["1500"][key]["p50"] <= e["2000"][key]["p50"], key


def test_the_simulated_months_are_near_their_inputs() -> None:
    m = SUMMARY["monthly"]
    # 60 replications: a month's mean is within half a degree, its total within a fifth (the weather tests
    # check 0.1 degC and 3 % on 4,000)
    np.testing.assert_allclose(m["mean_c_simulated"], m["mean_c_input"], atol=0.5)
    np.testing.assert_allclose(m["precip_mm_simulated"], m["precip_mm_input"], rtol=0.2)


def test_a_replications_records_do_not_depend_on_its_block() -> None:
    scn = load_scenario()
    a = climate_records(scn, 7, 5, [1500.0], block=3)
    b = climate_records(scn, 7, 5, [1500.0], block=250)
    for name in ("snowfall_days", "snow_cover_days", "peak_swe_mm"):
        np.testing.assert_array_equal(a.stacked(name), b.stacked(name))
    np.testing.assert_array_equal(a.stacked("reopen"), b.stacked("reopen"))
    np.testing.assert_array_equal(a.stacked("snow_lines"), b.stacked("snow_lines"))


def test_the_snow_at_an_elevation_is_the_snow_a_route_there_sees() -> None:
    scn = load_scenario()
    state = compute_state(scn, [0, 4], 9)
    snow = compute_snow(scn, [0, 4], 9, [1500.0, 2000.0])
    bands = list(state.band_elevations_m)
    np.testing.assert_allclose(snow.depth_cm[..., 0], state.band_depth_cm[..., bands.index(1500.0)])
    np.testing.assert_allclose(snow.depth_cm[..., 1], state.band_depth_cm[..., bands.index(2000.0)])


def test_calibration_rows_name_their_source_and_verdict() -> None:
    rows = SUMMARY["calibration"]
    assert len(rows) == len(TARGETS)
    for r in rows:
        assert r["verdict"] in ("within", "outside") and r["source"]
        assert (r["verdict"] == "within") == (r["target_low"] <= r["model"] <= r["target_high"])
    assert "verdict" in format_calibration(rows)


@pytest.mark.slow
def test_the_bundled_climate_matches_its_sources() -> None:
    # docs/background.md s.12: every figure of s.12 within, on 1,000 replications
    s = climate_summary(load_scenario(), 1000, seed=2013)
    outside = [r["figure"] for r in s["calibration"] if r["verdict"] != "within"]
    assert not outside, outside


# ----------------------------------------------------------------------------- the command
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qalamoun_sim", *args], capture_output=True, text=True, timeout=300)


def test_climate_command_json_is_one_deterministic_object() -> None:
    args = ("climate", "--json", "--replications", "8", "--seed", "2", "--elevations", "700,2000")
    a, b = _cli(*args), _cli(*args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    s = json.loads(a.stdout)
    assert set(s["elevations"]) == {"700", "2000"} and s["replications"] == 8


def test_climate_command_prints_tables_and_refuses_bad_elevations() -> None:
    p = _cli("climate", "--replications", "4", "--seed", "1")
    assert p.returncode == 0, p.stderr
    for text in ("mean degC given", "snowfall days", "against the sources", "verdict"):
        assert text in p.stdout
    for bad in ("700,abc", "99999", ""):
        q = _cli("climate", "--elevations", bad)
        assert q.returncode == 2 and q.stdout == ""
        assert len(q.stderr.strip().splitlines()) == 1 and "Traceback" not in q.stderr


# ----------------------------------------------------------------------------- the figure
def test_plot_climate_draws_three_panels_against_the_sources(tmp_path: Path) -> None:
    from qalamoun_sim.plotting import plot_climate

    fig = plot_climate(SUMMARY)
    assert len(fig.axes) == 3
    assert fig.axes[0].get_ylabel() == "elevation (m)"
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any("Mount Lebanon" in t for t in labels) and any("1000-1400" in t for t in labels)
    fig.savefig(tmp_path / "climate.png", dpi=60)
    assert (tmp_path / "climate.png").stat().st_size > 0
    with pytest.raises(ValueError, match="not a climate summary"):
        plot_climate({"scenario": "x"})
