"""``validate`` and ``schema``: check a scenario file; print the JSON Schema of scenario files."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Command, load

__all__ = ["register", "cmd_validate", "cmd_schema"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``validate`` and ``schema``."""
    val = sub.add_parser("validate", help="check a scenario file and print a one-line summary",
                         description="Check a scenario file and the files it references (replay CSV, GraphML); "
                                     "print a one-line summary, or one line naming the file and field at fault "
                                     "(exit status 2).")
    val.add_argument("scenario", help="scenario TOML to check")

    sub.add_parser("schema", help="print the JSON Schema of scenario files",
                   description="Print the JSON Schema of scenario files on stdout (for editors: e.g. Taplo or "
                               "VS Code's Even Better TOML). Takes no arguments.")
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
