"""Command-line conventions: --quiet / --verbose on every command, help on every argument, defaults, -m."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from conftest import run_main

from qalamoun_sim.cli.main import build_parser


def subparsers() -> dict[str, argparse.ArgumentParser]:
    p = build_parser()
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(subparsers()))
def test_every_argument_has_help_and_verbosity(name: str) -> None:
    parser = subparsers()[name]
    missing = [a.dest for a in parser._actions if not a.help and a.dest != "help"]
    assert not missing, f"{name}: no help text for {missing}"
    flags = {s for a in parser._actions for s in a.option_strings}
    assert {"-q", "--quiet", "-v", "--verbose"} <= flags


@pytest.mark.parametrize("name", sorted(subparsers()))
def test_scenario_is_optional_where_a_command_takes_one(name: str) -> None:
    if name == "validate":
        pytest.skip("validate checks a named file")
    for a in subparsers()[name]._actions:
        if a.dest == "scenario":
            assert a.nargs == "?", f"{name} requires a scenario"


def test_verbose_notes_and_quiet_silences(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "validate", "-v", "qalamoun_sim/scenarios/snow_only.toml")
    assert rc == 0 and "ok:" in out and "INFO: scenario" in err
    rc, out, err = run_main(capsys, "--verbose", "validate", "qalamoun_sim/scenarios/snow_only.toml")
    assert rc == 0 and "INFO: scenario" in err
    rc, out, err = run_main(capsys, "validate", "--quiet", "qalamoun_sim/scenarios/snow_only.toml")
    assert rc == 0 and "ok:" in out and err == ""
    rc, out, err = run_main(capsys, "validate", "qalamoun_sim/scenarios/snow_only.toml")
    assert rc == 0 and err == ""


def test_quiet_and_verbose_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_main(capsys, "validate", "-q", "-v", "x.toml")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "not allowed" in err


def test_quiet_hides_progress(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from qalamoun_sim.cli import common

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    common.configure_logging(argparse.Namespace(verbosity=-1))
    assert common.progress_bar(3, True).disable
    common.configure_logging(argparse.Namespace())
    assert not common.progress_bar(3, True).disable


def test_sweep_defaults_to_the_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "sweep", "--param", "snow.limits.track.closed_cm=35",
                            "--replications", "3", "--json", "-q")
    assert rc == 0, err
    assert "closed_cm" in out


def test_python_dash_m_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "qalamoun_sim", "--version"], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.startswith("qalamoun-sim ")
