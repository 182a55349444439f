"""The ``qalamoun-sim`` command: the parser of every sub-command, and the one place that maps errors to exit status.

Each family of sub-commands lives in a module of its own with a ``register(sub)`` that adds its
parsers and returns its commands by name; :data:`COMMANDS` names them in the order ``--help`` shows, so
that a command imports and builds only its own family's parsers (``--help`` and an unknown command, all).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import QalamounError, ScenarioError, StorageError, Terminated, escape_control
from .common import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_TERMINATED, Command, Parser, configure_logging

__all__ = ["build_parser", "main", "FAMILIES", "COMMANDS", "family_modules"]

#: Each family module of ``qalamoun_sim.cli`` and the sub-commands its ``register`` adds, in the order of
#: ``--help`` (tests/test_startup.py checks them against the modules).
COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run",), "claim": ("claim",), "basic": ("validate", "schema"),
    "analysis": ("plot", "animate", "export", "sweep", "critical"), "interdict": ("interdict",),
    "explore": ("explore",), "climate": ("climate",), "geo": ("profile", "layers")}


def family_modules(command: str | None = None) -> tuple[ModuleType, ...]:
    """The family modules, imported: the one that holds ``command``, or all of them (None, or a name no
    family holds)."""
    names = [f for f, cmds in COMMANDS.items() if command in cmds] or list(COMMANDS)
    return tuple(importlib.import_module(f"{__package__}.{name}") for name in names)


if TYPE_CHECKING:  # pragma: no cover - a module attribute, see __getattr__
    FAMILIES: tuple[ModuleType, ...]


def __getattr__(name: str) -> Any:
    """``FAMILIES``: every family module, in the order of ``--help`` (imported when first asked for)."""
    if name == "FAMILIES":
        return family_modules()
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every sub-command (each parser's ``command`` default is its function); with
    ``command``, of that command's family alone (what :func:`main` parses a command line with)."""
    p = Parser(prog="qalamoun-sim", description="Simulate supply routes under siege by snow and army.")
    p.add_argument("--version", action=_Version, help="show program's version number and exit")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    commands: dict[str, Command] = {}
    for family in family_modules(command):
        commands.update(family.register(sub))
    p.set_defaults(_commands=commands)
    return p


def _command_of(argv: Sequence[str]) -> str | None:
    """The sub-command a command line names: its first word that is not an option (the top parser's options
    take no value); None when there is none, or ``-h`` / ``--help`` comes before it."""
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):
            return word
    return None


class _Version(argparse.Action):
    """``--version``: the package version, read from its metadata only when asked (importlib.metadata costs
    more to import than most commands take to parse)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, default: Any = argparse.SUPPRESS,
                 help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from .._version import __version__

        sys.stdout.write(f"qalamoun-sim {__version__}\n")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qalamoun-sim`` console script.

    Every failure is one line on stderr: exit status 2 for bad input or arguments, 1 for the
    environment (disk full, read-only, permission), 130 for Ctrl-C and 143 for SIGTERM.
    """
    _one_blas_thread()
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(words)).parse_args(words)
    configure_logging(args)
    previous = _terminate_as_interrupt()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args._commands[args.command](args)
        except ScenarioError as exc:
            return _fail(str(exc), EXIT_BAD_INPUT, prefix=False)
        except StorageError as exc:
            return _fail(str(exc), EXIT_ENVIRONMENT)
        except QalamounError as exc:
            return _fail(str(exc), EXIT_BAD_INPUT)
        except Terminated:
            return _fail("terminated", EXIT_TERMINATED)
        except KeyboardInterrupt:
            return _fail("interrupted", 130)
        except BrokenPipeError:  # e.g. piped into head
            return 0
        except MemoryError:
            return _fail("out of memory; use fewer replications, days or routes", EXIT_ENVIRONMENT)
        except OSError as exc:  # the environment: a file that cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            return _fail(f"{where}{exc.strerror or exc}", EXIT_ENVIRONMENT)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


#: The variables that set OpenBLAS's (or another BLAS's) threads: a user's own setting is left alone.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")


def _one_blas_thread() -> None:
    """One BLAS thread for the commands, unless the user set one of :data:`BLAS_THREAD_VARIABLES`.

    The commands' matrix products are small (the corridor's cuts: blocks of 400 rows), where OpenBLAS's
    own threads cost more than they bring: 5-15 times slower on two cores (network/cuts.py), and the
    threads it starts when numpy is imported spin for about 0.1-0.15 s of CPU in every command (claim,
    200 replications: 0.68 -> 0.57 s CPU, best of 6, measured). Set before numpy is first imported (the
    only time OpenBLAS reads it), so only when it has not been: calling :func:`main` from a Python
    session that has numpy already changes nothing. Worker processes inherit it.
    """
    if "numpy" in sys.modules or any(v in os.environ for v in BLAS_THREAD_VARIABLES):
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"


def _fail(message: str, status: int, *, prefix: bool = True) -> int:
    """Write one line on stderr (control characters escaped) and return the exit status."""
    line = " ".join(escape_control(message).splitlines())
    sys.stderr.write(f"{'qalamoun-sim: ' if prefix else ''}{line}\n")
    return status


def _terminate_as_interrupt() -> Any:
    """SIGTERM raises :class:`~qalamoun_sim.errors.Terminated` (handled as Ctrl-C is); returns the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    return signal.signal(signal.SIGTERM, handler)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one line on stderr, without the source line (control characters escaped)."""
    sys.stderr.write(f"warning: {' '.join(escape_control(str(message)).splitlines())}\n")
