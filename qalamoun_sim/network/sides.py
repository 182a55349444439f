"""Who may use what: the one rule for routes and places held by a side (docs/background.md s.8).

A side uses a route unless the route or either of its ends is held by the other side; neutral
routes and places serve both. The flow metrics, the corridor cuts, the engine's usable routes,
the strike targets and the criticality ranking all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["enemy_of", "usable_by", "side_arcs"]


def enemy_of(side: str) -> str:
    """The side that denies ``side`` its routes: the army for the militants and the other way round.

    >>> enemy_of("militant")
    'army'
    """
    return "army" if side == "militant" else "militant"


def usable_by(side: str, *holders: str) -> bool:
    """Whether ``side`` may use something whose holders (a route's side, its ends' sides) are ``holders``.

    >>> usable_by("militant", "neutral", "militant", "army")
    False
    """
    return enemy_of(side) not in holders


def side_arcs(arcs: Iterable[tuple[str, str, dict[str, Any]]], node_side: Mapping[str, str],
              route_side: Any, side: str) -> Iterator[tuple[str, str, int, float]]:
    """The arcs ``(u, v, data)`` of a route graph that ``side`` may use, as ``(u, v, route index, capacity)``.

    ``data`` carries the route's ``index`` and nominal ``capacity``; ``route_side[index]`` is who holds it.
    """
    enemy = enemy_of(side)
    for u, v, data in arcs:
        i = data["index"]
        if route_side[i] != enemy and node_side[u] != enemy and node_side[v] != enemy:
            yield u, v, i, data["capacity"]
