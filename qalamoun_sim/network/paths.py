"""A corridor's end-to-end supply routes: sequences of its routes from a source to a town.

The article's "supply routes" run from Arsal to a town. A supply route here is a sequence of the
corridor's own routes (legs) from one of its sources to a town the side still holds, through places
that are neither a town nor a source, each place once: a route ends where it first reaches a town.
Parallel routes make distinct supply routes (a track and a trail between the same places are two
ways). Which legs a side may use follows the one side rule (:mod:`qalamoun_sim.network.sides`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .routes import RouteNetwork

__all__ = ["supply_paths", "path_incidence", "MAX_PATHS"]

#: Most supply routes enumerated for one corridor; beyond, the paths share is refused (a ValueError).
MAX_PATHS = 20_000


def supply_paths(network: RouteNetwork, corridor: str, side: str = "militant",
                 held: frozenset[str] = frozenset(), max_paths: int = MAX_PATHS) -> list[tuple[int, ...]]:
    """Every supply route of ``corridor`` as a tuple of route indices, source first.

    Parameters
    ----------
    network : RouteNetwork
    corridor : str
        Routes labelled with it are the legs; its sources (:meth:`RouteNetwork.corridor_sources`) the starts.
    side : str
        Whose supply routes: the legs and places it may use, the towns it holds.
    held : frozenset of str
        Places the other side has taken since the start: neither a way nor a destination.
    max_paths : int
        More supply routes than this is a ValueError (the enumeration grows with the network).

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> from qalamoun_sim.network import RouteNetwork
    >>> net = RouteNetwork.from_scenario(load_scenario())
    >>> len(supply_paths(net, "arsal")) > len(supply_paths(net, "arsal", held=frozenset({"qara"})))
    True
    """
    legs = set(np.flatnonzero(network.corridor_mask(corridor)).tolist())
    out: dict[str, list[tuple[str, int]]] = {}
    for u, v, i, _ in network.side_arcs(side, held):
        if i in legs:
            out.setdefault(u, []).append((v, i))
    towns = {t for t in network.nodes_of_kind("town", side) if t not in held}
    sources = [s for s in network.corridor_sources(corridor) if s not in held]
    stops = towns | set(network.nodes_of_kind("source"))
    found: dict[tuple[int, ...], None] = {}
    for s in sources:
        _walk(s, out, towns, stops, found, max_paths, corridor)
    return list(found)


def _walk(source: str, out: dict[str, list[tuple[str, int]]], towns: set[str], stops: set[str],
          found: dict[tuple[int, ...], None], max_paths: int, corridor: str) -> None:
    """Depth-first from ``source``: record each way to a town, never through a town or a source."""
    stack: list[tuple[str, tuple[int, ...], frozenset[str]]] = [(source, (), frozenset({source}))]
    while stack:
        node, legs, seen = stack.pop()
        for nxt, route in reversed(out.get(node, [])):
            if nxt in seen:
                continue
            if nxt in towns:
                found[legs + (route,)] = None
                if len(found) > max_paths:
                    raise ValueError(f"corridor '{corridor}': more than {max_paths} supply routes to enumerate")
            elif nxt not in stops:
                stack.append((nxt, legs + (route,), seen | {nxt}))


def path_incidence(paths: list[tuple[int, ...]], columns: np.ndarray) -> np.ndarray:
    """(P, C) 0/1 matrix: supply route ``p`` uses the route in column ``c`` (``columns``: route indices).

    >>> path_incidence([(3,), (1, 3)], np.array([1, 3])).tolist()
    [[0.0, 1.0], [1.0, 1.0]]
    """
    position = {int(r): c for c, r in enumerate(columns)}
    inc = np.zeros((len(paths), len(columns)))
    for p, legs in enumerate(paths):
        inc[p, [position[r] for r in legs]] = 1.0
    return inc
