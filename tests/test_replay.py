"""The weather replay CSV (issue 17): ``validate`` checks the file the scenario references, row by row.

Each broken file of the issue is caught by ``validate`` with one line naming the file, the line and
the column, and exit status 2; the run reads through the same reader, so what validates replays
exactly as before; a Hypothesis fuzz treats any other outcome (a traceback, or silent acceptance
of a value out of range) as a failure.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalamoun_sim import cli
from qalamoun_sim.environment.weather import replay_weather
from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.scenario import WeatherConfig
from qalamoun_sim.scenario.replay import MAX_PRECIPITATION_MM, TEMPERATURE_RANGE_C, read_replay_csv

TINY = Path(__file__).parent / "data" / "tiny.toml"
START, DAYS = dt.date(2013, 12, 1), 10   # tiny.toml's horizon
DATES = [START + dt.timedelta(days=i) for i in range(DAYS)]
HEADER = "date,temperature_c,precipitation_mm,storm\n"


def good_rows(days: int = DAYS) -> list[str]:
    return [f"{START + dt.timedelta(days=i)},{-1.5 + i},{2.0 * i},{int(i == 3)}\n" for i in range(days)]


def scenario_with(tmp_path: Path, csv_body: bytes | str) -> Path:
    """tiny.toml with ``[weather] replay_csv`` pointing at a file holding ``csv_body``."""
    csv = tmp_path / "wx.csv"
    csv.write_bytes(csv_body if isinstance(csv_body, bytes) else csv_body.encode())
    toml = tmp_path / "s.toml"
    toml.write_text(TINY.read_text().replace("[scenario]", '[weather]\nreplay_csv = "wx.csv"\n\n[scenario]', 1))
    return toml


def validate(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    rc = cli.main(["validate", str(path)])
    out, err = capsys.readouterr()
    return rc, out, err


def with_row(i: int, row: str) -> str:
    rows = good_rows()
    rows[i] = row
    return HEADER + "".join(rows)


BROKEN = {
    "missing column": ("date,temperature_c\n" + "".join(f"{d},1\n" for d in DATES), "precipitation_mm", "missing column"),
    "text in a number column": (with_row(4, f"{DATES[4]},warm,1,0\n"), "line 6, temperature_c", "not a number: 'warm'"),
    "duplicate dates": (with_row(5, f"{DATES[4]},1,1,0\n"), "line 7, date", "duplicate date 2013-12-05 (also line 6)"),
    "NaN": (with_row(2, f"{DATES[2]},nan,1,0\n"), "line 4, temperature_c", "no value"),
    "empty cell": (with_row(2, f"{DATES[2]},,1,0\n"), "line 4, temperature_c", "no value"),
    "inf": (with_row(3, f"{DATES[3]},1,inf,0\n"), "line 5, precipitation_mm", "finite"),
    "-inf temperature": (with_row(3, f"{DATES[3]},-inf,1,0\n"), "line 5, temperature_c", "finite"),
    "negative precipitation": (with_row(1, f"{DATES[1]},1,-0.5,0\n"), "line 3, precipitation_mm", "between 0 and"),
    "absurd temperature": (with_row(1, f"{DATES[1]},400,0,0\n"), "line 3, temperature_c", "between -90 and 60"),
    "too short": (HEADER + "".join(good_rows(DAYS - 3)), "date", "no row for 2013-12-08 (3 scenario days missing"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, None, "binary"),
    "not UTF-8": (HEADER.encode() + b"2013-12-01,\xff\xfe,1,0\n", None, "not UTF-8"),
    "empty file": ("", None, "cannot read weather CSV"),
    "header only": (HEADER, None, "no rows"),
    "bad date": (with_row(0, "2013-13-45,1,1,0\n"), "line 2, date", "not a date: '2013-13-45'"),
    "bad storm": (with_row(0, f"{DATES[0]},1,1,maybe\n"), "line 2, storm", "0 or 1"),
    "NaN storm": (with_row(0, f"{DATES[0]},1,1,inf\n"), "line 2, storm", "0 or 1"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_validate_catches_every_broken_replay_file(tmp_path, capsys, kind):
    body, field, message = BROKEN[kind]
    rc, out, err = validate(capsys, scenario_with(tmp_path, body))
    assert rc == 2, f"{kind}: validate said {out.strip()!r}"
    assert out == "" and "Traceback" not in err
    line = err.strip()
    assert "\n" not in line
    assert line.startswith(f"{tmp_path / 'wx.csv'}: "), line
    if field:
        assert f": {field}: " in line, line
    assert message in line, line


def test_a_good_file_validates_and_replays_its_values(tmp_path, capsys):
    toml = scenario_with(tmp_path, HEADER + "".join(good_rows()))
    rc, out, err = validate(capsys, toml)
    assert rc == 0 and ": ok: " in out, err
    wx = replay_weather(WeatherConfig(replay_csv=str(tmp_path / "wx.csv")), DATES, 2)
    np.testing.assert_array_equal(wx.temperature_c, np.tile([-1.5 + i for i in range(DAYS)], (2, 1)))
    np.testing.assert_array_equal(wx.precipitation_mm[0], [2.0 * i for i in range(DAYS)])
    assert wx.storm[0].tolist() == [i == 3 for i in range(DAYS)]


def test_rows_outside_the_horizon_and_in_any_order_are_fine(tmp_path):
    rows = good_rows()[::-1] + [f"{START - dt.timedelta(days=k)},5,0,0\n" for k in range(1, 4)]
    csv = tmp_path / "wx.csv"
    csv.write_text("date,precipitation_mm,temperature_c\n" + "".join(
        ",".join([r.split(",")[0], r.split(",")[2], r.split(",")[1]]) + "\n" for r in rows))
    got = read_replay_csv(csv, DATES)
    assert got.temperature_c.tolist() == [-1.5 + i for i in range(DAYS)]
    assert not got.storm.any(), "no storm column: no storms"


def test_the_run_reads_through_the_same_reader(tmp_path):
    """A file broken after validation fails the run with the same message ``validate`` would give."""
    csv = tmp_path / "wx.csv"
    csv.write_text(with_row(2, f"{DATES[2]},1,-3,0\n"))
    with pytest.raises(ScenarioError) as direct:
        read_replay_csv(csv, DATES)
    with pytest.raises(ScenarioError) as at_run:
        replay_weather(WeatherConfig(replay_csv=str(csv)), DATES, 1)
    assert str(direct.value) == str(at_run.value)


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-Infinity", "abc", "1e999", "-1e999", " ", "1,5", '"', "NA"]),
    st.integers(-10**6, 10**6).map(str),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(temp=cells, precip=cells, row=st.integers(0, DAYS - 1))
def test_fuzz_one_cell_is_accepted_only_when_it_is_a_finite_number_in_range(tmp_path, temp, precip, row):
    csv = tmp_path / "fuzz.csv"
    csv.write_text(with_row(row, f"{DATES[row]},{temp},{precip},0\n"))
    try:
        got = read_replay_csv(csv, DATES)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(csv))
        return
    # accepted: then both cells were finite numbers in range, and are what the file says
    t, p = float(got.temperature_c[row]), float(got.precipitation_mm[row])
    assert math.isfinite(t) and TEMPERATURE_RANGE_C[0] <= t <= TEMPERATURE_RANGE_C[1]
    assert math.isfinite(p) and 0 <= p <= MAX_PRECIPITATION_MM
    assert t == pytest.approx(float(temp)) and p == pytest.approx(float(precip))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_fuzz_any_bytes_give_values_or_one_scenario_error(tmp_path, data):
    csv = tmp_path / "bytes.csv"
    csv.write_bytes(HEADER.encode() + data)
    try:
        got = read_replay_csv(csv, DATES[:1])
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    assert np.isfinite(got.temperature_c).all() and (got.precipitation_mm >= 0).all()
