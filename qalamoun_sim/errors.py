"""Error types shared by every layer.

A :class:`ScenarioError` carries the file and the field path of bad input so that
the command line can print one line (``file: field: message``) and exit with status 2.
"""

from __future__ import annotations

import unicodedata

__all__ = ["QalamounError", "ScenarioError", "ResultsError", "BackendError", "StorageError", "Terminated",
           "escape_control"]


class QalamounError(Exception):
    """Base class of every error this package raises on purpose."""


class ScenarioError(QalamounError, ValueError):
    """Bad scenario input: names the source (file or ``<dict>``), the field path and the problem.

    Examples
    --------
    >>> str(ScenarioError("x.toml", "routes[3].length_km", "must be > 0"))
    'x.toml: routes[3].length_km: must be > 0'
    """

    def __init__(self, source: str, field: str | None, message: str) -> None:
        self.source = _one_line(source)
        self.field = _one_line(field) if field else field
        self.message = _one_line(message)
        self._raw = (source, field, message)
        parts = [self.source] + ([self.field] if self.field else []) + [self.message]
        super().__init__(": ".join(parts))

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, str | None, str]]:
        """Pickle by the three parts, so the error crosses a process boundary (worker to parent)."""
        return type(self), self._raw


def _one_line(text: str) -> str:
    """Escape line breaks and other control characters so an error always prints as one line."""
    return escape_control(str(text).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r"))


def escape_control(text: str) -> str:
    """Control and format characters (escape sequences, bidi overrides) as ``\\xNN`` / ``\\uNNNN``.

    What the terminal receives is then plain text, whatever an id or a path holds.

    Examples
    --------
    >>> escape_control("town\x1b[31m")
    'town\\\\x1b[31m'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(c: str) -> str:
    if unicodedata.category(c) in ("Zs",):  # a non-breaking space and the like: harmless
        return c
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class ResultsError(QalamounError):
    """A results folder that cannot be used (missing, or made from another scenario or seed)."""


class BackendError(QalamounError):
    """A backend that cannot run (bad worker count, unreachable dask scheduler)."""


class StorageError(QalamounError):
    """The environment refused a read or a write (disk full, read-only, no permission): exit status 1.

    Examples
    --------
    >>> str(StorageError("results/", "No space left on device"))
    'results/: No space left on device'
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path, self.problem = str(path), str(problem)
        super().__init__(f"{self.path}: {self.problem}")

    def __reduce__(self) -> tuple[type[StorageError], tuple[str, str]]:
        """Pickle by its two parts (a worker's error reaches the parent whole)."""
        return type(self), (self.path, self.problem)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it ends as Ctrl-C does (finished chunks kept).

    It is a :class:`KeyboardInterrupt`: whatever cleans up after Ctrl-C cleans up after it.
    """

    signal_number = 15
