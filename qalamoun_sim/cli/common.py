"""What every command shares: the argument parser with our error contract, argument types, helpers."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["EXIT_BAD_INPUT", "EXIT_ENVIRONMENT", "EXIT_TERMINATED", "MAX_REPLICATIONS", "Parser", "int_at_least",
           "int_between", "positive", "seed_value", "replications_value", "workers_value", "load", "json_default",
           "progress_bar", "out_folder", "Command", "LOGGER", "configure_logging", "add_verbosity", "LazyChoices",
           "SCENARIO_HELP", "SEED_HELP", "JSON_HELP", "BACKEND_HELP", "WORKERS_HELP"]

#: What a command is: it takes the parsed arguments and returns the exit status.
Command = Callable[[argparse.Namespace], int]

EXIT_BAD_INPUT = 2
#: A failure of the environment (disk full, read-only file system, no permission).
EXIT_ENVIRONMENT = 1
#: SIGTERM: 128 + 15, as a shell reports a process it terminated.
EXIT_TERMINATED = 143
#: The most replications a command may ask for (as ``[scenario] replications``; the ensemble layer's too).
MAX_REPLICATIONS = 10_000_000


#: Help texts shared by the commands' arguments.
SCENARIO_HELP = "scenario TOML (default: the bundled Qalamoun winter 2013-14)"
SEED_HELP = "root seed of the replications (default: the scenario's)"
JSON_HELP = "print one JSON object on stdout instead of the tables"
BACKEND_HELP = "where replications run: serial (default), processes (this machine) or dask (a cluster)"
WORKERS_HELP = "processes or local dask workers (default 2; ignored by serial)"

#: The package's logger: ``--verbose`` shows its INFO records, ``-vv`` its DEBUG ones.
LOGGER = "qalamoun_sim"


class Parser(argparse.ArgumentParser):
    """argparse with our error contract (one line, exit status 2) and ``--quiet`` / ``--verbose`` on every parser.

    The verbosity options are on the top parser and on every sub-command, so both
    ``qalamoun-sim -q run`` and ``qalamoun-sim run -q`` work (see :func:`add_verbosity`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_verbosity(self)

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"qalamoun-sim: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet`` and ``-v/--verbose`` (repeatable) to ``parser``, as ``args.verbosity``.

    Their default is suppressed so that a sub-command's parser does not overwrite what the top
    parser read: read the value with ``getattr(args, "verbosity", 0)``.
    """
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=argparse.SUPPRESS,
                       help="no progress bar and no notes: only results, warnings and errors")
    group.add_argument("-v", "--verbose", dest="verbosity", action="count", default=argparse.SUPPRESS,
                       help="notes on stderr of what the command reads, does and writes (-vv: debugging detail)")


def configure_logging(args: argparse.Namespace) -> int:
    """Set the package logger's level from ``args.verbosity`` (-1 quiet, 0 default, 1 verbose, 2 debug).

    Records go to stderr, one line each. The level also decides :func:`progress_bar`: a quiet
    command shows none. Returns the level set.
    """
    verbosity = int(getattr(args, "verbosity", 0) or 0)
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
    return level


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a record comes (a test may swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer no smaller than ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def int_between(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``minimum`` to ``maximum``."""
    at_least = int_at_least(minimum)

    def parse(text: str) -> int:
        value = at_least(text)
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum:,}, got {value:,}")
        return value
    return parse


positive = int_at_least(1)
seed_value = int_at_least(0)
replications_value = int_between(1, MAX_REPLICATIONS)
workers_value = int_between(1, 1024)


def load(path: str | None) -> Any:
    """The scenario at ``path`` (the bundled one when None), noted at ``--verbose``."""
    from ..scenario import load_scenario

    scn = load_scenario(path)
    logging.getLogger(LOGGER).info("scenario '%s' from %s: %d nodes, %d routes, %d days from %s",
                                   scn.scenario.name, scn.source_path or "the bundled file", len(scn.nodes),
                                   len(scn.routes), scn.scenario.days, scn.scenario.start)
    return scn


def json_default(value: Any) -> Any:
    """NaN and numpy numbers for json.dumps."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return None if f != f else f


def progress_bar(total: int, enabled: bool, unit: str = "rep") -> Any:
    """A tqdm bar on stderr when ``enabled``, not ``--quiet`` and stderr is a terminal; otherwise a silent
    stand-in (and tqdm is not imported)."""
    quiet = logging.getLogger(LOGGER).getEffectiveLevel() > logging.WARNING
    if not (enabled and not quiet and sys.stderr.isatty()):
        return _Silent()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)


class _Silent:
    """What :func:`progress_bar` returns when no bar is shown: the part of tqdm's interface the commands use."""

    disable = True

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: float = 1) -> None:
        """Nothing to show."""


class LazyChoices(Sequence[str]):
    """An argparse ``choices`` read from ``module.name`` the first time argparse looks at it, so that
    registering a command imports nothing heavy: the module is imported when that command's arguments
    are checked or its help printed, never for another command. Set it on the action that
    ``add_argument`` returns (``add_argument`` itself reads its choices to check the metavar).

    >>> "loads" in LazyChoices("json", "__all__")
    True
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self._values: list[str] | None = None

    def _get(self) -> list[str]:
        if self._values is None:
            import importlib

            self._values = [str(v) for v in getattr(importlib.import_module(self.module), self.name)]
        return self._values

    def __contains__(self, value: object) -> bool:
        return value in self._get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, index: Any) -> Any:
        return self._get()[index]


def out_folder(path: str) -> Any:
    """An output folder, created; an unusable path is a one-line error."""
    from pathlib import Path

    from ..errors import ResultsError, StorageError

    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:  # a path through a file: a bad argument (exit 2)
        raise ResultsError(f"--out {path}: cannot create folder: {exc.strerror or exc}") from None
    except OSError as exc:  # permission, read-only file system: the environment (exit 1)
        raise StorageError(f"--out {path}", f"cannot create folder: {exc.strerror or exc}") from None
    return folder
