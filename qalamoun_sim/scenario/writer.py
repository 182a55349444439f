"""Scenario files written back: a validated scenario as a TOML document that loads to the same scenario.

:func:`toml_dumps` is a small TOML writer for the scenario's shapes (tables, arrays of tables, strings,
numbers, booleans, dates, arrays); :func:`scenario_toml` lays a scenario out as a file for a given
folder (file paths made relative to it, the network inline); :func:`write_scenario` writes it
atomically after checking that the text loads back.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..io import write_text

__all__ = ["toml_dumps", "scenario_toml", "write_scenario"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # fullmatch: "$" would let a trailing newline through


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's (\" \\ \n \uXXXX); DEL is one more control character TOML wants escaped
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    """A TOML value: scalars, and arrays or tables inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items() if v is not None) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) > 0 and all(isinstance(v, Mapping) for v in value)


def _table(table: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    """Append ``table``'s keys: its scalars and arrays first, then its sub-tables and arrays of tables."""
    subtables = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, Mapping) or _is_table_array(value):
            subtables.append((key, value))
        else:
            lines.append(f"{_key(str(key))} = {_value(value)}")
    for key, value in subtables:
        sub = [*path, _key(str(key))]
        if isinstance(value, Mapping):
            lines.extend(["", f"[{'.'.join(sub)}]"])
            _table(value, sub, lines)
        else:
            for item in value:
                lines.extend(["", f"[[{'.'.join(sub)}]]"])
                _table(item, sub, lines)


def toml_dumps(doc: Mapping[str, Any]) -> str:
    """A document (nested dicts and lists of TOML-able values; None values left out) as TOML text.

    Examples
    --------
    >>> import datetime as dt, tomllib
    >>> doc = {"scenario": {"name": "t", "start": dt.date(2013, 12, 1)}, "nodes": [{"id": "a"}, {"id": "b"}]}
    >>> print(toml_dumps(doc))
    [scenario]
    name = "t"
    start = 2013-12-01
    <BLANKLINE>
    [[nodes]]
    id = "a"
    <BLANKLINE>
    [[nodes]]
    id = "b"
    <BLANKLINE>
    >>> tomllib.loads(toml_dumps(doc)) == doc
    True
    """
    lines: list[str] = []
    _table(doc, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _relative(path: str, folder: Path) -> str:
    """A path the loaded scenario holds (relative to the working folder, or absolute) as the file in ``folder``
    names it: relative when it lies in ``folder`` or below, else absolute."""
    target = Path(path).resolve()
    try:
        return target.relative_to(folder.resolve()).as_posix()
    except ValueError:  # elsewhere
        return str(target)


def scenario_toml(scenario: Any, folder: str | Path) -> str:
    """A validated :class:`~qalamoun_sim.scenario.Scenario` as the text of a file in ``folder``.

    Only what the scenario sets is written (defaults stay defaults); the weather files it names are
    given relative to ``folder``; nodes and routes are written inline (a ``[network]`` GraphML source
    is left out: the file holds the network as it was read).
    """
    doc = scenario.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
    doc.pop("network", None)
    doc["nodes"] = [n.model_dump(by_alias=True, exclude_none=True, exclude_unset=True) for n in scenario.nodes]
    doc["routes"] = [r.model_dump(by_alias=True, exclude_none=True, exclude_unset=True) for r in scenario.routes]
    weather = doc.get("weather", {})
    if scenario.weather.replay_csv:
        weather["replay_csv"] = _relative(scenario.weather.replay_csv, Path(folder))
    if scenario.weather.observed is not None:
        weather.setdefault("observed", {})["csv"] = _relative(scenario.weather.observed.csv, Path(folder))
    order = ["scenario", "nodes", "routes"]
    return toml_dumps({k: doc[k] for k in order + [k for k in doc if k not in order]})


def write_scenario(scenario: Any, path: str | Path) -> Path:
    """Write a scenario as TOML at ``path``, atomically, after checking that the text loads back.

    Raises
    ------
    ScenarioError
        When the text would not load (naming ``path`` and the field), nothing written.
    StorageError
        When the file system refuses the write.
    """
    from .loader import scenario_from_dict

    path = Path(path)
    text = scenario_toml(scenario, path.parent)
    with warnings.catch_warnings():  # the scenario's warnings (an unreachable town) were given when it loaded
        warnings.simplefilter("ignore")
        scenario_from_dict(tomllib.loads(text), source=str(path), base_dir=path.parent)
    return write_text(text, path)
