"""Checks of a scenario beyond its fields: cross references, reachable towns, referenced files.

They read the validated models by attribute only, so they need nothing but plain data.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from ..errors import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from .schema import Node, Route, Scenario

__all__ = ["check_references", "warn_unreachable", "unreachable_towns", "path_exists", "UnreachableTownWarning"]


class UnreachableTownWarning(UserWarning):
    """A town that no source can reach over the nominal network."""


def unreachable_towns(nodes: Iterable[Node], routes: Iterable[Route]) -> list[str]:
    """Towns that no source reaches over the nominal network (a two-way route runs both ways)."""
    nodes = list(nodes)
    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in nodes)
    for r in routes:
        g.add_edge(r.from_, r.to)
        if r.bidirectional:
            g.add_edge(r.to, r.from_)
    reach: set[str] = set()
    for n in nodes:
        if n.kind == "source":
            reach |= nx.descendants(g, n.id) | {n.id}
    return [n.id for n in nodes if n.kind == "town" and n.id not in reach]


# --------------------------------------------------------------------------- cross references
def check_references(scn: Scenario, source: str) -> None:
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


def warn_unreachable(scn: Scenario, source: str) -> None:
    lost = unreachable_towns(scn.nodes, scn.routes)
    if lost:
        warnings.warn(f"{source}: towns not reachable from any source: {', '.join(lost)}",
                      UnreachableTownWarning, stacklevel=3)


def path_exists(path: Path, source: str, field: str | None) -> bool:
    """``path.exists()``, with OS errors (a name too long, no permission) as a ScenarioError."""
    try:
        return path.exists()
    except OSError as exc:
        raise ScenarioError(source, field, f"cannot access {str(path)[:80]}: {exc.strerror or exc}") from None
