"""Scenario files: known good and known bad documents, defaults, and fuzzing of scenario_from_dict."""

from __future__ import annotations

import copy
import datetime as dt
import math
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from qalamoun_sim import scenario as scenario_module
from qalamoun_sim.errors import QalamounError, ScenarioError
from qalamoun_sim.scenario import (
    Scenario,
    UnreachableTownWarning,
    default_scenario_path,
    load_scenario,
    scenario_from_dict,
    scenario_hash,
)

DATA = Path(__file__).parent / "data"
SNOW_ONLY = default_scenario_path().parent / "snow_only.toml"


def tiny() -> dict[str, Any]:
    """A valid two-node document (a fresh copy each call)."""
    return {
        "scenario": {"name": "t", "start": "2013-12-01", "days": 3},
        "nodes": [
            {"id": "a", "kind": "source", "side": "militant", "elevation_m": 1000, "lat": 34, "lon": 36,
             "supply_tpd": 5},
            {"id": "b", "kind": "town", "side": "militant", "elevation_m": 1200, "lat": 34.1, "lon": 36.1},
        ],
        "routes": [{"id": "ab", "from": "a", "to": "b", "length_km": 10, "surface": "track", "capacity_tpd": 5}],
    }


def raw(path: Path) -> dict[str, Any]:
    """The TOML document as plain data, read without the library."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- known good
def test_default_scenario_loads_and_matches_file() -> None:
    path = default_scenario_path()
    assert path.name == "qalamoun_winter_2013.toml" and path.is_file()
    doc = raw(path)
    scn = load_scenario()
    assert isinstance(scn, Scenario)
    assert scn.source_path == str(path)
    assert scn.scenario.name == doc["scenario"]["name"]
    assert scn.scenario.start == doc["scenario"]["start"] == dt.date(2013, 11, 1)
    assert scn.scenario.days == doc["scenario"]["days"]
    assert [n.id for n in scn.nodes] == [n["id"] for n in doc["nodes"]]
    assert [r.id for r in scn.routes] == [r["id"] for r in doc["routes"]]
    assert [r.from_ for r in scn.routes] == [r["from"] for r in doc["routes"]]
    assert scn.interdiction is not None
    assert [a.id for a in scn.interdiction.assets] == [a["id"] for a in doc["interdiction"]["assets"]]
    assert scn.claim.threshold == pytest.approx(0.70)
    assert scn.claim.corridor == "arsal"
    assert scn.claim_window() == (dt.date(2013, 12, 1), dt.date(2014, 2, 28))
    # the air force is grounded in weather by default; artillery is not
    kinds = {a.id: a for a in scn.interdiction.assets}
    assert kinds["air_force"].grounded_in_weather is True
    assert kinds["artillery_nabk"].grounded_in_weather is False


def test_default_scenario_by_explicit_path_equals_default() -> None:
    assert load_scenario(default_scenario_path()) == load_scenario(None)


def test_snow_only_loads_without_interdiction() -> None:
    scn = load_scenario(SNOW_ONLY)
    assert scn.interdiction is None
    default = load_scenario()
    assert [n.id for n in scn.nodes] == [n.id for n in default.nodes]
    assert [r.id for r in scn.routes] == [r.id for r in default.routes]
    assert "snow only" in scn.scenario.name


def test_tiny_dict_loads_with_types() -> None:
    scn = scenario_from_dict(tiny())
    assert scn.source_path == "<dict>"
    assert scn.scenario.start == dt.date(2013, 12, 1)
    assert scn.dates == [dt.date(2013, 12, 1), dt.date(2013, 12, 2), dt.date(2013, 12, 3)]
    r = scn.routes[0]
    assert (r.id, r.from_, r.to) == ("ab", "a", "b")
    assert r.length_km == 10.0 and isinstance(r.length_km, float)
    assert isinstance(scn.nodes[0].elevation_m, float)
    assert scn.node("b").kind == "town"
    with pytest.raises(KeyError):
        scn.node("zz")


def test_tiny_fixture_file_loads() -> None:
    scn = load_scenario(DATA / "tiny.toml")
    assert scn.source_path == str(DATA / "tiny.toml")
    assert [r.id for r in scn.routes] == ["r0", "r1", "r2", "r3", "r4"]
    assert scn.interdiction is not None and scn.interdiction.assets[0].base == "base"
    assert scn.scenario.seed == 7 and scn.scenario.replications == 3


def test_optional_sections_take_documented_defaults() -> None:
    scn = scenario_from_dict(tiny())
    assert scn.network is None
    assert scn.interdiction is None  # omitted: no interdiction at all
    assert scn.scenario.seed == 2013 and scn.scenario.replications == 200
    w = scn.weather
    assert w.reference_elevation_m == 1500.0
    assert w.lapse_rate_c_per_km == 5.5
    assert len(w.monthly_mean_c) == 12 and len(w.monthly_precip_mm) == 12 and len(w.storms_per_month) == 12
    # Dec, Jan: Damascus 7.5 and 6.1 degC carried from 616 m to 1500 m at 5.5 degC/km (scenario/normals.py)
    assert w.monthly_mean_c[11] == 2.64 and w.monthly_mean_c[0] == 1.24
    assert w.replay_csv is None
    s = scn.snow
    assert s.rain_snow_threshold_c == 1.5
    assert set(s.limits) == {"road", "track", "trail"}
    assert (s.limits["road"].slowed_cm, s.limits["road"].closed_cm) == (10, 15)
    assert (s.limits["trail"].slowed_cm, s.limits["trail"].closed_cm) == (30, 75)
    assert s.ploughed_road.closed_cm == 30
    e = scn.engine
    assert e.convoy_t == 10.0 and e.closed_route_policy == "reroute"
    assert e.speeds_kph == {"road": 50.0, "track": 20.0, "trail": 3.5}
    c = scn.claim
    assert (c.threshold, c.corridor, c.metric, c.min_fraction_of_days) == (0.70, "arsal", "connectivity", 0.5)
    assert scn.claim_window() == (dt.date(2013, 12, 1), dt.date(2014, 2, 28))


def test_defaults_do_not_share_mutable_state() -> None:
    a, b = scenario_from_dict(tiny()), scenario_from_dict(tiny())
    assert a.weather.monthly_mean_c is not b.weather.monthly_mean_c
    assert a.engine.speeds_kph is not b.engine.speeds_kph


def test_node_and_route_field_defaults() -> None:
    doc = tiny()
    del doc["nodes"][1]["side"]
    scn = scenario_from_dict(doc)
    n = scn.node("b")
    assert (n.side, n.supply_tpd, n.stock_t, n.consumption_tpd, n.corridor) == ("neutral", 0.0, 0.0, 0.0, None)
    r = scn.routes[0]
    assert r.bidirectional is True and r.side == "militant" and r.ploughed is None
    assert r.speed_kph is None and r.max_elevation_m is None and r.corridor is None


@pytest.mark.parametrize(("side", "surface", "ploughed", "expected"), [
    ("army", "road", None, True),
    ("army", "track", None, False),
    ("militant", "road", None, False),
    ("militant", "road", True, True),
    ("army", "road", False, False),
])
def test_route_is_ploughed(side: str, surface: str, ploughed: bool | None, expected: bool) -> None:
    doc = tiny()
    doc["routes"][0].update(side=side, surface=surface)
    if ploughed is not None:
        doc["routes"][0]["ploughed"] = ploughed
    assert scenario_from_dict(doc).routes[0].is_ploughed is expected


def test_claim_window_defaults_follow_start_and_leap_years() -> None:
    doc = tiny()
    doc["scenario"]["start"] = "2015-11-01"
    assert scenario_from_dict(doc).claim_window() == (dt.date(2015, 12, 1), dt.date(2016, 2, 29))
    doc["scenario"]["start"] = "2014-01-10"  # after 1 Dec: the next winter
    assert scenario_from_dict(doc).claim_window() == (dt.date(2014, 12, 1), dt.date(2015, 2, 28))
    doc["claim"] = {"window_start": "2014-01-15"}
    assert scenario_from_dict(doc).claim_window() == (dt.date(2014, 1, 15), dt.date(2015, 2, 28))


def test_string_numbers_are_coerced() -> None:
    """GraphML files carry strings: the schema coerces numeric strings (network.py relies on it)."""
    doc = tiny()
    doc["routes"][0]["length_km"] = "12.5"
    doc["nodes"][0]["elevation_m"] = "1400"
    scn = scenario_from_dict(doc)
    assert scn.routes[0].length_km == 12.5
    assert scn.nodes[0].elevation_m == 1400.0


def test_with_updates_revalidates() -> None:
    scn = scenario_from_dict(tiny())
    upd = scn.with_updates({"weather.lapse_rate_c_per_km": 6.0, "routes[0].capacity_tpd": 7})
    assert upd.weather.lapse_rate_c_per_km == 6.0
    assert upd.routes[0].capacity_tpd == 7.0
    assert scn.weather.lapse_rate_c_per_km == 5.5  # the original is untouched
    with pytest.raises(ScenarioError) as info:
        scn.with_updates({"routes[0].length_km": -1})
    assert info.value.field == "routes[0].length_km"


def test_with_updates_keeps_weather_files_of_a_scenario_loaded_by_a_relative_path(tmp_path, monkeypatch) -> None:
    """Its observed-days file was resolved on loading: an update must not resolve it a second time."""
    import shutil

    from qalamoun_sim import load_scenario
    from qalamoun_sim.scenario.loader import default_scenario_path

    bundled = default_scenario_path().parent
    (tmp_path / "obs").mkdir()
    for name in ("qalamoun_2013_14_observed.toml", "qalamoun_2013_14_observed.csv"):
        shutil.copy(bundled / name, tmp_path / "obs" / name)
    monkeypatch.chdir(tmp_path)
    scn = load_scenario("obs/qalamoun_2013_14_observed.toml")
    upd = scn.with_updates({"weather.lapse_rate_c_per_km": 6.0})
    assert upd.weather.observed is not None and scn.weather.observed is not None
    assert upd.weather.observed.csv == scn.weather.observed.csv
    assert Path(upd.weather.observed.csv).exists()


def test_scenario_hash_is_stable_and_sensitive() -> None:
    a, b = scenario_from_dict(tiny()), scenario_from_dict(tiny())
    assert scenario_hash(a) == scenario_hash(b)
    assert len(scenario_hash(a)) == 64
    assert scenario_hash(a.with_updates({"scenario.days": 4})) != scenario_hash(a)


def test_unreachable_town_is_a_warning_not_an_error() -> None:
    with pytest.warns(UnreachableTownWarning) as record:
        scn = load_scenario(DATA / "unreachable.toml")
    assert [n.id for n in scn.nodes] == ["src", "near", "lost"]
    messages = [str(w.message) for w in record if issubclass(w.category, UnreachableTownWarning)]
    assert len(messages) == 1
    assert "lost" in messages[0] and "near" not in messages[0]
    assert messages[0].startswith(str(DATA / "unreachable.toml"))


def test_reachable_network_gives_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreachableTownWarning)
        load_scenario(DATA / "tiny.toml")
        load_scenario()


def test_one_way_route_out_of_a_town_does_not_reach_it() -> None:
    doc = tiny()
    doc["routes"][0].update({"from": "b", "to": "a", "bidirectional": False})
    with pytest.warns(UnreachableTownWarning, match="b"):
        scenario_from_dict(doc)
    doc["routes"][0]["bidirectional"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreachableTownWarning)
        scenario_from_dict(doc)


# --------------------------------------------------------------------------- known bad (Python API)
def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    cur: Any = doc
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        cur = cur[int(part)] if part.isdigit() else cur.setdefault(part, {})
    last = parts[-1]
    cur[int(last) if last.isdigit() else last] = value
    return doc


BAD_DICTS = [
    # (path to set, value, expected field, fragment of the message)
    ("routes[0].length_km", -3, "routes[0].length_km", "> 0"),
    ("routes[0].length_km", 0, "routes[0].length_km", "> 0"),
    ("routes[0].length_km", "ten", "routes[0].length_km", "number"),
    ("routes[0].capacity_tpd", 0, "routes[0].capacity_tpd", "> 0"),
    ("routes[0].surface", "tarmac", "routes[0].surface", "'road', 'track' or 'trail'"),
    ("routes[0].to", "bb", "routes[0].to", "unknown node 'bb'; did you mean 'b'?"),
    ("routes[0].from", "zzz", "routes[0].from", "unknown node 'zzz'"),
    ("routes[0].to", "a", "routes[0].to", "two different nodes"),
    ("routes[0].elevation_profile_m", [1000, 9100], "routes[0].elevation_profile_m[1]", "between -500 and 9000"),
    ("routes[0].max_elevation_m", 9001, "routes[0].max_elevation_m", "<= 9000"),
    ("nodes[1].elevation_m", 9500, "nodes[1].elevation_m", "<= 9000"),
    ("nodes[1].lat", 91, "nodes[1].lat", "<= 90"),
    ("nodes[1].kind", "village", "nodes[1].kind", "must be one of"),
    ("nodes[1].id", "a", "nodes[1].id", "duplicate id 'a' (also nodes[0])"),
    ("nodes[0].kind", "town", "nodes", "no node of kind 'source'"),
    ("nodes", [], "nodes", "at least one node"),
    ("routes", [], "routes", "at least one route"),
    ("scenario.days", 0, "scenario.days", ">= 1"),
    ("scenario.days", 1.5, "scenario.days", "integer"),
    ("scenario.start", "not a date", "scenario.start", "date"),
    ("scenario.name", "", "scenario.name", "must not be empty"),
    ("weather.band_max_m", 100, "weather.band_max_m", "above band_min_m"),
    ("weather.monthly_mean_c", [1.0] * 11, "weather.monthly_mean_c", "at least 12"),
    ("weather.replay_csv", "no_such_weather.csv", "weather.replay_csv", "file not found"),
    ("snow.limits.road", {"slowed_cm": 20, "closed_cm": 10}, "snow.limits.road.closed_cm", "above slowed_cm"),
    ("engine.closed_route_policy", "fly", "engine.closed_route_policy", "must be one of"),
    ("claim.metric", "vibes", "claim.metric", "must be one of"),
    ("claim.threshold", 1.5, "claim.threshold", "<= 1"),
    ("claim.window_end", "2013-11-01", "claim.window_end", "before window_start"),
    ("interdiction.assets", [{"id": "g", "kind": "artillery", "base": "nowhere", "range_km": 10,
                              "strikes_per_day": 1, "hit_probability": 0.5, "repair_days": 1}],
     "interdiction.assets[0].base", "unknown node 'nowhere'"),
    ("interdiction.checkpoints", [{"town": "a"}], "interdiction.checkpoints[0].town", "unknown town 'a'"),
    ("interdiction.captures", [{"town": "q", "date": "2013-12-02"}], "interdiction.captures[0].town",
     "unknown town 'q'"),
    ("interdiction.siege_lines", ["ab", "xy"], "interdiction.siege_lines[1]", "unknown route 'xy'"),
    ("interdiction.settlement.daily_probability", 2, "interdiction.settlement.daily_probability", "<= 1"),
    ("network", {"graphml": "no_such_file.graphml"}, "network.graphml", "not both"),  # with nodes and routes (#18)
]


@pytest.mark.parametrize(("path", "value", "field", "fragment"), BAD_DICTS, ids=[c[0] for c in BAD_DICTS])
def test_bad_dict_names_field(path: str, value: Any, field: str | None, fragment: str | None) -> None:
    doc = _set(tiny(), path, value)
    if field is None:  # control case: valid
        assert isinstance(scenario_from_dict(doc), Scenario)
        return
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc, source="bad.toml")
    err = info.value
    assert err.source == "bad.toml"
    assert err.field == field
    assert fragment in err.message
    assert str(err) == f"bad.toml: {field}: {err.message}"


def test_duplicate_route_id() -> None:
    doc = tiny()
    doc["routes"].append(dict(doc["routes"][0], to="a", **{"from": "b"}))
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert info.value.field == "routes[1].id"
    assert "duplicate id 'ab' (also routes[0])" in info.value.message


def test_unknown_keys_suggest_closest_name() -> None:
    doc = tiny()
    doc["routes"][0]["lenght_km"] = doc["routes"][0].pop("length_km")
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert str(info.value).startswith("<dict>: routes[0]")
    assert "unknown key 'lenght_km'; did you mean 'length_km'?" in str(info.value)

    doc = tiny()
    doc["wether"] = {"lapse_rate_c_per_km": 6}
    with pytest.raises(ScenarioError, match=r"unknown key 'wether'; did you mean 'weather'\?"):
        scenario_from_dict(doc)


def test_missing_required_section() -> None:
    doc = tiny()
    del doc["scenario"]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert (info.value.field, info.value.message) == ("scenario", "required field missing")


def test_non_dict_document() -> None:
    with pytest.raises(ScenarioError, match="^x.toml: a scenario must be a table"):
        scenario_from_dict([1, 2], source="x.toml")  # type: ignore[arg-type]


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: file not found"
    assert info.value.field is None


def test_load_folder_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError, match="not a UTF-8 text file"):
        load_scenario(binary)


def test_load_toml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    text = (DATA / "tiny.toml").read_text()
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("days = "))
    lines[n] = "days = = 10"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: TOML syntax")
    assert f"line {n + 1}" in str(info.value)


def test_scenario_error_is_a_value_error_and_a_qalamoun_error() -> None:
    err = ScenarioError("x.toml", "routes[3].length_km", "must be > 0")
    assert isinstance(err, ValueError) and isinstance(err, QalamounError)
    assert str(err) == "x.toml: routes[3].length_km: must be > 0"
    assert str(ScenarioError("x.toml", None, "file not found")) == "x.toml: file not found"


# --------------------------------------------------------------------------- edge cases once found as bugs
@pytest.mark.parametrize("start", ["9999-06-01", "9999-12-15"])
def test_start_near_year_9999_is_a_scenario_error(start: str) -> None:
    doc = tiny()
    doc["scenario"]["start"] = start
    with pytest.raises(ScenarioError):
        scenario_from_dict(doc)


def test_claim_window_start_in_9999_is_a_scenario_error() -> None:
    doc = tiny()
    doc["claim"] = {"window_start": "9999-12-01"}
    with pytest.raises(ScenarioError):
        scenario_from_dict(doc)


@pytest.mark.parametrize("section", ["network", "weather"])
def test_overlong_file_name_is_a_scenario_error(section: str) -> None:
    doc = tiny()
    if section == "network":
        del doc["nodes"], doc["routes"]
        doc["network"] = {"graphml": "g" * 300 + ".graphml"}
    else:
        doc["weather"] = {"replay_csv": "w" * 300 + ".csv"}
    with pytest.raises(ScenarioError):
        scenario_from_dict(doc)


@pytest.mark.parametrize("where", ["node", "key"])
def test_error_message_stays_on_one_line(where: str) -> None:
    doc = tiny()
    if where == "node":
        doc["routes"][0]["to"] = "b\nsecond line"
    else:
        doc["routes"][0]["bad\nkey"] = 1
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("path", ["routes[0].length_km", "scenario.days", "nodes[0].elevation_m"])
def test_boolean_is_not_a_number(path: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(_set(tiny(), path, True))
    assert info.value.field == path


def test_unknown_key_field_path_names_the_key() -> None:
    doc = tiny()
    doc["routes"][0]["lenght_km"] = 3
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert info.value.field == "routes[0].lenght_km"
    doc = tiny()
    doc["wether"] = {}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert info.value.field == "wether"


def test_bad_dict_key_field_path() -> None:
    doc = tiny()
    doc["engine"] = {"speeds_kph": {"tarmac": 30}}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    assert info.value.field == "engine.speeds_kph.tarmac"


# --------------------------------------------------------------------------- fuzzing
def _known_keys() -> list[str]:
    keys: set[str] = set()
    for obj in vars(scenario_module).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            for name, field in obj.model_fields.items():
                keys.add(field.alias or name)
    keys.discard("source_path")
    return sorted(keys)


KNOWN_KEYS = _known_keys()
SOURCE = "fuzz.toml"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # nan and inf included
    st.text(max_size=400),
    st.dates(),
    st.sampled_from(["road", "track", "trail", "source", "town", "a", "b", "ab", "2013-12-01", "1e3", "-1"]),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)
out_of_range = st.sampled_from([-1, -1.0, 0, -1e9, 1e9, 9001, -501, 91, 1e308, -1e308, 10**30,
                                math.inf, -math.inf, math.nan, 3661, 2001])


def _check(doc: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachableTownWarning)
        try:
            result = scenario_from_dict(doc, source=SOURCE)
        except ScenarioError as err:
            assert str(err).startswith(SOURCE + ": ")
            assert err.source == SOURCE and err.message
            return
    assert isinstance(result, Scenario)
    # accepted: then silently accepting a non-finite or absurd number is a failure (issue 17)
    for path, value in _numbers(result.model_dump(mode="python")):
        assert math.isfinite(value) and abs(value) <= 1e9, f"accepted {path} = {value!r}"


def _numbers(obj: Any, path: str = "") -> list[tuple[str, float]]:
    """Every float in a dumped scenario, with its path (ints are counts, seeds and ids: unbounded by design)."""
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in _numbers(v, f"{path}.{k}")]
    if isinstance(obj, list):
        return [x for i, v in enumerate(obj) for x in _numbers(v, f"{path}[{i}]")]
    return [(path, obj)] if isinstance(obj, float) else []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.dictionaries(keys, values, max_size=8), values))
def test_fuzz_random_documents(doc: Any) -> None:
    _check(doc)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _container(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def _full_doc() -> dict[str, Any]:
    doc = tiny()
    doc["weather"] = {"lapse_rate_c_per_km": 5.0, "monthly_mean_c": [1.0] * 12}
    doc["snow"] = {"limits": {"road": {"slowed_cm": 10, "closed_cm": 15}, "track": {"slowed_cm": 15, "closed_cm": 35},
                              "trail": {"slowed_cm": 30, "closed_cm": 75}}}
    doc["interdiction"] = {"assets": [{"id": "g", "kind": "artillery", "base": "a", "range_km": 10,
                                       "strikes_per_day": 1, "hit_probability": 0.5, "repair_days": 1}],
                           "checkpoints": [{"town": "b"}], "captures": [{"town": "b", "date": "2013-12-02"}],
                           "siege_lines": ["ab"]}
    doc["engine"] = {"convoy_t": 5, "speeds_kph": {"road": 40, "track": 20, "trail": 3}}
    doc["claim"] = {"window_start": "2013-12-01", "window_end": "2013-12-03", "corridor": "c"}
    return doc


def test_full_fuzz_base_document_is_valid() -> None:
    scn = scenario_from_dict(_full_doc())
    assert scn.interdiction is not None and scn.interdiction.siege_lines == ["ab"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_valid_document(data: st.DataObject) -> None:
    doc = copy.deepcopy(_full_doc())
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(doc)
        op = data.draw(st.sampled_from(["delete", "wrong_type", "out_of_range", "string", "add_key"]), label="op")
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent, last = _container(doc, path), path[-1]
        if op == "delete":
            del parent[last]
        elif op == "wrong_type":
            parent[last] = data.draw(values, label="value")
        elif op == "out_of_range":
            parent[last] = data.draw(out_of_range, label="number")
        elif op == "string":
            parent[last] = data.draw(st.text(max_size=20), label="string")
        else:
            target = parent[last] if isinstance(parent[last], dict) else parent
            if isinstance(target, dict):
                target[data.draw(keys, label="key")] = data.draw(values, label="value")
    _check(doc)


def test_no_field_default_is_a_builtin_factory() -> None:
    """pydantic reads every default factory's signature when it builds a model, and a builtin's (``list``,
    ``dict``: parsed from its text signature) costs more than a function's: the sections use
    :func:`~qalamoun_sim.scenario.base.empty_list` and ``empty_dict``, which give a new empty one each time."""
    from qalamoun_sim.scenario import schema, schema_network
    from qalamoun_sim.scenario.base import StrictModel, empty_dict, empty_list

    models = [m for mod in (schema, schema_network) for m in vars(mod).values()
              if isinstance(m, type) and issubclass(m, StrictModel)]
    factories = [f.default_factory for m in models for f in m.model_fields.values() if f.default_factory is not None]
    assert factories and not any(f in (list, dict, set) for f in factories)
    assert empty_list() == [] and empty_list() is not empty_list() and empty_dict() == {}
