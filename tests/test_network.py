"""RouteNetwork: hand-computed maximum flows, corridors, sub-graphs, GraphML and GeoJSON."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalamoun_sim.network import RouteNetwork, graphml_to_document
from qalamoun_sim.scenario import (
    Node,
    Route,
    default_scenario_path,
    load_scenario,
    scenario_from_dict,
)

DATA = Path(__file__).parent / "data"


def node(nid: str, kind: str = "junction", side: str = "militant", elev: float = 1500.0,
         lat: float = 34.0, lon: float = 36.5, **kw: Any) -> Node:
    return Node(id=nid, kind=kind, side=side, elevation_m=elev, lat=lat, lon=lon, **kw)


def route(rid: str, a: str, b: str, cap: float, surface: str = "track", **kw: Any) -> Route:
    return Route(id=rid, **{"from": a}, to=b, length_km=10, surface=surface, capacity_tpd=cap, **kw)


def src(nid: str = "s", corridor: str | None = "c", **kw: Any) -> Node:
    return node(nid, "source", corridor=corridor, **kw)


def town(nid: str = "t", side: str = "militant", **kw: Any) -> Node:
    return node(nid, "town", side=side, **kw)


# --------------------------------------------------------------------------- max flow, hand-computed
def test_series_routes_take_the_minimum() -> None:
    net = RouteNetwork([src(), node("j"), town()], [route("sj", "s", "j", 10), route("jt", "j", "t", 4)])
    assert net.max_flow("c") == pytest.approx(4.0)


def test_parallel_routes_add_up_in_the_collapsed_graph() -> None:
    routes = [route("p1", "s", "t", 10), route("p2", "s", "t", 5, "trail"), route("p3", "s", "t", 3, "road")]
    net = RouteNetwork([src(), town()], routes)
    assert net.graph.number_of_edges("s", "t") == 3  # the multigraph keeps each route
    assert set(net.graph["s"]["t"]) == {"p1", "p2", "p3"}
    fg = net.flow_graph()
    assert isinstance(fg, nx.DiGraph) and not fg.is_multigraph()
    assert fg["s"]["t"]["capacity"] == pytest.approx(18.0)
    assert net.max_flow("c") == pytest.approx(18.0)


def diamond() -> RouteNetwork:
    """s->a 10, s->b 5, a->t 3, b->t 8, a->b 4, all one-way.

    Max flow 11: the cut {s, a, b} | {t} is 3 + 8 = 11, and 3 (s-a-t) + 5 (s-b-t) + 3 (s-a-b-t) reaches it.
    """
    nodes = [src(), node("a"), node("b"), town()]
    routes = [route("sa", "s", "a", 10, bidirectional=False), route("sb", "s", "b", 5, bidirectional=False),
              route("at", "a", "t", 3, bidirectional=False), route("bt", "b", "t", 8, bidirectional=False),
              route("ab", "a", "b", 4, bidirectional=False)]
    return RouteNetwork(nodes, routes)


def test_diamond() -> None:
    assert diamond().max_flow("c") == pytest.approx(11.0)


def test_diamond_agrees_with_networkx_directly() -> None:
    g = nx.DiGraph()
    for u, v, c in [("s", "a", 10), ("s", "b", 5), ("a", "t", 3), ("b", "t", 8), ("a", "b", 4)]:
        g.add_edge(u, v, capacity=c)
    assert diamond().max_flow("c") == pytest.approx(nx.maximum_flow_value(g, "s", "t"))


@pytest.mark.parametrize(("factors", "expected"), [
    ([1, 1, 1, 0, 1], 3.0),      # b->t closed: only a->t is left
    ([1, 1, 0.5, 1, 1], 9.5),    # a->t halved to 1.5; b->t carries 5 + 4 = 9 of its 8 -> 1.5 + 8
    ([0, 1, 1, 1, 1], 5.0),      # s->a closed: s->b only
    ([1, 1, 1, 1, 0], 8.0),      # a->b closed: 3 + 5
    ([0, 0, 0, 0, 0], 0.0),
    ([1, 1, 1, 1, 1], 11.0),
])
def test_closed_and_partial_routes_via_factors(factors: list[float], expected: float) -> None:
    net = diamond()
    assert net.max_flow("c", factors) == pytest.approx(expected)
    assert net.max_flow("c", np.asarray(factors, dtype=float)) == pytest.approx(expected)  # memoized: same value


def test_memo_does_not_mix_factor_patterns() -> None:
    net = diamond()
    assert net.max_flow("c") == pytest.approx(11.0)
    assert net.max_flow("c", [1, 1, 1, 0, 1]) == pytest.approx(3.0)
    assert net.max_flow("c") == pytest.approx(11.0)


def test_factors_must_match_route_count() -> None:
    with pytest.raises(ValueError, match="expected 5 route factors"):
        diamond().max_flow("c", [1, 1])


def test_army_held_route_is_excluded() -> None:
    routes = [route("track", "s", "t", 10), route("m5", "s", "t", 500, "road", side="army")]
    net = RouteNetwork([src(), town()], routes)
    assert net.max_flow("c") == pytest.approx(10.0)
    assert net.flow_graph()["s"]["t"]["capacity"] == pytest.approx(10.0)


def test_army_held_node_is_excluded_but_neutral_is_not() -> None:
    nodes = [src(), node("army_jct", side="army"), node("neutral_jct", side="neutral"), town()]
    routes = [route("s-army", "s", "army_jct", 50), route("army-t", "army_jct", "t", 50),
              route("s-neutral", "s", "neutral_jct", 7), route("neutral-t", "neutral_jct", "t", 7),
              route("direct", "s", "t", 2)]
    assert RouteNetwork(nodes, routes).max_flow("c") == pytest.approx(9.0)


def test_only_militant_towns_are_sinks() -> None:
    nodes = [src(), town("neutral_town", side="neutral"), town("army_town", side="army")]
    routes = [route("r1", "s", "neutral_town", 10), route("r2", "s", "army_town", 10)]
    net = RouteNetwork(nodes, routes)
    assert net.militant_towns() == []
    assert net.max_flow("c") == 0.0


@pytest.mark.parametrize(("a", "b", "bidirectional", "expected"), [
    ("s", "t", False, 6.0),   # one-way toward the town
    ("t", "s", False, 0.0),   # one-way away from the town
    ("t", "s", True, 6.0),    # two-way, written backwards
    ("s", "t", True, 6.0),
])
def test_bidirectional_vs_one_way(a: str, b: str, bidirectional: bool, expected: float) -> None:
    net = RouteNetwork([src(), town()], [route("r", a, b, 6, bidirectional=bidirectional)])
    assert net.max_flow("c") == pytest.approx(expected)
    assert net.graph.has_edge("t", "s") == (bidirectional or a == "t")


def test_max_flow_counts_only_the_corridors_sources() -> None:
    nodes = [src("s1", corridor="north"), src("s2", corridor="south"), town()]
    routes = [route("n", "s1", "t", 30, corridor="north"), route("s", "s2", "t", 12, corridor="south")]
    net = RouteNetwork(nodes, routes)
    assert net.max_flow("north") == pytest.approx(30.0)
    assert net.max_flow("south") == pytest.approx(12.0)
    assert net.max_flow("nowhere") == 0.0


def test_two_towns_are_both_sinks() -> None:
    nodes = [src(), town("t1"), town("t2")]
    routes = [route("r1", "s", "t1", 4), route("r2", "s", "t2", 6), route("r3", "t1", "t2", 100)]
    assert RouteNetwork(nodes, routes).max_flow("c") == pytest.approx(10.0)


# --------------------------------------------------------------------------- corridors and sub-graphs
def corridor_net() -> RouteNetwork:
    nodes = [src("labelled", corridor="a"), src("plain", corridor=None), src("other", corridor=None),
             node("j"), town()]
    routes = [route("a1", "labelled", "j", 10, corridor="a"), route("b1", "plain", "j", 5, corridor="b"),
              route("b2", "j", "t", 20, corridor="b"), route("x", "other", "t", 1),
              route("a2", "j", "t", 8, corridor="a")]
    return RouteNetwork(nodes, routes)


def test_corridor_sources() -> None:
    net = corridor_net()
    assert net.corridor_sources("a") == ["labelled"]           # labelled sources win
    assert net.corridor_sources("b") == ["plain"]              # else sources its routes touch
    assert net.corridor_sources("none") == []


def test_corridor_routes_and_mask() -> None:
    net = corridor_net()
    assert net.corridor_routes("a") == ["a1", "a2"]
    assert net.corridor_routes("b") == ["b1", "b2"]
    assert net.corridor_mask("a").tolist() == [True, False, False, False, True]
    assert net.corridors() == ["a", "b"]
    assert net.max_flow("a") == pytest.approx(10.0)
    assert net.max_flow("b") == pytest.approx(5.0)


def test_open_subgraph_drops_closed_routes_and_scales_capacity() -> None:
    net = RouteNetwork([src(), node("j"), town()],
                       [route("sj", "s", "j", 10), route("jt", "j", "t", 4),
                        route("st", "s", "t", 6, bidirectional=False)])
    sub = net.open_subgraph([0.5, 0.0, 1.0])
    assert set(sub.nodes) == {"s", "j", "t"}  # every place stays
    assert sorted((u, v, k) for u, v, k in sub.edges(keys=True)) == [("j", "s", "sj"), ("s", "j", "sj"),
                                                                     ("s", "t", "st")]
    assert sub["s"]["j"]["sj"]["capacity"] == pytest.approx(5.0)
    assert sub["j"]["s"]["sj"]["capacity"] == pytest.approx(5.0)
    assert sub["s"]["t"]["st"]["capacity"] == pytest.approx(6.0)
    assert net.graph["s"]["j"]["sj"]["capacity"] == pytest.approx(10.0)  # the nominal graph is untouched
    full = net.open_subgraph()
    assert full.number_of_edges() == net.graph.number_of_edges() == 5


def _arcs_of_the_graph(net: RouteNetwork, side: str, held: frozenset[str]) -> list[tuple[str, str, int, float]]:
    """``side_arcs`` as it was read from the networkx graph itself."""
    from qalamoun_sim.network import enemy_of, side_arcs

    node_side = {nid: (enemy_of(side) if nid in held else n.side) for nid, n in net.nodes.items()}
    return list(side_arcs(net.graph.edges(data=True), node_side, net.route_side, side))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.booleans(), st.sampled_from(["militant", "army", "neutral"])),
                min_size=1, max_size=14),
       st.sets(st.integers(0, 5), max_size=2))
def test_side_arcs_list_the_graphs_edges_in_its_order(edges: list[tuple[int, int, bool, str]], taken: set[int]) -> None:
    # parallel, reverse and two-way routes in any order: the arcs made without networkx are the graph's
    nodes = [node(f"n{k}", side=("army" if k == 4 else "militant")) for k in (3, 1, 0, 5, 2, 4)]
    routes = [route(f"r{i}", f"n{u}", f"n{v}", 5.0 + i, bidirectional=both, side=side)
              for i, (u, v, both, side) in enumerate(edges) if u != v]
    if not routes:
        return
    net = RouteNetwork(nodes, routes)
    for side in ("militant", "army"):
        held = frozenset(f"n{k}" for k in taken)
        assert net.side_arcs(side, held) == _arcs_of_the_graph(net, side, held)


def test_side_arcs_of_the_bundled_and_synthetic_networks_are_the_graphs() -> None:
    from qalamoun_sim.scenario.synthetic import synthetic_scenario

    for scn in (load_scenario(), synthetic_scenario(300, seed=3)):
        net = RouteNetwork.from_scenario(scn)
        towns = frozenset(net.militant_towns()[:2])
        for held in (frozenset(), towns):
            assert net.side_arcs("militant", held) == _arcs_of_the_graph(net, "militant", held)


def test_route_arrays_follow_scenario_order() -> None:
    nodes = [src(elev=1400), node("j", elev=1900), town(elev=1300)]
    routes = [route("r0", "s", "j", 10, speed_kph=12),
              route("r1", "j", "t", 20, "road", side="army", max_elevation_m=2000),
              route("r2", "s", "t", 5, "trail", elevation_profile_m=[1400, 2300.5, 1300], corridor="c")]
    net = RouteNetwork(nodes, routes, {"road": 60.0, "track": 25.0, "trail": 4.0})
    assert net.route_ids == ("r0", "r1", "r2") and net.route_index == {"r0": 0, "r1": 1, "r2": 2}
    assert net.n_routes == 3
    assert net.capacity_tpd.tolist() == [10.0, 20.0, 5.0]
    assert net.max_elevation_m.tolist() == [1900.0, 2000.0, 2300.5]  # higher end / given / profile max
    assert net.speed_kph.tolist() == [12.0, 60.0, 4.0]
    assert net.ploughed.tolist() == [False, True, False]
    assert net.corridor.tolist() == ["", "", "c"]
    assert net.surface.tolist() == ["track", "road", "trail"]


def test_routes_within_range_of_a_base() -> None:
    # route midpoint at (34.1, 36.0): 0.1 degree of latitude north of the base, about 11.1 km
    nodes = [src(lat=34.05, lon=36.0), town(lat=34.15, lon=36.0), node("base", "base", "army", lat=34.0, lon=36.0)]
    net = RouteNetwork(nodes, [route("r", "s", "t", 5)])
    assert net.routes_within("base", 11.5).tolist() == [True]
    assert net.routes_within("base", 10.5).tolist() == [False]


def test_unreachable_towns() -> None:
    nodes = [src(), town("near"), town("lost")]
    routes = [route("sn", "s", "near", 5), route("ln", "lost", "near", 5, bidirectional=False)]
    assert RouteNetwork(nodes, routes).unreachable_towns() == ["lost"]


# --------------------------------------------------------------------------- from scenarios
def test_tiny_fixture_network_and_report() -> None:
    net = RouteNetwork.from_scenario(load_scenario(DATA / "tiny.toml"))
    assert net.route_ids == ("r0", "r1", "r2", "r3", "r4")
    assert net.max_elevation_m.tolist() == [1850.0, 1800.0, 2100.0, 2100.0, 1420.0]
    assert net.speed_kph.tolist() == [20.0, 20.0, 3.5, 3.5, 50.0]  # surface defaults
    rep = net.report()
    assert rep["nodes_by_kind"] == {"source": 1, "junction": 1, "pass": 1, "town": 2, "base": 1}
    assert rep["routes_by_surface"] == {"track": 2, "trail": 2, "road": 1}
    assert rep["routes_by_corridor"] == {"c": 4, "interior": 1}
    assert rep["highest_passes"] == [{"id": "high_pass", "elevation_m": 2100.0}]
    assert rep["highest_routes"][0]["max_elevation_m"] == 2100.0
    # min(40, 30) via jct + min(5, 5) over the pass; "interior" has no source and is left out
    assert rep["nominal_max_flow_tpd"] == {"c": pytest.approx(35.0)}


def test_default_scenario_arsal_nominal_max_flow() -> None:
    """Every Arsal route is open: the cut is Arsal's own routes, 80 + 40 + 30 + 6 + 5 = 161 t/day."""
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    doc = tomllib.loads(default_scenario_path().read_text())
    out_of_arsal = sum(r["capacity_tpd"] for r in doc["routes"] if "arsal" in (r["from"], r["to"]))
    assert out_of_arsal == 161
    assert net.max_flow("arsal") == pytest.approx(161.0)
    assert net.corridor_sources("arsal") == ["arsal"]
    # the army-held M5 is no militant corridor: closing it changes nothing
    m5 = net.corridor_mask("m5").astype(float)
    assert net.max_flow("arsal", 1.0 - m5) == pytest.approx(161.0)
    assert net.unreachable_towns() == []


# --------------------------------------------------------------------------- GraphML
def graph_net() -> RouteNetwork:
    nodes = [src("s", name="Source", supply_tpd=50, elev=1400.0, lat=34.1, lon=36.4),
             node("j", elev=1800.5, lat=34.05, lon=36.5, side="neutral"),
             town("t", stock_t=100, consumption_tpd=3.5, lat=34.0, lon=36.7)]
    routes = [route("r1", "s", "j", 40, corridor="c", speed_kph=15, max_elevation_m=1900),
              route("r3", "j", "t", 5, "trail", bidirectional=False, ploughed=True,
                    elevation_profile_m=[1800, 2100.5, 1300]),
              route("r2", "s", "t", 200, "road", side="army", ploughed=False)]
    return RouteNetwork(nodes, routes)


def _typed(d: dict[str, Any]) -> dict[str, tuple[Any, type]]:
    return {k: (v, type(v)) for k, v in d.items()}


def test_graphml_round_trip_keeps_attributes_and_types(tmp_path: Path) -> None:
    net = graph_net()
    path = tmp_path / "net.graphml"
    net.to_graphml(path)
    doc = graphml_to_document(path)
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert set(nodes) == {"s", "j", "t"}
    for n in net.nodes.values():
        expected = {k: v for k, v in n.model_dump().items() if v is not None}
        assert _typed(nodes[n.id]) == _typed(expected)
    assert isinstance(nodes["j"]["elevation_m"], float) and nodes["j"]["elevation_m"] == 1800.5
    routes = {r["id"]: r for r in doc["routes"]}
    assert set(routes) == {"r1", "r2", "r3"}
    for r in net.routes:
        expected = {k: v for k, v in r.model_dump(by_alias=True).items() if v is not None}
        assert _typed(routes[r.id]) == _typed(expected)
    assert routes["r3"]["bidirectional"] is False and routes["r3"]["ploughed"] is True
    assert routes["r2"]["ploughed"] is False
    assert routes["r3"]["elevation_profile_m"] == [1800.0, 2100.5, 1300.0]
    assert routes["r1"]["length_km"] == 10.0 and isinstance(routes["r1"]["length_km"], float)


def test_graphml_scenario_load_equals_original(tmp_path: Path) -> None:
    net = graph_net()
    net.to_graphml(tmp_path / "net.graphml")
    (tmp_path / "s.toml").write_text('[scenario]\nname = "from graphml"\nstart = 2013-12-01\ndays = 3\n\n'
                                     '[network]\ngraphml = "net.graphml"\n')
    scn = load_scenario(tmp_path / "s.toml")
    assert scn.network is not None and scn.network.graphml == "net.graphml"
    assert {n.id: n for n in scn.nodes} == net.nodes
    assert {r.id: r for r in scn.routes} == {r.id: r for r in net.routes}
    back = RouteNetwork.from_scenario(scn)
    assert back.max_flow("c") == pytest.approx(net.max_flow("c"))
    from_file = RouteNetwork.from_graphml(tmp_path / "net.graphml")
    assert {r.id: r for r in from_file.routes} == {r.id: r for r in net.routes}


def test_graphml_round_trip_keeps_route_order(tmp_path: Path) -> None:
    net = graph_net()
    net.to_graphml(tmp_path / "net.graphml")
    assert [r["id"] for r in graphml_to_document(tmp_path / "net.graphml")["routes"]] == list(net.route_ids)


def test_graphml_scenario_with_missing_or_broken_file(tmp_path: Path) -> None:
    from qalamoun_sim.errors import ScenarioError

    toml = tmp_path / "s.toml"
    toml.write_text('[scenario]\nname = "g"\nstart = 2013-12-01\ndays = 3\n[network]\ngraphml = "missing.graphml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(toml)
    assert info.value.field == "network.graphml" and "file not found" in info.value.message
    (tmp_path / "missing.graphml").write_text("<graphml><not closed")
    with pytest.raises(ScenarioError) as info:
        load_scenario(toml)
    assert info.value.field == "network.graphml" and "cannot read" in info.value.message


# OSMnx files, two-way streets, highway tags, roles: tests/test_graphml.py (issue 18).


# --------------------------------------------------------------------------- GeoJSON
def test_geojson_has_a_point_per_node_and_a_line_per_route(tmp_path: Path) -> None:
    net = graph_net()
    layers = net.to_geojson(tmp_path / "gis")
    assert set(layers) == {"nodes", "routes"}
    for name, fc in layers.items():  # one FeatureCollection per layer, a file each
        assert json.loads((tmp_path / "gis" / f"{name}.geojson").read_text()) == fc
        assert fc["type"] == "FeatureCollection"
    points, lines = layers["nodes"]["features"], layers["routes"]["features"]
    assert {f["geometry"]["type"] for f in points} == {"Point"} and len(points) == 3
    assert {f["geometry"]["type"] for f in lines} == {"LineString"} and len(lines) == 3
    assert {f["properties"]["id"]: f["geometry"]["coordinates"] for f in points} == {
        "s": [36.4, 34.1], "j": [36.5, 34.05], "t": [36.7, 34.0]}
    by_id = {f["properties"]["id"]: f for f in lines}
    assert by_id["r1"]["geometry"]["coordinates"] == [[36.4, 34.1], [36.5, 34.05]]
    assert by_id["r3"]["properties"]["from"] == "j" and by_id["r3"]["properties"]["max_elevation_m"] == 2100.5


def test_geojson_of_default_scenario_counts() -> None:
    doc = tomllib.loads(default_scenario_path().read_text())
    net = RouteNetwork.from_scenario(load_scenario())
    gj = net.to_geojson()
    assert len(gj["nodes"]["features"]) == len(doc["nodes"])
    assert len(gj["routes"]["features"]) == len(doc["routes"])


def test_dict_scenario_network() -> None:
    scn = scenario_from_dict({
        "scenario": {"name": "d", "start": "2013-12-01", "days": 2},
        "nodes": [{"id": "s", "kind": "source", "side": "militant", "elevation_m": 1000, "lat": 34, "lon": 36,
                   "corridor": "k"},
                  {"id": "t", "kind": "town", "side": "militant", "elevation_m": 1000, "lat": 34.1, "lon": 36}],
        "routes": [{"id": "x", "from": "s", "to": "t", "length_km": 5, "surface": "road", "capacity_tpd": 7},
                   {"id": "y", "from": "s", "to": "t", "length_km": 5, "surface": "trail", "capacity_tpd": 2}]})
    net = RouteNetwork.from_scenario(scn)
    assert net.max_flow("k") == pytest.approx(9.0)
    assert net.max_flow("k", [0, 1]) == pytest.approx(2.0)


def test_the_flow_solver_keeps_its_incidence_sparse_and_exact() -> None:
    """Issue 17: a dense (arcs x routes) matrix took 150 GiB on a 100,000-route network; one entry per arc now."""
    from scipy.sparse import issparse

    from qalamoun_sim.network import SUPER_SINK, SUPER_SOURCE, FlowSolver
    from qalamoun_sim.scenario import synthetic_scenario

    net = RouteNetwork.from_scenario(synthetic_scenario(2000, seed=3, days=5))
    solver = FlowSolver(net, "main", "militant")
    assert issparse(solver.incidence)
    arcs = list(net.side_arcs("militant", frozenset()))
    assert solver.incidence.nnz <= len(arcs) and solver.incidence.shape == (len(solver.edges), net.n_routes)
    factors = np.random.default_rng(1).uniform(0, 1, net.n_routes)
    g = net.flow_graph(factors, "militant")
    for s in net.corridor_sources("main"):
        g.add_edge(SUPER_SOURCE, s)
    for t in net.militant_towns():
        g.add_edge(t, SUPER_SINK)
    assert solver.value(factors) == pytest.approx(nx.maximum_flow_value(g, SUPER_SOURCE, SUPER_SINK), rel=1e-12)
