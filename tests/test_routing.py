"""Tests of the shortest-path forests: distances against networkx, settled on demand; clearance of paths."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from qalamoun_sim.engine.compiled import settled_forest
from qalamoun_sim.engine.routing import BLOCKED, Clearance, Forest, RouteGraph

Routes = list[tuple[int, int, bool, float]]


def _graph(n: int, routes: Routes) -> RouteGraph:
    return RouteGraph(n, [r[0] for r in routes], [r[1] for r in routes], [r[2] for r in routes],
                      [r[3] for r in routes])


def _nx_distances(n: int, routes: Routes, usable: bytes | bytearray, roots: list[int]) -> dict[int, float]:
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    for r, (a, b, both, w) in enumerate(routes):
        if usable[r]:
            g.add_edge(a, b, weight=w)
            if both:
                g.add_edge(b, a, weight=w)
    return nx.multi_source_dijkstra_path_length(g, set(roots), weight="weight") if roots else {}


def _check_path(found: tuple[list[int], list[int]], routes: Routes, usable: bytes | bytearray,
                target: int) -> float:
    path_routes, nodes = found
    assert nodes[-1] == target and len(nodes) == len(path_routes) + 1
    for r, a, b in zip(path_routes, nodes[:-1], nodes[1:], strict=True):
        ra, rb, both, _ = routes[r]
        assert usable[r] and ((ra, rb) == (a, b) or (both and (rb, ra) == (a, b)))
    return sum(routes[r][3] for r in path_routes)


@hs.composite
def worlds(draw: hs.DrawFn) -> tuple:
    n = draw(hs.integers(2, 12))
    pairs = draw(hs.lists(hs.tuples(hs.integers(0, n - 1), hs.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                          min_size=1, max_size=30))
    routes = [(a, b, draw(hs.booleans()), draw(hs.floats(0.1, 10.0))) for a, b in pairs]
    roots = sorted(draw(hs.sets(hs.integers(0, n - 1), min_size=1, max_size=3)))
    usable = bytes(draw(hs.booleans()) or draw(hs.booleans()) for _ in routes)
    order = draw(hs.permutations(range(n)))
    removals = draw(hs.lists(hs.tuples(hs.booleans(), hs.integers(0, 10_000)), max_size=10))
    return n, routes, roots, usable, order, removals


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_forest_matches_networkx_whatever_order_nodes_are_asked_in(world) -> None:
    n, routes, roots, usable, order, _ = world
    graph = _graph(n, routes)
    want = _nx_distances(n, routes, usable, roots)
    lazy, full = Forest(graph, usable, roots), Forest(graph, usable, roots, settle_all=True)
    assert full.settled_count == len(want)
    for v in order:  # the lazy forest settles as far as each query needs, in any order
        for f in (lazy, full):
            found = f.path(v)
            if v in want:
                assert f.reaches(v) and f.dist[v] == pytest.approx(want[v], abs=1e-9)
                assert _check_path(found, routes, usable, v) == pytest.approx(want[v], abs=1e-9)
                assert found[1][0] in roots
            else:
                assert found is None and not f.reaches(v) and f.dist[v] == math.inf
    assert lazy.path(order[0]) == full.path(order[0])  # same ties either way


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_clearance_blocks_exactly_the_paths_that_cross_a_removal(world) -> None:
    n, routes, roots, usable, order, removals = world
    graph = _graph(n, routes)
    forest = Forest(graph, usable, roots)
    clear = Clearance(bytearray(usable), bytearray(1 if v in roots else 0 for v in range(n)))
    for is_route, k in [(None, 0)] + removals:
        if is_route is True:
            clear.remove_route(k % len(routes))
        elif is_route is False:
            clear.remove_root(k % n)
        for v in order:
            got = forest.clear_path(v, clear)
            plain = forest.path(v)
            if plain is None:
                assert got is None
            elif all(clear.usable[r] for r in plain[0]) and clear.active[plain[1][0]]:
                assert got == plain
            else:
                assert got is BLOCKED
    # a forest computed afresh from what is left matches networkx
    left = [v for v in range(n) if clear.active[v]]
    fresh = Forest(graph, bytes(clear.usable), left)
    want = _nx_distances(n, routes, clear.usable, left)
    for v in range(n):
        assert (fresh.dist[v] if fresh.reaches(v) else math.inf) == pytest.approx(want.get(v, math.inf), abs=1e-9)


@hs.composite
def tied_worlds(draw: hs.DrawFn) -> tuple:
    """Worlds with few distinct weights (many ties, as on a grid) or any weights."""
    n = draw(hs.integers(1, 14))
    weights = hs.sampled_from([0.5, 1.0, 1.5, 3.0]) if draw(hs.booleans()) else hs.floats(0.01, 10.0)
    pairs = draw(hs.lists(hs.tuples(hs.integers(0, n - 1), hs.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                          max_size=40)) if n > 1 else []
    routes = [(a, b, draw(hs.booleans()), draw(weights)) for a, b in pairs]
    roots = draw(hs.lists(hs.integers(0, n - 1), max_size=4))
    usable = bytes(draw(hs.booleans()) or draw(hs.booleans()) for _ in routes)
    return n, routes, roots, usable


@settings(max_examples=300, deadline=None)
@given(tied_worlds())
def test_compiled_forest_has_the_same_paths_ties_included(world) -> None:
    n, routes, roots, usable = world
    graph = _graph(n, routes)
    plain, compiled = Forest(graph, usable, roots, settle_all=True), settled_forest(graph, usable, roots)
    assert compiled.dist == plain.dist and list(compiled.prev) == plain.prev and list(compiled.via) == plain.via
    assert compiled.root == plain.root
    assert compiled.settled_count == plain.settled_count
    for v in range(n):
        assert compiled.path(v) == plain.path(v)


def test_ties_go_to_the_lower_node_and_parallel_routes_to_the_faster() -> None:
    # two parallel routes 0-1, the second faster; 0-2-3 and 0-1-3 tie, and 1 < 2
    graph = RouteGraph(4, [0, 0, 0, 1, 2], [1, 1, 2, 3, 3], [True] * 5, [2.0, 1.0, 1.0, 1.0, 1.0])
    f = Forest(graph, bytes([1] * 5), [0])
    assert f.path(1) == ([1], [0, 1]) and f.path(3) == ([1, 3], [0, 1, 3])
    g = Forest(graph, bytes([1, 0, 1, 1, 1]), [0])
    assert g.path(3) == ([2, 4], [0, 2, 3]) and g.path(1) == ([0], [0, 1])
    for usable in (bytes([1] * 5), bytes([1, 0, 1, 1, 1])):  # the compiled search breaks them alike
        assert settled_forest(graph, usable, [0]).path(3) == Forest(graph, usable, [0]).path(3)


def test_lazy_forest_settles_only_what_queries_reach() -> None:
    # a line 0 - 1 - ... - 99
    graph = RouteGraph(100, list(range(99)), list(range(1, 100)), [True] * 99, [1.0] * 99)
    f = Forest(graph, bytes([1] * 99), [0])
    assert f.path(3) == ([0, 1, 2], [0, 1, 2, 3]) and f.settled_count == 4
    assert f.reaches(50) and f.settled_count == 51


def test_path_search_memoizes_forests_and_trees_per_network_state() -> None:
    from qalamoun_sim.engine.paths import PathSearch

    ps = PathSearch(RouteGraph(3, [0, 1], [1, 2], [True, True], [1.0, 1.0]), [0, 2])
    usable = bytes([1, 1])
    first = ps.forest(usable, bytes([1, 0, 0]))
    assert ps.forest(usable, bytes([1, 0, 0])) is first and ps.patterns == 1
    assert first.path(2) == ([0, 1], [0, 1, 2])
    later = ps.forest(usable, bytes([1, 0, 0]), first=False)  # later rounds are kept apart
    assert later is not first and ps.patterns == 1 and ps.built == 2
    other = ps.forest(usable, bytes([0, 0, 1]))
    assert other.path(0) == ([1, 0], [2, 1, 0]) and ps.patterns == 2
    tree = ps.tree(1, usable, bytes(3))
    assert ps.tree(1, usable, bytes(3)) is tree
    blocked = ps.tree(1, usable, bytes([1, 0, 0]))  # another network state: another tree
    assert blocked is not tree and ps.built == 5
    assert ps.settled == sum(f.settled_count for f in (first, later, other, tree, blocked)) == 3 + 0 + 3
