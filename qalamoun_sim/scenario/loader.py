"""Scenario files: the schema of :mod:`qalamoun_sim.scenario.schema` loaded from TOML (or a dict), with clear errors.

Only ``[scenario]``, ``[[nodes]]`` and ``[[routes]]`` are required; every other section
has defaults from the sources of ``docs/background.md`` (each default says where it comes from).
Every problem becomes a :class:`~qalamoun_sim.errors.ScenarioError` naming the file and
the field path, e.g. ``scenarios/x.toml: routes[3].length_km: must be > 0``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError
from .checks import path_exists
from .messages import first_error
from .schema import Scenario
from .schema_network import NetworkSource

__all__ = ["load_scenario", "scenario_from_dict", "default_scenario_path", "scenario_json_schema", "scenario_hash",
           "MAX_SCENARIO_BYTES"]

#: Larger scenario files are refused unread (a 100,000-route network is about 20 MB of TOML).
MAX_SCENARIO_BYTES = 256 * 2**20


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
    if isinstance(net, dict) and "graphml" in net:
        network = _network_section(net, source)
        if data.get("nodes") or data.get("routes"):
            raise ScenarioError(source, "network.graphml", "a scenario gives its network as [[nodes]] and [[routes]] "
                                "or as a GraphML file, not both (give GraphML nodes their roles in [[network.roles]])")
        data.update(_graph_document(network, base, source))
        try:
            return Scenario.from_document(data, source, base)
        except ScenarioError as exc:
            raise _in_graphml(exc, data, network.graphml) from None
    return Scenario.from_document(data, source, base)


def _network_section(net: dict[str, Any], source: str) -> NetworkSource:
    """The ``[network]`` section validated on its own (before its file is read), errors under ``network.``."""
    try:
        return NetworkSource.model_validate(net)
    except ValidationError as exc:
        field, message = first_error(exc)
        named = re.match(r"([\w\[\]]+(?:\.[\w\[\]]+)+): (.*)", message) if not field else None
        if named:  # the section's own check names a nested field: "roles[1].node: ..."
            field, message = named.groups()
        raise ScenarioError(source, f"network.{field}" if field else "network", message) from None


def _in_graphml(exc: ScenarioError, data: dict[str, Any], graphml: str) -> ScenarioError:
    """An error in a node or route read from GraphML, naming the GraphML element it came from."""
    field = exc.field or ""
    for section, element in (("nodes", "node"), ("routes", "edge")):
        if field.startswith(f"{section}["):
            try:
                item = data[section][int(field[len(section) + 1:].split("]", 1)[0])]
                ident = item.get("id") if isinstance(item, dict) else None
            except (ValueError, IndexError, KeyError, TypeError):
                ident = None
            if ident is not None:
                return ScenarioError(exc.source, exc.field, f"{exc.message} (GraphML {element} '{ident}' of {graphml})")
    return exc


def _graph_document(network: NetworkSource, base: Path | None, source: str) -> dict[str, Any]:
    path = Path(network.graphml)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path_exists(path, source, "network.graphml"):
        raise ScenarioError(source, "network.graphml", f"file not found: {path}")
    from .graphml import GraphMLError, graphml_to_document  # only for a scenario that gives its network so

    try:
        return graphml_to_document(path, network, network.graphml)
    except GraphMLError as exc:
        raise ScenarioError(source, exc.field, exc.message) from None
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
    if not path_exists(path, source, None):
        raise ScenarioError(source, None, "file not found")
    if path.is_dir():
        raise ScenarioError(source, None, "is a folder, not a scenario file")
    text = _read_text(path, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, None, f"TOML syntax: {exc}") from None
    except RecursionError:
        raise ScenarioError(source, None, "TOML nested too deeply") from None
    try:
        return scenario_from_dict(data, source=source, base_dir=path.parent)
    except RecursionError:
        raise ScenarioError(source, None, "nested too deeply") from None


def _read_text(path: Path, source: str) -> str:
    """A scenario file's text: at most :data:`MAX_SCENARIO_BYTES` of UTF-8 (``/dev/zero`` is refused, not read)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(2**16)
            if b"\0" not in data:
                data += fh.read(MAX_SCENARIO_BYTES + 1 - len(data))
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(source, None, f"larger than {MAX_SCENARIO_BYTES // 2**20} MiB: not a scenario file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(source, None, "not a UTF-8 text file") from None
    if "\0" in text:
        raise ScenarioError(source, None, "a binary file, not a scenario file")
    return text


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
