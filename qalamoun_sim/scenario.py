"""Scenario files: the schema of :mod:`qalamoun_sim.schema` loaded from TOML (or a dict), with clear errors.

Only ``[scenario]``, ``[[nodes]]`` and ``[[routes]]`` are required; every other section
has defaults taken from ``shared/domain.md`` (each default says where it comes from).
Every model of the schema is importable from here too. Every problem becomes a :class:`~qalamoun_sim.errors.ScenarioError` naming the file and
the field path, e.g. ``scenarios/x.toml: routes[3].length_km: must be > 0``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ScenarioError
from .schema import (
    Asset,
    Capture,
    Checkpoint,
    ClaimConfig,
    EngineConfig,
    InterdictionConfig,
    NetworkSource,
    Node,
    Route,
    Scenario,
    ScenarioMeta,
    SettlementPolicy,
    SnowConfig,
    SurfaceLimits,
    WeatherConfig,
)

__all__ = [
    "Scenario",
    "ScenarioMeta",
    "Node",
    "Route",
    "NetworkSource",
    "WeatherConfig",
    "SnowConfig",
    "SurfaceLimits",
    "InterdictionConfig",
    "Asset",
    "Checkpoint",
    "Capture",
    "SettlementPolicy",
    "EngineConfig",
    "ClaimConfig",
    "load_scenario",
    "scenario_from_dict",
    "default_scenario_path",
    "scenario_json_schema",
    "scenario_hash",
    "UnreachableTownWarning",
]

class UnreachableTownWarning(UserWarning):
    """A town that no source can reach over the nominal network."""



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


def _format_message(err: dict[str, Any]) -> str:
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


def _first_error(exc: ValidationError) -> tuple[str, str]:
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


# --------------------------------------------------------------------------- cross references
def _check_references(scn: Scenario, source: str) -> None:
    if not scn.nodes:
        raise ScenarioError(source, "nodes", "at least one node is required (or [network] graphml)")
    if not scn.routes:
        raise ScenarioError(source, "routes", "at least one route is required (or [network] graphml)")
    ids: dict[str, int] = {}
    for i, n in enumerate(scn.nodes):
        if n.id in ids:
            raise ScenarioError(source, f"nodes[{i}].id", f"duplicate id '{n.id}' (also nodes[{ids[n.id]}])")
        ids[n.id] = i
    names = sorted(ids)

    def unknown(path: str, ref: str, what: str = "node") -> ScenarioError:
        close = difflib.get_close_matches(ref, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return ScenarioError(source, path, f"unknown {what} '{ref}'{hint}")

    rids: dict[str, int] = {}
    for i, r in enumerate(scn.routes):
        if r.id in rids:
            raise ScenarioError(source, f"routes[{i}].id", f"duplicate id '{r.id}' (also routes[{rids[r.id]}])")
        rids[r.id] = i
        for attr, ref in (("from", r.from_), ("to", r.to)):
            if ref not in ids:
                raise unknown(f"routes[{i}].{attr}", ref)
        if r.from_ == r.to:
            raise ScenarioError(source, f"routes[{i}].to", "a route must join two different nodes")
    if not any(n.kind == "source" for n in scn.nodes):
        raise ScenarioError(source, "nodes", "no node of kind 'source'")
    itd = scn.interdiction
    if itd is not None:
        for i, a in enumerate(itd.assets):
            if a.base not in ids:
                raise unknown(f"interdiction.assets[{i}].base", a.base)
        towns = {n.id for n in scn.nodes if n.kind == "town"}
        for i, c in enumerate(itd.checkpoints):
            if c.town not in towns:
                raise unknown(f"interdiction.checkpoints[{i}].town", c.town, "town")
        for i, c in enumerate(itd.captures):
            if c.town not in towns:
                raise unknown(f"interdiction.captures[{i}].town", c.town, "town")
        for i, rid in enumerate(itd.siege_lines):
            if rid not in rids:
                raise ScenarioError(source, f"interdiction.siege_lines[{i}]", f"unknown route '{rid}'")
    try:
        ws, we = scn.claim_window()
    except (ValueError, OverflowError):
        raise ScenarioError(source, "claim.window_start", "the claim window would pass year 9999") from None
    if we < ws:
        raise ScenarioError(source, "claim.window_end", "must not be before window_start")


def _warn_unreachable(scn: Scenario, source: str) -> None:
    from .network import RouteNetwork  # network builds on this module: import at call time

    lost = RouteNetwork(scn.nodes, scn.routes).unreachable_towns()
    if lost:
        warnings.warn(f"{source}: towns not reachable from any source: {', '.join(lost)}",
                      UnreachableTownWarning, stacklevel=3)


# --------------------------------------------------------------------------- loading
def scenario_from_dict(data: dict[str, Any], source: str = "<dict>", base_dir: str | Path | None = None) -> Scenario:
    """Validate a scenario given as a dict (as parsed from TOML).

    Parameters
    ----------
    data : dict
        The document; same layout as the TOML file.
    source : str
        Name used in error messages (a file path, or ``<dict>``).
    base_dir : path, optional
        Folder that relative paths (``network.graphml``, ``weather.replay_csv``) are resolved against.

    Raises
    ------
    ScenarioError
        On any invalid field, naming ``source`` and the field path.

    Examples
    --------
    >>> s = scenario_from_dict({"scenario": {"name": "t", "start": "2013-12-01", "days": 3},
    ...     "nodes": [{"id": "a", "kind": "source", "elevation_m": 1000, "lat": 34, "lon": 36, "supply_tpd": 5},
    ...               {"id": "b", "kind": "town", "elevation_m": 1200, "lat": 34.1, "lon": 36.1}],
    ...     "routes": [{"id": "ab", "from": "a", "to": "b", "length_km": 10, "surface": "track",
    ...                 "capacity_tpd": 5}]})
    >>> s.routes[0].length_km
    10.0
    """
    if not isinstance(data, dict):
        raise ScenarioError(source, None, "a scenario must be a table/dict at the top level")
    data = dict(data)
    data.pop("source_path", None)
    base = Path(base_dir) if base_dir is not None else None
    net = data.get("network")
    if isinstance(net, dict) and isinstance(net.get("graphml"), str) and not data.get("nodes") and not data.get("routes"):
        data.update(_graph_document(net["graphml"], base, source))
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        field, message = _first_error(exc)
        raise ScenarioError(source, field, message) from None
    except (TypeError, ValueError) as exc:  # pragma: no cover - pydantic wraps these; belt and braces
        raise ScenarioError(source, None, str(exc)) from None
    if scn.weather.replay_csv:
        csv = Path(scn.weather.replay_csv)
        if not csv.is_absolute() and base is not None:
            csv = base / csv
        if not _exists(csv, source, "weather.replay_csv"):
            raise ScenarioError(source, "weather.replay_csv", f"file not found: {csv}")
        scn = scn.model_copy(update={"weather": scn.weather.model_copy(update={"replay_csv": str(csv)})})
    scn = scn.model_copy(update={"source_path": source})
    _check_references(scn, source)
    _warn_unreachable(scn, source)
    return scn


def _graph_document(graphml: str, base: Path | None, source: str) -> dict[str, Any]:
    from .network import graphml_to_document

    path = Path(graphml)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not _exists(path, source, "network.graphml"):
        raise ScenarioError(source, "network.graphml", f"file not found: {path}")
    try:
        return graphml_to_document(path)
    except ScenarioError:
        raise
    except Exception as exc:  # a broken file, whatever the parser raises
        raise ScenarioError(source, "network.graphml", f"cannot read {path}: {exc}") from None


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load and validate a TOML scenario file; with no path, the bundled default scenario.

    Raises
    ------
    ScenarioError
        Missing file, TOML syntax (with line), or any invalid field.
    """
    if path is None:
        path = default_scenario_path()
    path = Path(path)
    source = str(path)
    if not _exists(path, source, None):
        raise ScenarioError(source, None, "file not found")
    if path.is_dir():
        raise ScenarioError(source, None, "is a folder, not a scenario file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(source, None, "not a UTF-8 text file") from None
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, None, f"TOML syntax: {exc}") from None
    return scenario_from_dict(data, source=source, base_dir=path.parent)


def _exists(path: Path, source: str, field: str | None) -> bool:
    """``path.exists()``, with OS errors (a name too long, no permission) as a ScenarioError."""
    try:
        return path.exists()
    except OSError as exc:
        raise ScenarioError(source, field, f"cannot access {str(path)[:80]}: {exc.strerror or exc}") from None


def default_scenario_path() -> Path:
    """Path of the bundled default scenario (package data)."""
    return Path(str(resources.files("qalamoun_sim") / "scenarios" / "qalamoun_winter_2013.toml"))


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (for editors)."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema.get("properties", {}).pop("source_path", None)
    schema["title"] = "qalamoun-sim scenario"
    return schema


def scenario_hash(scn: Scenario) -> str:
    """A stable SHA-256 of the resolved scenario (used to refuse mismatched resumes)."""
    doc = scn.model_dump(mode="json", by_alias=True)
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
