"""Start-up: a command imports and builds only its own family's parsers, and the claim path stays light."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from qalamoun_sim.cli.main import COMMANDS, build_parser


def _names(parser: argparse.ArgumentParser) -> list[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


@pytest.mark.parametrize("family", sorted(COMMANDS))
def test_each_family_registers_the_commands_the_table_names(family: str) -> None:
    module = importlib.import_module(f"qalamoun_sim.cli.{family}")
    parser = argparse.ArgumentParser()
    registered = module.register(parser.add_subparsers())
    assert tuple(registered) == COMMANDS[family] == tuple(_names(parser))


def test_the_whole_parser_holds_every_command_in_the_table_order() -> None:
    assert _names(build_parser()) == [c for cmds in COMMANDS.values() for c in cmds]


@pytest.mark.parametrize("command", [c for cmds in COMMANDS.values() for c in cmds])
def test_a_command_parser_holds_its_family_alone(command: str) -> None:
    family = next(f for f, cmds in COMMANDS.items() if command in cmds)
    assert _names(build_parser(command)) == list(COMMANDS[family])
    assert _names(build_parser("no-such-command")) == _names(build_parser())


def test_claim_loads_no_other_family_nor_heavy_library() -> None:
    code = ("import sys, runpy, io, contextlib\n"
            "sys.argv = ['qalamoun-sim', 'claim', '--replications', '3', '--json']\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        runpy.run_module('qalamoun_sim', run_name='__main__')\n"
            "    except SystemExit:\n        pass\n"
            "heavy = ('pandas', 'scipy', 'networkx', 'matplotlib', 'simpy', 'tqdm', 'xarray', 'numpy.ma')\n"
            "families = [f'qalamoun_sim.cli.{f}' for f in ('run', 'basic', 'analysis', 'interdict', 'explore', "
            "'climate', 'geo')]\n"
            "print(sorted(m for m in (*heavy, *families, 'qalamoun_sim.scenario.synthetic') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _blas_probe(env_extra: dict[str, str]) -> list[str]:
    import os

    code = ("import io, os, contextlib\n"
            "from qalamoun_sim.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['claim', '--replications', '2', '--json'])\n"
            "import numpy\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                             "MKL_NUM_THREADS", "GOTO_NUM_THREADS")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_the_commands_run_one_blas_thread_unless_the_user_says() -> None:
    assert _blas_probe({}) == ["1", "1"]  # numpy imported after main set it: OpenBLAS started no threads
    assert _blas_probe({"OMP_NUM_THREADS": "2"})[0] == "None"  # the user's own setting left alone


def test_main_leaves_the_environment_alone_once_numpy_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import os
    from contextlib import redirect_stdout

    import numpy  # noqa: F401 - already imported by the suite; the point is that it is

    from qalamoun_sim.cli.main import BLAS_THREAD_VARIABLES, main

    for var in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    with redirect_stdout(io.StringIO()):
        main(["claim", "--replications", "2", "--json"])
    assert not any(v in os.environ for v in BLAS_THREAD_VARIABLES)
