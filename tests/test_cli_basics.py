"""The command line: validate, schema, run --report-only, and the one-line error contract (exit status 2)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_main

from qalamoun_sim.scenario import default_scenario_path

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"
DEFAULT = default_scenario_path()
SNOW_ONLY = DEFAULT.parent / "snow_only.toml"
_SCRIPT = Path(sys.executable).parent / "qalamoun-sim"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "qalamoun_sim.cli"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script in a fresh process (stdin closed, not a terminal)."""
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=cwd, timeout=60,
                          stdin=subprocess.DEVNULL)


# --------------------------------------------------------------------------- bad scenario files
def in_block(text: str, marker: str, old: str, new: str) -> str:
    """Replace the first ``old`` after ``marker`` (e.g. a route's ``id = "r3"`` line)."""
    start = text.index(marker)
    pos = text.index(old, start)
    return text[:pos] + new + text[pos + len(old):]


def route_index(path: Path, rid: str) -> int:
    return [r["id"] for r in tomllib.loads(path.read_text())["routes"]].index(rid)


def _syntax_error(text: str) -> tuple[str, int]:
    marker = 'id = "r3"'
    line = text[:text.index(marker)].count("\n") + 1
    return text.replace(marker, 'id = "r3', 1), line


def _drop_scenario_section(text: str) -> str:
    start = text.index("[scenario]")
    end = text.index("[[nodes]]")
    return text[:start] + text[end:]


# name -> (base file, mutation, expected start after "FILE: ", fragments of the message)
Case = tuple[Path, Callable[[str], str], str, tuple[str, ...]]
CASES: dict[str, Case] = {
    "wrong_type": (TINY, lambda t: in_block(t, 'id = "r3"', "length_km = 9", 'length_km = "nine"'),
                   "routes[3].length_km: ", ("number",)),
    "negative_length": (TINY, lambda t: in_block(t, 'id = "r3"', "length_km = 9", "length_km = -9"),
                        "routes[3].length_km: ", ("> 0",)),
    "elevation_above_9000": (TINY, lambda t: in_block(t, 'id = "high_pass"', "elevation_m = 2100",
                                                      "elevation_m = 9100"),
                             "nodes[2].elevation_m: ", ("9000",)),
    "days_below_1": (TINY, lambda t: t.replace("days = 10", "days = 0", 1), "scenario.days: ", (">= 1",)),
    "unknown_enum": (TINY, lambda t: in_block(t, 'id = "r3"', 'surface = "trail"', 'surface = "tarmac"'),
                     "routes[3].surface: ", ("'road', 'track' or 'trail'",)),
    "missing_node": (TINY, lambda t: in_block(t, 'id = "r3"', 'to = "town_b"', 'to = "town_c"'),
                     "routes[3].to: ", ("unknown node 'town_c'", "did you mean")),
    "duplicate_node": (TINY, lambda t: t.replace('id = "town_b"', 'id = "town_a"', 1),
                       "nodes[4].id: ", ("duplicate id 'town_a'", "nodes[3]")),
    "duplicate_route": (TINY, lambda t: t.replace('id = "r4"', 'id = "r1"', 1),
                        "routes[4].id: ", ("duplicate id 'r1'", "routes[1]")),
    "missing_section": (TINY, _drop_scenario_section, "scenario: ", ("required field missing",)),
    "unknown_top_level_key": (TINY, lambda t: t + "\n[wether]\nlapse_rate_c_per_km = 6.0\n",
                              "", ("unknown key 'wether'", "did you mean 'weather'?")),
    "asset_unknown_base": (TINY, lambda t: t.replace('base = "base"', 'base = "bse"', 1),
                           "interdiction.assets[0].base: ", ("unknown node 'bse'", "did you mean 'base'?")),
    "default_unknown_key": (DEFAULT, lambda t: in_block(t, 'id = "jurd-saddle_jarajir"', "length_km =", "lenght_km ="),
                            f"routes[{route_index(DEFAULT, 'jurd-saddle_jarajir')}]",
                            ("unknown key 'lenght_km'", "did you mean 'length_km'?")),
    "default_negative_length": (DEFAULT, lambda t: in_block(t, 'id = "jurd-saddle_jarajir"', "length_km = ",
                                                            "length_km = -"),
                                f"routes[{route_index(DEFAULT, 'jurd-saddle_jarajir')}].length_km: ", ("> 0",)),
}


def _assert_one_line_error(rc: int, out: str, err: str, path: Path, start: str, fragments: tuple[str, ...]) -> None:
    assert rc == 2, err
    assert out == ""  # no partial output
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    line = err.rstrip("\n")
    assert line.startswith(f"{path}: {start}"), line
    for fragment in fragments:
        assert fragment in line


def validate(via: str, path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``validate PATH`` through the console script (``subprocess``) or ``cli.main`` in this process."""
    if via == "subprocess":
        res = run_cli("validate", str(path))
        return res.returncode, res.stdout, res.stderr
    return run_main(capsys, "validate", str(path))


@pytest.mark.parametrize("via", ["subprocess", "main"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_scenario_is_one_line_exit_2(case: str, via: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    base, mutate, start, fragments = CASES[case]
    text = base.read_text()
    bad = mutate(text)
    assert bad != text
    path = tmp_path / f"{case}.toml"
    path.write_text(bad)
    rc, out, err = validate(via, path, capsys)
    _assert_one_line_error(rc, out, err, path, start, fragments)


@pytest.mark.parametrize("via", ["subprocess", "main"])
def test_toml_syntax_error_names_the_line(via: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, line = _syntax_error(TINY.read_text())
    path = tmp_path / "syntax.toml"
    path.write_text(bad)
    rc, out, err = validate(via, path, capsys)
    _assert_one_line_error(rc, out, err, path, "TOML syntax", (f"line {line}",))


@pytest.mark.parametrize("via", ["subprocess", "main"])
def test_missing_file(via: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no_such_scenario.toml"
    rc, out, err = validate(via, path, capsys)
    _assert_one_line_error(rc, out, err, path, "file not found", ())


@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_file_fails_every_command(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TINY.read_text().replace("days = 10", "days = 0", 1))
    args = [command, str(path)] + (["--report-only"] if command == "run" else [])
    rc, out, err = run_main(capsys, *args)
    _assert_one_line_error(rc, out, err, path, "scenario.days: ", (">= 1",))


@pytest.mark.parametrize("args", [
    ("run", "--replications", "0", "--report-only"),
    ("run", "--seed", "-1", "--report-only"),
    ("run", "--backend", "gpu"),
    ("validate",),
    ("frobnicate",),
])
def test_bad_command_line_is_one_line_exit_2(args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, *args)
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("qalamoun-sim: "), err


# --------------------------------------------------------------------------- warnings
@pytest.mark.parametrize("via", ["subprocess", "main"])
def test_unreachable_town_validates_with_a_warning(via: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "unreachable.toml"
    rc, out, err = validate(via, path, capsys)
    assert rc == 0
    assert out.count("\n") == 1 and out.startswith(f"{path}: ok")
    assert err.count("\n") == 1, err
    assert err.startswith("warning: ") and "lost" in err and "Traceback" not in err


def test_good_scenario_prints_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "validate", str(TINY))
    assert (rc, err) == (0, "")


# --------------------------------------------------------------------------- validate and schema
def test_validate_default_is_one_line(tmp_path: Path) -> None:
    doc = tomllib.loads(DEFAULT.read_text())
    res = run_cli("validate", str(DEFAULT), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.count("\n") == 1
    line = res.stdout.strip()
    assert line.startswith(f"{DEFAULT}: ok: '{doc['scenario']['name']}'")
    assert f"{len(doc['nodes'])} nodes" in line and f"{len(doc['routes'])} routes" in line
    assert f"{doc['scenario']['days']} days from 2013-11-01" in line
    assert line.endswith("interdiction on")


def test_validate_snow_only_and_tiny(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "validate", str(SNOW_ONLY))
    assert rc == 0 and err == "" and out.strip().endswith("interdiction off")
    rc, out, err = run_main(capsys, "validate", str(TINY))
    assert rc == 0
    assert out == (f"{TINY}: ok: 'tiny test network', 6 nodes, 5 routes, corridors c, interior, "
                   "10 days from 2013-12-01, interdiction on\n")


def test_schema_is_json_with_the_sections() -> None:
    res = run_cli("schema")
    assert res.returncode == 0 and res.stderr == ""
    schema = json.loads(res.stdout)
    props = schema["properties"]
    for key in ("scenario", "nodes", "routes", "network", "weather", "snow", "interdiction", "engine", "claim"):
        assert key in props
    assert "source_path" not in props
    assert "scenario" in schema["required"]
    route = schema["$defs"]["Route"]
    assert "from" in route["properties"] and "from_" not in route["properties"]
    assert route["properties"]["surface"]["enum"] == ["road", "track", "trail"]
    assert route["additionalProperties"] is False


# --------------------------------------------------------------------------- run --report-only
def test_report_only_on_tiny(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "run", str(TINY), "--report-only")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"Scenario: tiny test network  ({TINY})"
    assert "Nodes by kind:  base 1, junction 1, pass 1, source 1, town 2" in lines
    assert "Routes by surface:  road 1, track 2, trail 2" in lines
    assert "Routes by corridor:  c 4, interior 1" in lines
    assert "Highest passes:  high_pass 2100 m" in lines
    assert "Nominal maximum flow to militant towns (t/day):  c 35" in lines


def test_report_only_on_default() -> None:
    doc = tomllib.loads(DEFAULT.read_text())
    res = run_cli("run", "--report-only")  # no SCENARIO: the bundled default
    assert res.returncode == 0, res.stderr
    out = res.stdout
    # the bundled file of whichever copy of the package the console script runs (installed or source)
    assert out.splitlines()[0].endswith("qalamoun_sim/scenarios/qalamoun_winter_2013.toml)")
    kinds = Counter(n["kind"] for n in doc["nodes"])
    surfaces = Counter(r["surface"] for r in doc["routes"])
    assert "Nodes by kind:  " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) in out
    assert "Routes by surface:  " + ", ".join(f"{k} {v}" for k, v in sorted(surfaces.items())) in out
    passes = sorted(((n["elevation_m"], n["id"]) for n in doc["nodes"] if n["kind"] == "pass"), reverse=True)
    assert f"Highest passes:  {passes[0][1]} {passes[0][0]:.0f} m" in out
    flows = re.search(r"Nominal maximum flow to militant towns \(t/day\):  (.*)", out)
    assert flows is not None
    # arsal: every route out of Arsal (80 + 40 + 30 + 6 + 5); east: 30 + 20; zabadani: 20 + 5
    assert dict(item.split(" ") for item in flows.group(1).split(", ")) == {"arsal": "161", "east": "50",
                                                                            "zabadani": "25"}


def test_report_only_json_is_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "run", str(TINY), "--report-only", "--json")
    assert rc == 0 and err == ""
    assert out.count("\n") == 1
    obj = json.loads(out)
    assert obj["scenario"] == "tiny test network"
    assert obj["network"]["nominal_max_flow_tpd"] == {"c": 35.0}
    assert obj["network"]["nodes_by_kind"]["town"] == 2


# --------------------------------------------------------------------------- edge cases once found as bugs
def test_overlong_path_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / ("s" * 300 + ".toml")
    res = run_cli("validate", str(path))
    assert "Traceback" not in res.stderr
    assert res.returncode == 2 and res.stderr.count("\n") == 1


def test_unreadable_file_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "locked.toml"
    path.write_text(TINY.read_text())

    real_bytes, real_text, real_open = Path.read_bytes, Path.read_text, Path.open

    def denied(real):  # chmod 000 does not stop root, so simulate an unreadable file
        def read(self: Path, *args, **kwargs):
            if self.name == path.name:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)
        return read

    monkeypatch.setattr(Path, "read_bytes", denied(real_bytes))
    monkeypatch.setattr(Path, "read_text", denied(real_text))
    monkeypatch.setattr(Path, "open", denied(real_open))
    rc, out, err = run_main(capsys, "validate", str(path))
    _assert_one_line_error(rc, out, err, path, "", ("ermission",))


def test_newline_in_a_value_keeps_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "newline.toml"
    path.write_text(in_block(TINY.read_text(), 'id = "r3"', 'to = "town_b"', 'to = "town\\nb"'))
    rc, out, err = run_main(capsys, "validate", str(path))
    _assert_one_line_error(rc, out, err, path, "routes[3].to: ", ("unknown node",))
