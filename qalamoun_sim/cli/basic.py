"""``validate`` and ``schema``: check a scenario file; print the JSON Schema of scenario files."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Command, load

__all__ = ["register", "cmd_validate", "cmd_schema"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``validate`` and ``schema``."""
    val = sub.add_parser("validate", help="check a scenario file and print a one-line summary")
    val.add_argument("scenario")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    return {"validate": cmd_validate, "schema": cmd_schema}


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate``: one line summary of a good scenario."""
    from ..network.routes import RouteNetwork

    scn = load(args.scenario)
    net = RouteNetwork.from_scenario(scn)
    corr = ", ".join(net.corridors()) or "none"
    print(f"{scn.source_path}: ok: '{scn.scenario.name}', {len(scn.nodes)} nodes, {len(scn.routes)} routes, "
          f"corridors {corr}, {scn.scenario.days} days from {scn.scenario.start}, "
          f"interdiction {'on' if scn.interdiction else 'off'}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """``schema``: the JSON Schema of scenario files."""
    from ..scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0
