"""The ``qalamoun-sim`` command: the parser of every sub-command, and the one place that maps errors to exit status.

Each family of sub-commands lives in a module of its own with a ``register(sub)`` that adds its
parsers and returns its commands by name; :data:`FAMILIES` lists them in the order ``--help`` shows.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ..errors import QalamounError, ScenarioError
from . import analysis, basic, claim, run
from .common import EXIT_BAD_INPUT, Command, Parser

__all__ = ["build_parser", "main", "FAMILIES"]

#: The modules of the sub-commands, in the order of ``--help``.
FAMILIES: tuple[ModuleType, ...] = (run, claim, basic, analysis)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (each parser's ``command`` default is its function)."""
    from .._version import __version__

    p = Parser(prog="qalamoun-sim", description="Simulate supply routes under siege by snow and army.")
    p.add_argument("--version", action="version", version=f"qalamoun-sim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    commands: dict[str, Command] = {}
    for family in FAMILIES:
        commands.update(family.register(sub))
    p.set_defaults(_commands=commands)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qalamoun-sim`` console script."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args._commands[args.command](args)
        except ScenarioError as exc:
            sys.stderr.write(f"{exc}\n")
            return EXIT_BAD_INPUT
        except QalamounError as exc:
            sys.stderr.write(f"qalamoun-sim: {exc}\n")
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            sys.stderr.write("qalamoun-sim: interrupted\n")
            return 130
        except BrokenPipeError:  # e.g. piped into head
            return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one line on stderr, without the source line."""
    sys.stderr.write(f"warning: {message}\n")
