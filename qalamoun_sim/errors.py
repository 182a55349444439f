"""Error types shared by every layer.

A :class:`ScenarioError` carries the file and the field path of bad input so that
the command line can print one line (``file: field: message``) and exit with status 2.
"""

from __future__ import annotations

__all__ = ["QalamounError", "ScenarioError", "ResultsError", "BackendError"]


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
    """Escape line breaks so an error always prints as one line."""
    return str(text).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class ResultsError(QalamounError):
    """A results folder that cannot be used (missing, or made from another scenario or seed)."""


class BackendError(QalamounError):
    """A backend that cannot run (bad worker count, unreachable dask scheduler)."""
