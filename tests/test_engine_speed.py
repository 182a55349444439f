"""The engine's fast paths give the same replication as its plain ones (issue 20).

A switch the engine makes by size (compiled path search) is forced both ways on small synthetic
networks, and every table must come out the same; searches that share what they learn must find
what separate searches find.
"""

from __future__ import annotations

import faulthandler
from collections.abc import Iterator
from types import SimpleNamespace

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from qalamoun_sim.engine import dispatch as dispatch_mod
from qalamoun_sim.engine import paths as paths_mod
from qalamoun_sim.engine import simulate_replication
from qalamoun_sim.engine.dispatch import Dispatcher
from qalamoun_sim.engine.results import TABLES
from qalamoun_sim.engine.routing import RouteGraph
from qalamoun_sim.scenario.synthetic import synthetic_scenario


def _policy(scn, policy: str):
    return scn.model_copy(update={"engine": scn.engine.model_copy(update={"closed_route_policy": policy})})


def _same_runs(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.event_count == b.event_count
    work = {"path_trees", "settled_nodes"}  # what the searches cost, not what they found
    assert {k: v for k, v in a.meta.items() if k not in work} == {k: v for k, v in b.meta.items() if k not in work}


@pytest.mark.parametrize("policy", ["reroute", "wait", "turn_back"])
def test_compiled_forests_give_the_same_replication(monkeypatch, policy) -> None:
    scn = _policy(synthetic_scenario(112, seed=3, days=40, sources=3), policy)
    monkeypatch.setattr(paths_mod, "COMPILED_MIN_NODES", 10**9)
    plain = simulate_replication(scn, 0)
    monkeypatch.setattr(paths_mod, "COMPILED_MIN_NODES", 1)
    compiled = simulate_replication(scn, 0)
    _same_runs(plain, compiled)


@pytest.fixture
def hang_fails() -> Iterator[None]:
    """A test that runs past two minutes (a loop that never ends, e.g. a broken cut-off walk) ends the test
    process with every thread's traceback, rather than hanging the suite."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("policy", ["reroute", "turn_back"])
def test_rounds_marking_removals_give_the_same_replication(monkeypatch, policy, hang_fails) -> None:
    """Compiled forests of every round marking removals through their preorder, or none of them."""
    scn = _policy(synthetic_scenario(112, seed=3, days=40, sources=3), policy)
    monkeypatch.setattr(paths_mod, "COMPILED_MIN_NODES", 1)
    monkeypatch.setattr(dispatch_mod, "MARK_MIN_TOWNS", 10**9)
    walked = simulate_replication(scn, 0)
    monkeypatch.setattr(dispatch_mod, "MARK_MIN_TOWNS", 0)
    marked = simulate_replication(scn, 0)
    assert marked.meta["rounds"] > 0  # later rounds were marked
    _same_runs(walked, marked)
    assert walked.meta == marked.meta


@hs.composite
def reach_worlds(draw: hs.DrawFn) -> tuple:
    n = draw(hs.integers(1, 16))
    pairs = draw(hs.lists(hs.tuples(hs.integers(0, n - 1), hs.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                          max_size=40)) if n > 1 else []
    both = [draw(hs.booleans()) for _ in pairs]
    usable = bytearray(draw(hs.booleans()) for _ in pairs)
    town_of_node = [draw(hs.sampled_from([-1, -1, 0])) for _ in range(n)]
    town_of_node = [t if t < 0 else i for i, t in enumerate(town_of_node)]  # town i at node i, where any
    wanted = [draw(hs.booleans()) for _ in range(n)]
    sources = draw(hs.permutations(range(n)))
    return n, pairs, both, usable, town_of_node, wanted, sources


@settings(max_examples=300, deadline=None)
@given(reach_worlds())
def test_shared_reachability_searches_find_what_one_search_per_source_finds(world) -> None:
    n, pairs, both, usable, town_of_node, wanted, sources = world
    graph = RouteGraph(n, [a for a, _ in pairs], [b for _, b in pairs], both, [1.0] * len(pairs))
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for r, (a, b) in enumerate(pairs):
        if usable[r]:
            g.add_edge(a, b)
            if both[r]:
                g.add_edge(b, a)
    goals = {v for v in range(n) if town_of_node[v] >= 0 and wanted[town_of_node[v]]}
    disp = Dispatcher.__new__(Dispatcher)  # only what the search reads
    disp._towns = SimpleNamespace(wanted=wanted)
    disp._town_of_node = town_of_node
    disp._graph_out = graph.out
    known = bytearray(n)  # shared by the searches of one call, in any order of the sources
    for s in sources:
        assert disp._reaches_a_town(s, usable, known) == any(nx.has_path(g, s, t) for t in goals)
