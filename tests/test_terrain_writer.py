"""The scenario TOML writer behind ``profile --out``: what it writes loads back to the same scenario."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.scenario import load_scenario
from qalamoun_sim.scenario.loader import default_scenario_path
from qalamoun_sim.scenario.writer import scenario_toml, toml_dumps, write_scenario

BUNDLED = sorted(default_scenario_path().parent.glob("*.toml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenarios_load_back_the_same(path: Path, tmp_path: Path) -> None:
    scn = load_scenario(path)
    again = load_scenario(write_scenario(scn, tmp_path / path.name))
    assert again.model_dump(exclude={"weather": {"observed": {"csv"}}}) == \
        scn.model_dump(exclude={"weather": {"observed": {"csv"}}})
    if scn.weather.observed is not None:
        assert again.weather.observed is not None
        assert Path(again.weather.observed.csv).resolve() == Path(scn.weather.observed.csv).resolve()


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_only_what_the_file_sets_is_written(path: Path) -> None:
    original = tomllib.loads(path.read_text())
    written = tomllib.loads(scenario_toml(load_scenario(path), path.parent))
    assert set(written) == set(original)  # no section of defaults added
    for section in ("weather", "snow", "engine", "claim"):
        assert set(written.get(section, {})) == set(original.get(section, {}))
    assert written["nodes"] == original["nodes"] and written["routes"] == original["routes"]


def test_a_scenario_that_would_not_load_is_not_written(tmp_path: Path) -> None:
    scn = load_scenario()
    broken = scn.model_copy(update={"routes": [scn.routes[0].model_copy(update={"to": "atlantis"})]})
    with pytest.raises(ScenarioError, match="atlantis"):
        write_scenario(broken, tmp_path / "x.toml")
    assert list(tmp_path.iterdir()) == []


scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                    st.dates(dt.date(1900, 1, 1), dt.date(9000, 12, 31)))
keys = st.text(min_size=1, max_size=8)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=8)


@example({"0\n": {}})  # a key ending in a newline is quoted (a bare-key pattern ending in "$" let it through)
@example({"a": 1, "a\n": [{}]})
@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, values | st.lists(st.dictionaries(keys, values, max_size=3), min_size=1, max_size=3),
                       max_size=5))
def test_toml_dumps_round_trips(doc: dict) -> None:
    assert tomllib.loads(toml_dumps(doc)) == doc
