"""Share of a corridor cut by count, capacity and connectivity, on a network small enough to do by hand.

    src --a (40 t/d)--------------------> town        corridor "c": a, b, x
     \\                                    ^ \\
      +--b (20 t/d)--> mid --x (10 t/d)---+  +--d (100 t/d, "interior")--> town2

Nominal max flow from src to the militant towns: a + min(b, x) = 40 + 10 = 50 t/day.
"""

from __future__ import annotations

import datetime as dt

import networkx as nx
import numpy as np
import pytest
from conftest import three_route_network

from qalamoun_sim import RouteNetwork, load_scenario
from qalamoun_sim.analysis.metrics import (
    METRICS,
    capacity_cut_share,
    connectivity_cut_share,
    corridor_shares,
    count_cut_share,
    held_by_day,
)
from qalamoun_sim.environment.state import ExogenousState, compute_state


@pytest.fixture(scope="module")
def net() -> RouteNetwork:
    return three_route_network()


# snow capacity factors and interdiction per day, routes (a, b, x, d)
SNOW = np.array([
    [1.0, 1.0, 1.0, 1.0],   # day 0: all open
    [0.0, 1.0, 1.0, 1.0],   # day 1: a closed by snow
    [1.0, 0.5, 0.0, 1.0],   # day 2: b slowed, x closed
    [1.0, 0.5, 1.0, 1.0],   # day 3: b slowed; a interdicted
    [0.0, 1.0, 1.0, 0.0],   # day 4: a closed by snow and interdicted; d (not in the corridor) closed
    [0.0, 0.0, 0.0, 1.0],   # day 5: the whole corridor closed by snow; b also interdicted
])
INTERDICTED = np.zeros((6, 4), dtype=bool)
INTERDICTED[3, 0] = INTERDICTED[4, 0] = INTERDICTED[5, 1] = True

EXPECTED = {  # by hand, day by day
    "snow": {
        "count": [0, 1 / 3, 1 / 3, 0, 1 / 3, 1],
        "capacity": [0, 40 / 70, 1 - 50 / 70, 1 - 60 / 70, 40 / 70, 1],
        "connectivity": [0, 1 - 10 / 50, 1 - 40 / 50, 0, 1 - 10 / 50, 1],
        "paths": [0, 1 / 2, 1 / 2, 0, 1 / 2, 1],  # supply routes [a] and [b, x]: a slowed leg cuts nothing
    },
    "total": {
        "count": [0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1],
        "capacity": [0, 40 / 70, 1 - 50 / 70, 1 - 20 / 70, 40 / 70, 1],
        "connectivity": [0, 1 - 10 / 50, 1 - 40 / 50, 1 - 10 / 50, 1 - 10 / 50, 1],
        "paths": [0, 1 / 2, 1 / 2, 1 / 2, 1 / 2, 1],
    },
}


def hand_state(net: RouteNetwork, snow: np.ndarray = SNOW, interdicted: np.ndarray = INTERDICTED) -> ExogenousState:
    snow = snow[None] if snow.ndim == 2 else snow
    interdicted = interdicted[None] if interdicted.ndim == 2 else interdicted
    r, d, n = snow.shape
    dates = [dt.date(2013, 12, 1) + dt.timedelta(days=i) for i in range(d)]
    return ExogenousState(
        replications=np.arange(r), dates=dates, route_ids=net.route_ids,
        temperature_c=np.zeros((r, d)), precipitation_mm=np.zeros((r, d)), storm=np.zeros((r, d), bool),
        band_elevations_m=np.array([1500.0]), band_depth_cm=np.zeros((r, d, 1)),
        route_depth_cm=np.where(snow < 1, 40.0, 0.0), snow_capacity_factor=snow.astype(float),
        snow_speed_factor=snow.astype(float), interdicted=interdicted)


# ----------------------------------------------------------------------------- the functions
def test_nominal_max_flow_by_hand(net: RouteNetwork) -> None:
    assert net.max_flow("c") == pytest.approx(50.0)
    mask = net.corridor_mask("c")
    assert mask.tolist() == [True, True, True, False]


def test_count_share_by_hand(net: RouteNetwork) -> None:
    mask = net.corridor_mask("c")
    np.testing.assert_allclose(count_cut_share(SNOW <= 0, mask), EXPECTED["snow"]["count"])
    assert float(count_cut_share(np.array([False, False, False, True]), mask)) == 0.0


def test_capacity_share_by_hand(net: RouteNetwork) -> None:
    mask = net.corridor_mask("c")
    np.testing.assert_allclose(capacity_cut_share(SNOW, net.capacity_tpd, mask), EXPECTED["snow"]["capacity"])


def test_connectivity_share_by_hand(net: RouteNetwork) -> None:
    np.testing.assert_allclose(connectivity_cut_share(net, SNOW, "c"), EXPECTED["snow"]["connectivity"])


def test_shares_keep_the_leading_axes(net: RouteNetwork) -> None:
    mask = net.corridor_mask("c")
    block = np.stack([SNOW, SNOW[::-1]])                                    # (R=2, D=6, N=4)
    for share in (capacity_cut_share(block, net.capacity_tpd, mask), count_cut_share(block <= 0, mask),
                  connectivity_cut_share(net, block, "c")):
        assert share.shape == (2, 6)
        np.testing.assert_allclose(share[1], share[0][::-1])
    assert np.ndim(capacity_cut_share(SNOW[2], net.capacity_tpd, mask)) == 0


def test_connectivity_matches_networkx_max_flow_on_random_factors(net: RouteNetwork) -> None:
    rng = np.random.default_rng(1)
    factors = rng.choice([0.0, 0.5, 1.0], size=(40, 4))
    got = connectivity_cut_share(net, factors, "c")
    for f, share in zip(factors, got, strict=True):
        g = net.flow_graph(f)
        g.add_edge("S", "src", capacity=1e9)
        for t in ("town", "town2"):
            if t in g:
                g.add_edge(t, "T", capacity=1e9)
        flow = nx.maximum_flow_value(g, "S", "T") if "src" in g and "T" in g else 0.0
        assert share == pytest.approx(1 - flow / 50.0, abs=1e-9)


def test_shares_are_within_zero_and_one_and_monotone_in_closures(net: RouteNetwork) -> None:
    rng = np.random.default_rng(2)
    f = rng.choice([0.0, 0.5, 1.0], size=(200, 4))
    g = np.minimum(f, rng.choice([0.0, 0.5, 1.0], size=(200, 4)))           # g closes more than f
    mask = net.corridor_mask("c")
    for share in (lambda x: capacity_cut_share(x, net.capacity_tpd, mask),
                  lambda x: count_cut_share(x <= 0, mask),
                  lambda x: connectivity_cut_share(net, x, "c")):
        a, b = share(f), share(g)
        assert ((a >= 0) & (a <= 1)).all() and ((b >= 0) & (b <= 1)).all()
        assert (b >= a - 1e-12).all()


# ----------------------------------------------------------------------------- corridor_shares on a state
def test_corridor_shares_by_hand(net: RouteNetwork) -> None:
    shares = corridor_shares(hand_state(net), net, "c")
    assert set(shares) == {"snow", "interdiction", "total"}
    for kind in ("snow", "total"):
        for m in METRICS:
            assert shares[kind][m].shape == (1, 6)
            np.testing.assert_allclose(shares[kind][m][0], EXPECTED[kind][m], atol=1e-12, err_msg=f"{kind} {m}")
    for m in METRICS:
        np.testing.assert_allclose(shares["interdiction"][m][0],
                                   np.array(EXPECTED["total"][m]) - np.array(EXPECTED["snow"][m]), atol=1e-12)
    # day 3: snow left a open, interdiction closed it: a third of the routes, 40 of 70 t, 40 of 50 t of flow
    assert shares["interdiction"]["count"][0, 3] == pytest.approx(1 / 3)
    assert shares["interdiction"]["capacity"][0, 3] == pytest.approx(40 / 70)
    assert shares["interdiction"]["connectivity"][0, 3] == pytest.approx(40 / 50)
    # day 4: a closed by snow *and* interdiction counts as snow, not interdiction
    assert shares["interdiction"]["count"][0, 4] == 0.0


def test_corridor_shares_one_metric_at_a_time(net: RouteNetwork) -> None:
    shares = corridor_shares(hand_state(net), net, "c", metrics=("capacity",))
    assert set(shares["snow"]) == {"capacity"}
    with pytest.raises(ValueError, match="unknown metric"):
        corridor_shares(hand_state(net), net, "c", metrics=("volume",))


def test_corridor_shares_unknown_corridor_is_an_error(net: RouteNetwork) -> None:
    with pytest.raises(ValueError, match="arsal"):
        corridor_shares(hand_state(net), net, "arsal")


def test_corridor_shares_on_a_simulated_state_are_consistent() -> None:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    state = compute_state(scn, 8, seed=5, network=net)
    shares = corridor_shares(state, net, "arsal")
    mask = net.corridor_mask("arsal")
    for m in METRICS:
        s, i, t = shares["snow"][m], shares["interdiction"][m], shares["total"][m]
        assert s.shape == (8, scn.scenario.days)
        assert ((s >= 0) & (s <= 1 + 1e-12)).all() and (i >= 0).all()
        assert (t >= s - 1e-12).all()
        np.testing.assert_allclose(s + i, t, atol=1e-12)
    np.testing.assert_allclose(shares["snow"]["count"], state.snow_closed[..., mask].mean(axis=-1))
    assert shares["snow"]["capacity"].max() > 0 and shares["interdiction"]["capacity"].max() > 0


# ----------------------------------------------------------------------------- supply routes and captured towns
def two_town_network() -> RouteNetwork:
    """src --a (40)--> A;  src --b (20)--> mid --x (10)--> B: two towns, each with its own supply route."""
    from qalamoun_sim import scenario_from_dict

    def place(nid: str, kind: str, lat: float, **kw: object) -> dict[str, object]:
        return {"id": nid, "kind": kind, "side": "militant", "elevation_m": 1400, "lat": lat, "lon": 36.5, **kw}

    def track(rid: str, a: str, b: str, cap: float) -> dict[str, object]:
        return {"id": rid, "from": a, "to": b, "length_km": 10, "surface": "track", "capacity_tpd": cap,
                "corridor": "c"}

    return RouteNetwork.from_scenario(scenario_from_dict({
        "scenario": {"name": "two towns", "start": "2013-12-01", "days": 4},
        "nodes": [place("src", "source", 34.2, corridor="c"), place("mid", "junction", 34.1),
                  place("A", "town", 34.0), place("B", "town", 33.9)],
        "routes": [track("a", "src", "A", 40), track("b", "src", "mid", 20), track("x", "mid", "B", 10)]}))


def test_a_serial_path_counts_once_in_the_paths_share() -> None:
    net = two_town_network()
    closed = np.array([[False, True, True], [False, True, False], [True, False, False]])
    state = hand_state(net, np.where(closed, 0.0, 1.0), np.zeros((3, 3), bool))
    shares = corridor_shares(state, net, "c")["snow"]
    # b and x both closed: one supply route of two is cut, not two legs of three
    np.testing.assert_allclose(shares["paths"][0], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(shares["count"][0], [2 / 3, 1 / 3, 1 / 3])


def test_a_captured_town_drops_out_of_every_share_on_the_day_it_falls() -> None:
    net = two_town_network()
    snow = np.array([[1.0, 0.0, 1.0]] * 4)                      # b closed by snow every day
    state = hand_state(net, snow, np.zeros((4, 3), bool))
    held = [frozenset(), frozenset(), frozenset({"B"}), frozenset({"B"})]   # the army takes B on day 2
    shares = corridor_shares(state, net, "c", held=held)["snow"]
    np.testing.assert_allclose(shares["connectivity"][0], [1 - 40 / 50, 1 - 40 / 50, 0, 0])
    np.testing.assert_allclose(shares["paths"][0], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(shares["count"][0], [1 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(shares["capacity"][0], [20 / 70, 20 / 70, 0, 0])


def test_held_by_day_follows_the_dated_captures() -> None:
    scn = load_scenario()
    held = held_by_day(scn)
    first = {c.town: scn.dates.index(c.date) for c in scn.interdiction.captures if c.date in scn.dates}
    for town, day in first.items():
        assert town not in held[day - 1] and town in held[day]
