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
