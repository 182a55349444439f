"""A compiled forest that marks removals in its preorder finds the same paths clear or blocked as a walk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from qalamoun_sim.engine.compiled import SettledForest, settled_forest
from qalamoun_sim.engine.routing import Clearance, Forest, RouteGraph


@hs.composite
def worlds(draw: hs.DrawFn) -> tuple:
    """A network, its roots, and a sequence of removals (routes and roots) interleaved with queries."""
    n = draw(hs.integers(2, 16))
    pairs = draw(hs.lists(hs.tuples(hs.integers(0, n - 1), hs.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                          min_size=1, max_size=40))
    weights = hs.sampled_from([1.0, 2.0, 3.0]) if draw(hs.booleans()) else hs.floats(0.1, 10.0)
    routes = [(a, b, draw(hs.booleans()), draw(weights)) for a, b in pairs]
    roots = sorted(set(draw(hs.lists(hs.integers(0, n - 1), min_size=1, max_size=4))))
    steps = draw(hs.lists(hs.one_of(hs.tuples(hs.just("route"), hs.integers(0, len(routes) - 1)),
                                    hs.tuples(hs.just("root"), hs.sampled_from(roots)),
                                    hs.tuples(hs.just("ask"), hs.integers(0, n - 1))), max_size=30))
    return n, routes, roots, steps


def _graph(n: int, routes: list) -> RouteGraph:
    return RouteGraph(n, [r[0] for r in routes], [r[1] for r in routes], [r[2] for r in routes],
                      [r[3] for r in routes])


@settings(max_examples=300, deadline=None)
@given(worlds(), hs.booleans())
def test_marked_removals_find_what_walks_find(world, memoized) -> None:
    n, routes, roots, steps = world
    graph = _graph(n, routes)
    usable = bytes([1] * len(routes))
    compiled = settled_forest(graph, usable, roots)
    assert isinstance(compiled, SettledForest)
    if memoized:
        compiled.uses = 1  # as if memoized: the next clearance marks removals through it
    plain = Forest(graph, usable, roots, settle_all=True)
    active = bytearray(n)
    for s in roots:
        active[s] = 1
    marked = Clearance(bytearray(usable), bytearray(active), compiled, mark=not memoized)
    walked = Clearance(bytearray(usable), bytearray(active), plain)
    assert marked.forest is compiled and walked.forest is None
    for kind, k in steps + [("ask", v) for v in range(n)]:
        if kind == "route":
            marked.remove_route(k)
            walked.remove_route(k)
        elif kind == "root":
            marked.remove_root(k)
            walked.remove_root(k)
        else:
            assert compiled.clear_path(k, marked) == plain.clear_path(k, walked)


def test_a_fresh_compiled_forest_marks_removals_only_when_asked() -> None:
    graph = _graph(3, [(0, 1, True, 1.0), (1, 2, True, 1.0)])
    usable, active = bytearray([1, 1]), bytearray([1, 0, 0])
    assert Clearance(usable, active, settled_forest(graph, bytes(usable), [0])).forest is None
    fresh = settled_forest(graph, bytes(usable), [0])
    clear = Clearance(usable, active, fresh, mark=True)
    assert clear.forest is fresh
    clear.remove_route(1)
    assert fresh.clear_path(2, clear) == "blocked" and fresh.clear_path(1, clear) == ([0], [0, 1])
    plain = Forest(graph, bytes(usable), [0])
    clear.renew(plain, mark=True)  # a heap-based forest is walked, whatever ``mark`` says
    assert clear.forest is None
