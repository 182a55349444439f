"""The corridor's max flow as a minimum over pinned cuts equals a max flow solved pattern by pattern.

On the three-route network of the metric tests (``conftest.three_route_network``: corridor routes a:
src->town 40 t/d, b: src->mid 20 t/d, x: mid->town 10 t/d) the max flow is ``40 f_a + min(20 f_b, 10 f_x)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import node, route, three_route_network
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import qalamoun_sim.network.cuts as cuts_module
from qalamoun_sim import RouteNetwork, load_scenario, scenario_from_dict
from qalamoun_sim.analysis.metrics import connectivity_cut_share
from qalamoun_sim.network.cuts import CorridorCuts
from qalamoun_sim.scenario import UnreachableTownWarning
from qalamoun_sim.scenario.synthetic import synthetic_scenario


@pytest.fixture(scope="module")
def small() -> RouteNetwork:
    return three_route_network()


@pytest.fixture(scope="module")
def default_net() -> RouteNetwork:
    return RouteNetwork.from_scenario(load_scenario())


def per_pattern(net: RouteNetwork, corridor: str, patterns: np.ndarray) -> np.ndarray:
    """Max flow solved by Edmonds-Karp for each pattern, the rest of the network nominal."""
    mask = net.corridor_mask(corridor)
    full = np.ones((len(patterns), net.n_routes))
    full[:, mask] = patterns
    return np.array([net.max_flow(corridor, f) for f in full])


def test_the_small_network_by_hand(small: RouteNetwork) -> None:
    cuts = small.corridor_cuts("c")
    assert isinstance(cuts, CorridorCuts)
    assert cuts.free_nodes == ["mid"]
    assert cuts.n_routes == 3
    f = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.5, 0.0], [1.0, 0.25, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(cuts.max_flow(f), 40 * f[:, 0] + np.minimum(20 * f[:, 1], 10 * f[:, 2]))


@settings(max_examples=60, deadline=None)
@given(arrays(float, (3,), elements=st.floats(0.0, 1.0)))
def test_the_small_network_on_any_factors(small: RouteNetwork, f: np.ndarray) -> None:
    got = float(small.corridor_cuts("c").max_flow(f))  # type: ignore[union-attr]
    assert got == pytest.approx(40 * f[0] + min(20 * f[1], 10 * f[2]), abs=1e-9)


def test_the_default_corridor_matches_edmonds_karp_on_every_kind_of_pattern(default_net: RouteNetwork) -> None:
    cuts = default_net.corridor_cuts("arsal")
    assert cuts is not None and len(cuts.free_nodes) == 6
    rng = np.random.default_rng(3)
    m = cuts.n_routes
    patterns = np.vstack([rng.choice([0.0, 0.5, 1.0], size=(300, m)), rng.random((100, m)),
                          np.zeros((1, m)), np.ones((1, m))])
    np.testing.assert_allclose(cuts.max_flow(patterns), per_pattern(default_net, "arsal", patterns), atol=1e-9)
    assert float(cuts.max_flow(np.ones(m))) == default_net.max_flow("arsal")


def test_a_synthetic_corridor_matches_edmonds_karp() -> None:
    net = RouteNetwork.from_scenario(synthetic_scenario(300, seed=4))
    cuts = net.corridor_cuts("main")
    if cuts is None:
        pytest.skip("too many end nodes to enumerate on this grid")
    rng = np.random.default_rng(4)
    patterns = rng.choice([0.0, 0.5, 1.0], size=(150, cuts.n_routes))
    np.testing.assert_allclose(cuts.max_flow(patterns), per_pattern(net, "main", patterns), atol=1e-9)


def test_leading_axes_are_kept_and_bad_shapes_refused(default_net: RouteNetwork) -> None:
    cuts = default_net.corridor_cuts("arsal")
    assert cuts is not None
    f = np.ones((2, 5, cuts.n_routes))
    assert cuts.max_flow(f).shape == (2, 5)
    with pytest.raises(ValueError, match="corridor factors"):
        cuts.max_flow(np.ones(cuts.n_routes + 1))


def test_no_kept_cut_is_beaten_by_another(default_net: RouteNetwork) -> None:
    cuts = default_net.corridor_cuts("arsal")
    assert cuts is not None
    assert 1 <= cuts.n_cuts <= 2 ** len(cuts.free_nodes)
    for i in range(cuts.n_cuts):
        for j in range(cuts.n_cuts):
            if i != j:
                assert not ((cuts.a[j] <= cuts.a[i]).all() and cuts.b[j] <= cuts.b[i])


def test_too_many_end_nodes_falls_back_to_one_max_flow_per_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    scn = load_scenario()
    with_cuts = RouteNetwork.from_scenario(scn)
    monkeypatch.setattr(cuts_module, "MAX_FREE_NODES", 2)
    without = RouteNetwork.from_scenario(scn)
    assert without.corridor_cuts("arsal") is None
    rng = np.random.default_rng(5)
    factors = rng.choice([0.0, 0.5, 1.0], size=(3, 20, with_cuts.n_routes))
    np.testing.assert_allclose(connectivity_cut_share(without, factors, "arsal"),
                               connectivity_cut_share(with_cuts, factors, "arsal"), atol=1e-12)


def test_a_corridor_without_sources_has_no_flow() -> None:
    with pytest.warns(UnreachableTownWarning):  # the town is unreachable on purpose
        scn = scenario_from_dict({
            "scenario": {"name": "no source", "start": "2013-12-01", "days": 2},
            "nodes": [node("src", "source", corridor="other"), node("mid"), node("town", "town")],
            "routes": [route("b", "mid", "town", corridor="c")],
        })
    cuts = RouteNetwork.from_scenario(scn).corridor_cuts("c")
    assert isinstance(cuts, CorridorCuts)
    assert cuts.max_flow(np.array([[1.0], [0.5]])).tolist() == [0.0, 0.0]


def _both_ways(arcs: list[tuple[str, str, int, float]], routes: np.ndarray,
               sources: list[str], sinks: list[str]) -> tuple[CorridorCuts, CorridorCuts]:
    """The cuts by listing every cut, then by one max flow per assignment (listing turned off)."""
    listed = CorridorCuts(arcs, routes, sources, sinks)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cuts_module, "MAX_LISTED_CELLS", -1)
        flows = CorridorCuts(arcs, routes, sources, sinks)
    return listed, flows


def test_listing_every_cut_gives_the_max_flows_cuts_bit_for_bit(default_net: RouteNetwork) -> None:
    scn = load_scenario()
    towns = default_net.militant_towns()
    for held in ([], towns[:1], towns[:3], towns[:-1]):  # the claim's phases: towns taken one by one
        sinks = [t for t in towns if t not in held]
        listed, flows = _both_ways(default_net.side_arcs(held=frozenset(held)),
                                   np.flatnonzero(default_net.corridor_mask(scn.claim.corridor)),
                                   default_net.corridor_sources(scn.claim.corridor), sinks)
        assert listed.a.tobytes() == flows.a.tobytes() and listed.b.tobytes() == flows.b.tobytes()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 60), st.booleans()),
                min_size=1, max_size=25))
def test_listing_matches_max_flows_on_any_small_whole_number_network(edges: list[tuple[int, int, int, bool]]) -> None:
    arcs = [(f"n{u}", f"n{v}", i, float(c)) for i, (u, v, c, _) in enumerate(edges)]
    routes = np.array([i for i, e in enumerate(edges) if e[3]], dtype=np.int64)
    listed, flows = _both_ways(arcs, routes, ["n0"], ["n5", "n6"])
    assert listed.a.tobytes() == flows.a.tobytes() and listed.b.tobytes() == flows.b.tobytes()


def test_fractional_capacities_take_the_max_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = CorridorCuts._enumerate_flows

    def counted(self: CorridorCuts, *args: object) -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(CorridorCuts, "_enumerate_flows", counted)
    arcs = [("s", "m", 0, 20.0), ("m", "t", 1, 10.0), ("s", "t", 2, 40.0)]
    assert CorridorCuts(arcs, np.array([0, 1]), ["s"], ["t"]).nominal_flow() == 50.0 and not calls
    cuts = CorridorCuts([("s", "m", 0, 20.5), *arcs[1:]], np.array([0, 1]), ["s"], ["t"])
    assert calls and cuts.nominal_flow() == 50.0


def test_undominated_keeps_the_first_of_equal_cuts_and_drops_the_beaten() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    b = np.array([1.0, 1.0, 1.0, 0.5, 1.0])
    ka, kb = cuts_module._undominated(a, b, rows_per_block=2)
    assert ka.tolist() == [[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]] and kb.tolist() == [0.5, 1.0, 1.0]


@settings(max_examples=40, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 40), st.integers(1, 4)), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])),
       st.integers(1, 9))
def test_undominated_keeps_what_comparing_with_each_kept_cut_keeps(a: np.ndarray, block: int) -> None:
    b = a[:, 0] * 3.0 % 2.0
    order = np.lexsort((a.sum(axis=1), b))
    keep: list[int] = []
    for i in order:  # one cut at a time against those kept before it
        if not any((a[j] <= a[i]).all() and b[j] <= b[i] for j in keep):
            keep.append(int(i))
    ka, kb = cuts_module._undominated(a, b, rows_per_block=block)
    assert ka.tobytes() == a[keep].tobytes() and kb.tobytes() == b[keep].tobytes()
