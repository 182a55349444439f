"""What every command shares: the argument parser with our error contract, argument types, helpers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["EXIT_BAD_INPUT", "EXIT_ENVIRONMENT", "EXIT_TERMINATED", "MAX_REPLICATIONS", "Parser", "int_at_least",
           "int_between", "positive", "seed_value", "replications_value", "workers_value", "load", "json_default",
           "progress_bar", "out_folder", "Command"]

#: What a command is: it takes the parsed arguments and returns the exit status.
Command = Callable[[argparse.Namespace], int]

EXIT_BAD_INPUT = 2
#: A failure of the environment (disk full, read-only file system, no permission).
EXIT_ENVIRONMENT = 1
#: SIGTERM: 128 + 15, as a shell reports a process it terminated.
EXIT_TERMINATED = 143
#: The most replications a command may ask for (as ``[scenario] replications``; the ensemble layer's too).
MAX_REPLICATIONS = 10_000_000


class Parser(argparse.ArgumentParser):
    """argparse with our error contract: one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"qalamoun-sim: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


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


def load(path: str | None):
    from ..scenario import load_scenario

    return load_scenario(path)


def json_default(value: Any) -> Any:
    """NaN and numpy numbers for json.dumps."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return None if f != f else f


def progress_bar(total: int, enabled: bool, unit: str = "rep"):
    """A tqdm bar on stderr when ``enabled`` and stderr is a terminal; otherwise a silent stand-in."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, disable=not (enabled and sys.stderr.isatty()),
                dynamic_ncols=True, leave=False)


def out_folder(path: str) -> Any:
    """An output folder, created; an unusable path is a one-line error."""
    from pathlib import Path

    from ..errors import ResultsError

    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"--out {path}: cannot create folder: {exc.strerror or exc}") from None
    return folder
