"""Every number finite and in range, at every entry point (issue 17).

NaN and infinity in any numeric field of a scenario (TOML, dict, sweep values) are refused with
the field named; counts that size arrays (band step, convoys a day, replications) have bounds
that keep memory sane; command-line numbers are checked before anything runs. Silent acceptance
of a non-finite value is a failure here, never a pass.
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalamoun_sim import cli
from qalamoun_sim.analysis.sweep import apply_param, parse_param
from qalamoun_sim.cli.common import MAX_REPLICATIONS
from qalamoun_sim.ensemble import MAX_REPLICATIONS as ENSEMBLE_MAX
from qalamoun_sim.ensemble import BackendError, run_ensemble
from qalamoun_sim.ensemble.chunks import fit_chunk_size, replication_bytes
from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.scenario import UnreachableTownWarning, load_scenario, scenario_from_dict

BAD = [math.nan, math.inf, -math.inf]
TINY_PATH = Path(__file__).parent / "data" / "tiny.toml"
DEFAULT = load_scenario()
DOC = DEFAULT.model_dump(mode="json", by_alias=True)


def _leaves(obj: Any, path: str = "") -> list[str]:
    """Paths (``routes[3].length_km``) of every number, and of every empty optional, in a document."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, f"{path}.{k}" if path else k)]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, f"{path}[{i}]")]
    return [path] if obj is None or (isinstance(obj, int | float) and not isinstance(obj, bool)) else []


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = [int(p) if p.isdigit() else p for p in re.split(r"\.|\[|\]\.?", path) if p != ""]
    cur: Any = doc
    for p in parts[:-1]:
        cur = cur[p]
    cur[parts[-1]] = value


LEAVES = _leaves(DOC)
# one path per field class: the first instance of routes[*].length_km, nodes[*].stock_t, ...
CLASSES = list(dict.fromkeys(re.sub(r"\[\d+\]", "[0]", p) for p in LEAVES))


def _validate(doc: dict[str, Any]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachableTownWarning)
        return scenario_from_dict(doc, source="bad.toml")


def test_the_default_scenario_has_many_numeric_field_classes():
    assert len(CLASSES) > 60, CLASSES  # guards the tests below against an empty sweep
    for must in ("routes[0].capacity_tpd", "nodes[0].supply_tpd", "weather.monthly_mean_c[0]",
                 "snow.limits.road.closed_cm", "engine.speeds_kph.road", "interdiction.assets[0].range_km"):
        assert must in CLASSES


@pytest.mark.parametrize("value", BAD, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("path", CLASSES)
def test_nan_and_infinity_are_refused_in_every_numeric_field_class(path, value):
    doc = copy.deepcopy(DOC)
    _set(doc, path, value)
    with pytest.raises(ScenarioError) as info:
        _validate(doc)
    assert info.value.field == path, str(info.value)
    assert "\n" not in str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LEAVES), value=st.one_of(st.sampled_from(BAD), st.floats(allow_nan=True)))
def test_fuzz_any_number_anywhere_is_refused_or_finite_and_in_bounds(path, value):
    doc = copy.deepcopy(DOC)
    _set(doc, path, value)
    try:
        scn = _validate(doc)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("bad.toml: ")
        return
    assert math.isfinite(value), f"{path} = {value!r} accepted"
    got = scn.model_dump(mode="python", by_alias=True)
    _check_finite(got)


def _check_finite(obj: Any, path: str = "") -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_finite(v, f"{path}[{i}]")
    elif isinstance(obj, float):
        assert math.isfinite(obj) and abs(obj) <= 1e9, f"{path} = {obj!r}"


@pytest.mark.parametrize(("path", "value", "message"), [
    ("weather.band_step_m", 0.001, "must be >= 10"),
    ("engine.convoy_t", 1e-6, "convoys a day"),
    ("routes[0].capacity_tpd", 1e300, "must be <= "),
    ("nodes[0].stock_t", 1e300, "must be <= "),
    ("engine.speeds_kph.trail", 0.0, "must be >= 0.1"),
    ("routes[0].speed_kph", 0.0, "must be >= 0.1"),
    ("weather.monthly_precip_mm[3]", -1.0, "must be >= 0"),
    ("weather.storms_per_month[0]", 1e9, "must be <= 1000"),
    ("scenario.replications", 10**9, "must be <= 10000000"),
])
def test_sizes_that_would_exhaust_memory_or_time_are_refused(path, value, message):
    doc = copy.deepcopy(DOC)
    _set(doc, path, value)
    with pytest.raises(ScenarioError, match=re.escape(message)) as info:
        _validate(doc)
    assert info.value.field == path


# --------------------------------------------------------------------------- sweep and explore values
@pytest.mark.parametrize("spec", ["climate.warming_c=NaN", "climate.warming_c=Infinity", "climate.warming_c=-Infinity",
                                  "weather.lapse_rate_c_per_km=NaN", "routes[0].capacity_tpd=Infinity",
                                  "corridor.elevation_shift_m=nan"])
def test_sweep_values_that_are_not_finite_are_refused(spec):
    path, values = parse_param(spec)
    with pytest.raises(ScenarioError, match="must be a (finite )?number"):
        apply_param(DEFAULT, path, values[0])


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True), st.sampled_from(BAD)),
       path=st.sampled_from(["climate.warming_c", "weather.lapse_rate_c_per_km", "snow.melt_factor_mm_per_c_day"]))
def test_fuzz_sweep_values(value, path):
    try:
        scn = apply_param(DEFAULT, path, value)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    assert math.isfinite(value)
    _check_finite(scn.model_dump(mode="python"))


# --------------------------------------------------------------------------- the command line
def test_the_command_line_caps_replications_as_the_scenario_file_does():
    assert MAX_REPLICATIONS == ENSEMBLE_MAX == 10_000_000


@settings(max_examples=80, deadline=None)
@given(option=st.sampled_from(["--replications", "--workers", "--seed"]),
       text=st.one_of(st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(repr),
                      st.sampled_from(["nan", "inf", "1e9", "", " ", "0x10", "１２", "10000001", "9" * 5000])))
def test_fuzz_run_options_are_parsed_or_refused_in_one_line(option, text):
    parser = cli.build_parser()
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            args = parser.parse_args(["run", "--report-only", option, text])
        except SystemExit as exc:
            assert exc.code == 2
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("qalamoun-sim: ") and "Traceback" not in err.getvalue()
            return
    value = getattr(args, option[2:])
    assert isinstance(value, int)
    low, high = {"--replications": (1, MAX_REPLICATIONS), "--workers": (1, 1024), "--seed": (0, math.inf)}[option]
    assert low <= value <= high


def test_huge_replications_in_memory_are_refused_before_anything_is_printed(capsys, tmp_path):
    rc = cli.main(["run", "--replications", str(MAX_REPLICATIONS)])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert "held in memory" in err and "--out" in err and len(err.strip().splitlines()) == 1


def test_a_replication_too_big_for_the_memory_is_refused():
    one = replication_bytes(DEFAULT)
    assert fit_chunk_size(DEFAULT, 50, copies=2, memory=10**12) == 50
    assert fit_chunk_size(DEFAULT, 50, copies=2, memory=2 * (2 * one) * 3) == 3  # half the memory, two copies
    with pytest.raises(BackendError, match="one replication of this scenario needs about"):
        fit_chunk_size(DEFAULT, 50, copies=2, memory=one)


def test_run_ensemble_caps_replications(tmp_path):
    with pytest.raises(BackendError, match="between 1 and 10,000,000"):
        run_ensemble(DEFAULT, MAX_REPLICATIONS + 1, 1, out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["NaN", "inf", "-INF", "1e999"])
def test_a_non_finite_graphml_attribute_is_refused_naming_the_element(tmp_path, value):
    from qalamoun_sim.network import RouteNetwork

    RouteNetwork.from_scenario(load_scenario(TINY_PATH)).to_graphml(tmp_path / "n.graphml")
    text = (tmp_path / "n.graphml").read_text()
    key = re.search(r'<key id="(d\d+)" for="edge" attr.name="length"', text).group(1)
    (tmp_path / "bad.graphml").write_text(re.sub(rf'<data key="{key}">[^<]*</data>', f'<data key="{key}">{value}</data>',
                                                 text, count=1))
    toml = tmp_path / "s.toml"
    toml.write_text('[scenario]\nname = "g"\nstart = 2013-12-01\ndays = 5\n[network]\ngraphml = "bad.graphml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(toml)
    assert info.value.field == "routes[0].length_km"
    assert "finite" in info.value.message and "GraphML edge 'r0' of bad.graphml" in info.value.message


@pytest.mark.parametrize("command", ["run", "claim", "sweep", "critical", "climate", "explore", "interdict"])
def test_every_command_caps_replications(command, capsys):
    extra = ["--param", "climate.warming_c=0"] if command == "sweep" else []
    with pytest.raises(SystemExit) as info:
        cli.main([command, str(TINY_PATH), "--replications", str(MAX_REPLICATIONS + 1), *extra])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and "must be <= 10,000,000" in err and len(err.strip().splitlines()) == 1
