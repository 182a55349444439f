"""Tests of the shortest-path forests: distances against networkx, before and after repairs."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from qalamoun_sim.routing import Forest, RouteGraph


def _nx_distances(n: int, routes: list[tuple[int, int, bool, float]], usable: bytearray,
                  roots: list[int]) -> dict[int, float]:
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    for r, (a, b, both, w) in enumerate(routes):
        if usable[r]:
            g.add_edge(a, b, weight=w)
            if both:
                g.add_edge(b, a, weight=w)
    if not roots:
        return {}
    return nx.multi_source_dijkstra_path_length(g, set(roots), weight="weight")


def _check(forest: Forest, routes: list[tuple[int, int, bool, float]], n: int, roots: list[int]) -> None:
    want = _nx_distances(n, routes, forest.usable, roots)
    for v in range(n):
        if v in want:
            assert forest.dist[v] == pytest.approx(want[v], abs=1e-9)
            found = forest.path(v)
            assert found is not None
            path_routes, nodes = found
            assert nodes[0] in roots and nodes[-1] == v and forest.root[v] == nodes[0]
            assert sum(routes[r][3] for r in path_routes) == pytest.approx(want[v], abs=1e-9)
            for r, a, b in zip(path_routes, nodes[:-1], nodes[1:], strict=True):
                ra, rb, both, _ = routes[r]
                assert forest.usable[r] and ((ra, rb) == (a, b) or (both and (rb, ra) == (a, b)))
        else:
            assert forest.dist[v] == math.inf and forest.path(v) is None and not forest.reaches(v)


@hs.composite
def worlds(draw: hs.DrawFn) -> tuple:
    n = draw(hs.integers(2, 12))
    routes = [(a, b, draw(hs.booleans()), draw(hs.floats(0.1, 10.0)))
              for a, b in draw(hs.lists(hs.tuples(hs.integers(0, n - 1), hs.integers(0, n - 1))
                                        .filter(lambda p: p[0] != p[1]), min_size=1, max_size=30))]
    roots = sorted(draw(hs.sets(hs.integers(0, n - 1), min_size=1, max_size=3)))
    usable = bytearray(draw(hs.booleans()) or draw(hs.booleans()) for _ in routes)
    removals = draw(hs.lists(hs.tuples(hs.booleans(), hs.integers(0, max(len(routes), n) - 1)), max_size=12))
    batches = draw(hs.integers(1, 3))
    return n, routes, roots, usable, removals, batches


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_forest_matches_networkx_before_and_after_repairs(world) -> None:
    n, routes, roots, usable, removals, batches = world
    graph = RouteGraph(n, [r[0] for r in routes], [r[1] for r in routes], [r[2] for r in routes],
                       [r[3] for r in routes])
    forest = Forest(graph, bytearray(usable), roots)
    _check(forest, routes, n, roots)
    copy = forest.copy(bytearray(forest.usable))
    active = list(roots)
    step = max(1, len(removals) // batches)
    for i, (is_route, k) in enumerate(removals):
        if is_route:
            forest.hide(k % len(routes))
        else:
            forest.drop_root(k % n)
            if k % n in active:
                active.remove(k % n)
        # a path that crosses a removal is void until the repair
        for v in range(n):
            found = forest.path(v)
            if found is not None:
                assert all(forest.usable[r] for r in found[0]) and found[1][0] in active
        if (i + 1) % step == 0 or i == len(removals) - 1:
            forest.repair()
            _check(forest, routes, n, active)
    # the copy kept the state it had
    _check(copy, routes, n, roots)


def test_ties_and_parallel_routes() -> None:
    # two parallel routes 0-1, the second faster; a tie 0-2-3 vs 0-1-3 goes to the lower node (1)
    graph = RouteGraph(4, [0, 0, 0, 1, 2], [1, 1, 2, 3, 3], [True] * 5, [2.0, 1.0, 1.0, 1.0, 1.0])
    f = Forest(graph, bytearray([1] * 5), [0])
    assert f.path(1) == ([1], [0, 1])
    assert f.path(3) == ([1, 3], [0, 1, 3])
    f.hide(1)
    f.repair()
    assert f.path(3) == ([2, 4], [0, 2, 3]) and f.dist[1] == 2.0 and f.path(1) == ([0], [0, 1])


def test_copy_refuses_pending_removals() -> None:
    graph = RouteGraph(2, [0], [1], [True], [1.0])
    f = Forest(graph, bytearray([1]), [0])
    f.hide(0)
    with pytest.raises(RuntimeError, match="pending"):
        f.copy(bytearray([1]))
    f.repair()
    assert f.copy(bytearray([0])).path(1) is None
