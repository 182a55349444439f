"""The base of every scenario section (:class:`StrictModel`) and the value types the sections share.

Its own module so that the schema's section modules (:mod:`.schema`, :mod:`.schema_network`) share it
without importing each other.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["StrictModel", "NodeKind", "Side", "Surface", "SURFACES", "MAX_TONNES", "empty_list", "empty_dict"]

NodeKind = Literal["source", "town", "junction", "pass", "base"]
Side = Literal["militant", "army", "neutral"]
Surface = Literal["road", "track", "trail"]
SURFACES: tuple[str, ...] = ("road", "track", "trail")
#: Tonnes (per day): supply, need, capacity and stock stay below this (a million t/day is no convoy route).
MAX_TONNES = 1e9


def empty_list() -> list[Any]:
    """A new empty list: a field's default factory. pydantic reads each factory's signature, and ``list``'s
    (a builtin's, parsed from its text signature) costs more than a Python function's."""
    return []


def empty_dict() -> dict[Any, Any]:
    """A new empty dict: a field's default factory (as :func:`empty_list`)."""
    return {}


class StrictModel(BaseModel):
    """Base of every section: unknown keys are rejected with the closest valid name."""

    # allow_inf_nan=False: NaN and infinity are refused in every float field, list item and dict value
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known, numeric = _keys_of(cls)
        if known.issuperset(data) and not any(isinstance(data[k], bool) for k in numeric.intersection(data)):
            return data  # the common case, without a loop over the keys in Python
        for key, value in data.items():
            if isinstance(key, str) and key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(sorted(known))}"
                raise ValueError(f"unknown key '{key}'{hint}")
            if key in numeric and isinstance(value, bool):
                raise ValueError(f"{key}: must be a number, not a boolean")
        return data


#: Per section model: its valid keys (names and aliases) and its numeric ones, computed on first use.
_KEYS: dict[type[BaseModel], tuple[frozenset[str], frozenset[str]]] = {}


def _keys_of(model: type[BaseModel]) -> tuple[frozenset[str], frozenset[str]]:
    """A model's valid keys (each field's name and alias) and the keys of its numeric fields (cached:
    a 4,000-route scenario validates its routes' keys 4,000 times)."""
    keys = _KEYS.get(model)
    if keys is None:
        known: set[str] = set()
        for name, field in model.model_fields.items():
            known.add(field.alias or name)
            known.add(name)
        numeric = {f.alias or n for n, f in model.model_fields.items() if _is_numeric(f.annotation)}
        keys = _KEYS[model] = (frozenset(known), frozenset(numeric))
    return keys


def _is_numeric(annotation: Any) -> bool:
    """int, float, or an optional of either."""
    import types
    import typing

    if annotation in (int, float):
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and all(a in (int, float) for a in args)
    return False
