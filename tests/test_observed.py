"""The winter of 2013-14 reconstructed: reported days over the generator, stochastic where reports are silent."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from conftest import run_main

from qalamoun_sim import compute_state, load_scenario
from qalamoun_sim.environment.observed import silent_precip_scale
from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.scenario import default_scenario_path
from qalamoun_sim.scenario.observed import read_observed_csv

ROOT = Path(__file__).resolve().parent.parent
OBSERVED = default_scenario_path().parent / "qalamoun_2013_14_observed.toml"


@pytest.fixture(scope="module")
def scn():
    return load_scenario(OBSERVED)


@pytest.fixture(scope="module")
def state(scn):
    return compute_state(scn, 6, seed=3)


def test_the_bundled_file_is_what_its_script_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_observed", ROOT / "scenarios" / "make_observed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert OBSERVED.read_text() == module.render(default_scenario_path().read_text()), \
        "run: python scenarios/make_observed.py"
    assert (ROOT / "scenarios" / OBSERVED.name).resolve() == OBSERVED.resolve()


def test_same_network_and_army_as_the_reference(scn) -> None:
    ref = load_scenario()
    assert scn.routes == ref.routes and scn.nodes == ref.nodes and scn.interdiction == ref.interdiction
    assert scn.claim == ref.claim and scn.weather.observed is not None


def test_reported_days_are_the_same_in_every_replication_and_silent_days_are_not(scn, state) -> None:
    days = read_observed_csv(scn.weather.observed.csv, scn.dates)
    reported = ~np.isnan(days.precipitation_mm)
    assert reported.sum() >= 40 and days.reported_days == reported.sum()
    p = state.precipitation_mm
    assert (p[:, reported] == days.precipitation_mm[reported]).all()
    assert (np.ptp(p[:, ~reported], axis=0) > 0).any(), "silent days stay stochastic"
    dry = [scn.dates.index(dt.date(2014, 1, d)) for d in (1, 10, 20)]
    assert (p[:, dry] == 0).all() and not state.storm[:, dry].any()


def test_a_reported_snow_line_sets_the_temperature_through_the_lapse_rate(scn, state) -> None:
    day = scn.dates.index(dt.date(2013, 12, 12))            # snow line ~750 m [S]
    w = scn.weather
    at_line = state.temperature_c[:, day] - w.lapse_rate_c_per_km * (750.0 - w.reference_elevation_m) / 1000.0
    np.testing.assert_allclose(at_line, scn.snow.rain_snow_threshold_c)
    assert state.storm[:, [scn.dates.index(dt.date(2013, 12, d)) for d in range(10, 16)]].all()


def test_the_season_total_scales_the_silent_days(scn) -> None:
    days = read_observed_csv(scn.weather.observed.csv, scn.dates)
    scale = silent_precip_scale(scn.weather, scn.dates, days, 0.531)
    assert 0 < scale < 1
    assert silent_precip_scale(scn.weather, scn.dates, days, None) == 1.0
    # more reported rain leaves less for the silent days
    assert silent_precip_scale(scn.weather, scn.dates, days, 0.3) < scale


@pytest.mark.parametrize("body, field", [
    ("date,precipitation_mm\n2013-12-01,nan\n", "line 2.precipitation_mm"),
    ("date,precipitation_mm\n2013-12-01,inf\n", "line 2.precipitation_mm"),
    ("date,precipitation_mm\n2013-12-01,-1\n", "line 2.precipitation_mm"),
    ("date,precipitation_mm\n2013-12-01,lots\n", "line 2.precipitation_mm"),
    ("date,precipitation_mm\n2013-12-01,1\n2013-12-01,2\n", "line 3.date"),
    ("date,precipitation_mm\n1 Dec 2013,1\n", "line 2.date"),
    ("date,snowfall_cm\n2013-12-01,1\n", "snowfall_cm"),
    ("precipitation_mm\n1\n", "date"),
    ("date,temperature_c,snow_line_m\n2013-12-01,1,900\n", "temperature_c"),
])
def test_a_broken_observed_file_is_one_line_naming_the_field(tmp_path: Path, capsys, body: str, field: str) -> None:
    csv = tmp_path / "o.csv"
    csv.write_text(body)
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        read_observed_csv(csv, [dt.date(2013, 12, 1)])
    toml = tmp_path / "s.toml"
    toml.write_text(default_scenario_path().read_text() + '\n[weather.observed]\ncsv = "o.csv"\n')
    rc, out, err = run_main(capsys, "validate", str(toml))
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and "o.csv" in err


def test_claim_on_the_reconstructed_winter(capsys) -> None:
    rc, out, err = run_main(capsys, "claim", str(OBSERVED), "--replications", "8", "--json")
    assert rc == 0, err
    import json

    v = json.loads(out)
    assert v["scenario"].startswith("Qalamoun winter 2013-14 as reconstructed")
    lo, hi = v["claim_probability_ci95"]
    assert lo <= v["claim_probability"] <= hi
