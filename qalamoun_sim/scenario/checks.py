"""Checks of a scenario beyond its fields: cross references, reachable towns, referenced files.

They read the validated models by attribute only, so they need nothing but plain data.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Container, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from .schema import Node, Route, Scenario

__all__ = ["check_references", "warn_unreachable", "unreachable_towns", "path_exists", "UnreachableTownWarning",
           "check_sizes", "MAX_CONVOYS_PER_DAY"]

#: Convoys the sources may dispatch in a day, all together: beyond it a replication would run for days.
MAX_CONVOYS_PER_DAY = 100_000


class UnreachableTownWarning(UserWarning):
    """A town that no source can reach over the nominal network."""


def unreachable_towns(nodes: Iterable[Node], routes: Iterable[Route]) -> list[str]:
    """Towns that no source reaches over the nominal network (a two-way route runs both ways).

    One search from every source at once, over plain adjacency lists (a 4,000-route scenario is checked on
    each load).

    >>> from qalamoun_sim.scenario import Node, Route
    >>> nodes = [Node(id=i, kind=k, elevation_m=0, lat=0, lon=0) for i, k in (("s", "source"), ("a", "town"),
    ...                                                                       ("b", "town"))]
    >>> unreachable_towns(nodes, [Route(id="r", to="s", surface="road", length_km=1, capacity_tpd=1,
    ...                                 bidirectional=False, **{"from": "a"})])
    ['a', 'b']
    """
    nodes = list(nodes)
    ways: dict[str, list[str]] = {n.id: [] for n in nodes}
    for r in routes:
        ways.setdefault(r.from_, []).append(r.to)
        if r.bidirectional:
            ways.setdefault(r.to, []).append(r.from_)
    reach = {n.id for n in nodes if n.kind == "source"}
    stack = list(reach)
    while stack:
        for v in ways.get(stack.pop(), ()):
            if v not in reach:
                reach.add(v)
                stack.append(v)
    return [n.id for n in nodes if n.kind == "town" and n.id not in reach]


# --------------------------------------------------------------------------- cross references
def check_references(scn: Scenario, source: str) -> None:
    """Every id unique, every reference to a node, town or route known, the claim window in order.

    Raises
    ------
    ScenarioError
        At the first problem, naming ``source`` and the field path (with the closest known name).
    """
    if not scn.nodes:
        raise ScenarioError(source, "nodes", "at least one node is required (or [network] graphml)")
    if not scn.routes:
        raise ScenarioError(source, "routes", "at least one route is required (or [network] graphml)")
    ids = _unique_ids([n.id for n in scn.nodes], "nodes", source)
    rids = _unique_ids([r.id for r in scn.routes], "routes", source)
    known = _Known(source, sorted(ids))
    for i, r in enumerate(scn.routes):
        known.node(f"routes[{i}].from", r.from_, ids)
        known.node(f"routes[{i}].to", r.to, ids)
        if r.from_ == r.to:
            raise ScenarioError(source, f"routes[{i}].to", "a route must join two different nodes")
    if not any(n.kind == "source" for n in scn.nodes):
        raise ScenarioError(source, "nodes", "no node of kind 'source'")
    if scn.interdiction is not None:
        _check_interdiction(scn, known, set(ids), set(rids))
    _check_claim_window(scn, source)
    check_sizes(scn, source)


def check_sizes(scn: Scenario, source: str) -> None:
    """Refuse a scenario whose convoys would be too many to simulate (tiny convoys from large supply).

    Raises
    ------
    ScenarioError
        Naming ``engine.convoy_t``, with the convoys a day it would make.
    """
    supply = sum(n.supply_tpd for n in scn.nodes if n.kind == "source")
    per_day = supply / scn.engine.convoy_t
    if per_day > MAX_CONVOYS_PER_DAY:
        raise ScenarioError(source, "engine.convoy_t",
                            f"convoys of {scn.engine.convoy_t:g} t carry {supply:g} t/day of supply in "
                            f"{per_day:.3g} convoys a day (at most {MAX_CONVOYS_PER_DAY:,}): use larger convoys")


def _unique_ids(ids: list[str], section: str, source: str) -> dict[str, int]:
    """Position of each id; a duplicate is an error naming both places."""
    seen: dict[str, int] = {}
    for i, x in enumerate(ids):
        if x in seen:
            raise ScenarioError(source, f"{section}[{i}].id", f"duplicate id '{x}' (also {section}[{seen[x]}])")
        seen[x] = i
    return seen


class _Known:
    """Checks that a reference names a known node (or town), suggesting the closest node id if not."""

    def __init__(self, source: str, names: list[str]) -> None:
        self.source, self.names = source, names

    def node(self, path: str, ref: str, known: Container[str], what: str = "node") -> None:
        if ref not in known:
            close = difflib.get_close_matches(ref, self.names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(self.source, path, f"unknown {what} '{ref}'{hint}")


def _check_interdiction(scn: Scenario, known: _Known, ids: set[str], rids: set[str]) -> None:
    itd = scn.interdiction
    assert itd is not None
    for i, a in enumerate(itd.assets):
        known.node(f"interdiction.assets[{i}].base", a.base, ids)
        if a.targeting == "optimal" and not any(r.corridor == scn.claim.corridor for r in scn.routes):
            raise ScenarioError(known.source, f"interdiction.assets[{i}].targeting",
                                f"'optimal' strikes the claim corridor's routes, and no route is labelled "
                                f"'{scn.claim.corridor}'")
    towns = {n.id for n in scn.nodes if n.kind == "town"}
    for i, c in enumerate(itd.checkpoints):
        known.node(f"interdiction.checkpoints[{i}].town", c.town, towns, "town")
    for i, cap in enumerate(itd.captures):
        known.node(f"interdiction.captures[{i}].town", cap.town, towns, "town")
    for i, rid in enumerate(itd.siege_lines):
        if rid not in rids:
            raise ScenarioError(known.source, f"interdiction.siege_lines[{i}]", f"unknown route '{rid}'")


def _check_claim_window(scn: Scenario, source: str) -> None:
    try:
        ws, we = scn.claim_window()
    except (ValueError, OverflowError):
        raise ScenarioError(source, "claim.window_start", "the claim window would pass year 9999") from None
    if we < ws:
        raise ScenarioError(source, "claim.window_end", "must not be before window_start")


def warn_unreachable(scn: Scenario, source: str) -> None:
    """Warn (:class:`UnreachableTownWarning`) when some town cannot be reached from any source."""
    lost = unreachable_towns(scn.nodes, scn.routes)
    if lost:
        warnings.warn(f"{source}: towns not reachable from any source: {', '.join(lost)}",
                      UnreachableTownWarning, stacklevel=4)  # the caller of scenario_from_dict


def path_exists(path: Path, source: str, field: str | None) -> bool:
    """``path.exists()``, with OS errors (a name too long, no permission) as a ScenarioError."""
    try:
        return path.exists()
    except OSError as exc:
        raise ScenarioError(source, field, f"cannot access {str(path)[:80]}: {exc.strerror or exc}") from None
