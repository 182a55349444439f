"""Pydantic validation errors as one line: the field path and a plain message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

__all__ = ["first_error", "ShortRepr"]


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or part == "[key]":
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _format_message(err: Mapping[str, Any]) -> str:
    typ, ctx = err.get("type", ""), err.get("ctx") or {}
    simple = {
        "greater_than": "must be > {gt}",
        "greater_than_equal": "must be >= {ge}",
        "less_than": "must be < {lt}",
        "less_than_equal": "must be <= {le}",
        "missing": "required field missing",
        "literal_error": "must be one of {expected}",
        "too_short": "too short (at least {min_length})",
        "too_long": "too long (at most {max_length})",
        "string_too_short": "must not be empty",
        "extra_forbidden": "unknown key",
        "finite_number": "must be a finite number (not NaN or infinity)",
    }
    if typ in simple:
        try:
            return simple[typ].format(**ctx)
        except (KeyError, IndexError):
            pass
    msg = str(err.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first error of a validation as ``(field path, message)``, e.g. ``("routes[3].length_km", "must be > 0")``."""
    err = exc.errors(include_url=False)[0]
    field, message = _format_loc(tuple(err.get("loc", ()))), _format_message(err)
    # a model validator may name a sub-field at the start of its message: "closed_cm: must be ..."
    if message.startswith("unknown key '"):
        key = message[len("unknown key '"):].split("'", 1)[0]
        return (f"{field}.{key}" if field else key), message
    head, sep, rest = message.partition(": ")
    if sep and head.replace("_", "").replace("[", "").replace("]", "").isalnum() and " " not in head:
        field = f"{field}.{head}" if field else head
        message = rest
    return field, message


class ShortRepr:
    """A scenario's repr (and str) in one short line: name, size, horizon, seed, source.

    Pydantic's repr prints every field (some 19,000 characters for the bundled scenario).
    """

    def __repr__(self) -> str:
        scn: Any = self  # a mixin of Scenario: its fields
        m = scn.scenario
        return (f"Scenario('{m.name[:60]}', {len(scn.nodes)} nodes, {len(scn.routes)} routes, {m.days} days "
                f"from {m.start}, seed {m.seed}, source {str(scn.source_path)[-80:]})")

    def __str__(self) -> str:
        return self.__repr__()
