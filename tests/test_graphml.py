"""GraphML both ways (issue 18): OSMnx graphs read as they are, our export read by OSMnx, round trips.

The OSMnx tests build their graphs offline from ``tests/data/osm_valley.osm`` with ``osmnx.graph_from_xml``
(osmnx is in the ``dev`` extra; they skip without it). The rest needs no osmnx: they read the committed
``osm_valley.graphml``, which is what osmnx writes for that file (checked below when osmnx is there).
"""

from __future__ import annotations

import ast
import tempfile
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from conftest import run_main
from hypothesis import given, settings
from hypothesis import strategies as st

from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.network import RouteNetwork, graphml_to_document
from qalamoun_sim.scenario import (
    NetworkSource,
    Node,
    Route,
    UnreachableTownWarning,
    load_scenario,
    scenario_from_dict,
)
from qalamoun_sim.scenario.graphml import LoopEdgeWarning, parse_wkt_linestring, wkt_linestring
from qalamoun_sim.scenario.highways import SURFACE_OF_HIGHWAY, surface_and_capacity

DATA = Path(__file__).parent / "data"
VALLEY_OSM, VALLEY_GRAPHML, VALLEY_TOML = DATA / "osm_valley.osm", DATA / "osm_valley.graphml", DATA / "osm_valley.toml"
ELEVATIONS = {1: 1400.0, 3: 2050.0, 4: 1450.0, 5: 1800.0, 7: 1600.0}
HEADER = {"name": "g", "start": "2013-12-01", "days": 3}


def valley(source: int = 1, towns: tuple[int, ...] = (4, 7), **network: Any) -> NetworkSource:
    roles = [{"node": source, "kind": "source", "side": "militant", "supply_tpd": 500, "corridor": "c"}]
    roles += [{"node": t, "kind": "town", "side": "militant"} for t in towns]
    return NetworkSource.model_validate({"graphml": "x", "roles": roles, **network})


def unordered(d: dict[str, Any]) -> dict[str, Any]:
    """Attributes with lists as sets: OSMnx builds a simplified edge's lists (osmid, highway) from sets, in an
    order that changes with the hash seed, and each direction's on its own."""
    def norm(v: Any) -> Any:
        if isinstance(v, str) and v.startswith("[") and v.endswith("]"):
            v = ast.literal_eval(v)
        return sorted(map(str, v)) if isinstance(v, list) else v
    return {k: norm(v) for k, v in d.items()}


def build_valley(ox: Any) -> nx.MultiDiGraph:
    """The committed test graph: osmnx's simplified graph of ``osm_valley.osm``, elevations set by hand."""
    g = ox.graph_from_xml(VALLEY_OSM, simplify=True, retain_all=True)
    nx.set_node_attributes(g, ELEVATIONS, "elevation")
    g.graph.pop("created_date", None)
    return g


@pytest.fixture(scope="module")
def ox() -> Any:
    return pytest.importorskip("osmnx")


# --------------------------------------------------------------------------- reading an OSMnx graph
def test_a_directed_osmnx_graph_keeps_its_arcs_and_max_flow() -> None:
    raw = nx.read_graphml(VALLEY_GRAPHML, force_multigraph=True)
    net = RouteNetwork.from_graphml(VALLEY_GRAPHML, valley())
    assert net.graph.number_of_edges() == raw.number_of_edges() == 9
    assert net.graph.number_of_nodes() == raw.number_of_nodes() == 5
    # one way in from node 1: the two-way track, 40 t/day each way (not 80: its two OSM edges are one route)
    assert net.max_flow("c") == pytest.approx(40.0)
    # upstream from the town: the primary is one-way (3 -> 4); 4 -> 5 -> 3 -> 1 is held by the cycleway's 5
    up = RouteNetwork.from_graphml(VALLEY_GRAPHML, valley(source=4, towns=(1,)))
    assert up.max_flow("c") == pytest.approx(5.0)


def test_a_two_way_street_is_one_route_and_two_arcs_not_four() -> None:
    net = RouteNetwork.from_graphml(VALLEY_GRAPHML, valley())
    routes = {r.id: r for r in net.routes}
    assert set(routes) == {"1-3-0", "3-4-0", "3-5-0", "5-4-0", "5-7-0"}
    assert [rid for rid, r in routes.items() if not r.bidirectional] == ["3-4-0"]  # oneway=yes
    assert sorted((u, v) for u, v, k in net.graph.edges(keys=True) if k == "1-3-0") == [("1", "3"), ("3", "1")]
    # the route runs the way of the edge OSMnx did not reverse: 5 -> 4, though 4 -> 5 comes first in the file
    assert (routes["5-4-0"].from_, routes["5-4-0"].to) == ("5", "4")


def test_highway_lists_take_the_most_capable_surface_and_unknown_tags_the_table() -> None:
    net = RouteNetwork.from_graphml(VALLEY_GRAPHML, valley())
    r = {x.id: x for x in net.routes}
    assert r["5-4-0"].tags is not None and "service" in r["5-4-0"].tags["highway"]  # "['unclassified', 'service']"
    assert (r["5-4-0"].surface, r["5-4-0"].capacity_tpd) == ("road", 200.0)
    assert (r["3-5-0"].surface, r["3-5-0"].capacity_tpd) == ("trail", 5.0)  # cycleway: the table says trail
    assert (r["1-3-0"].surface, r["3-4-0"].surface, r["5-7-0"].surface) == ("track", "road", "trail")
    assert surface_and_capacity(["path", "track"], capacities={"track": 30.0}) == ("track", 30.0)
    assert surface_and_capacity(["footway"], capacities={"footway": 2.0, "trail": 9.0}) == ("trail", 2.0)
    assert {SURFACE_OF_HIGHWAY[t] for t in ("cycleway", "construction", "busway", "living_street", "corridor")} \
        == {"trail", "track", "road"}


def test_capacities_by_tag_or_surface_override_the_defaults() -> None:
    net = RouteNetwork.from_graphml(VALLEY_GRAPHML, valley(capacity_tpd={"track": 30, "cycleway": 8, "road": 150}))
    caps = {r.id: r.capacity_tpd for r in net.routes}
    assert caps == {"1-3-0": 30.0, "3-4-0": 150.0, "3-5-0": 8.0, "5-4-0": 150.0, "5-7-0": 5.0}


def test_an_unknown_highway_tag_is_an_error_unless_mapped(tmp_path: Path) -> None:
    text = VALLEY_GRAPHML.read_text().replace(">cycleway<", ">proposed<")
    (tmp_path / "p.graphml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        RouteNetwork.from_graphml(tmp_path / "p.graphml", valley())
    assert "highway 'proposed' is not in the highway table" in str(info.value)
    assert "network.surfaces.proposed" in str(info.value) and "\n" not in str(info.value)
    mapped = RouteNetwork.from_graphml(tmp_path / "p.graphml", valley(surfaces={"proposed": "track"}))
    assert {r.id: r.surface for r in mapped.routes}["3-5-0"] == "track"
    fallback = RouteNetwork.from_graphml(tmp_path / "p.graphml", valley(default_surface="trail"))
    assert {r.id: r.surface for r in fallback.routes}["3-5-0"] == "trail"


def test_the_geometry_is_kept_from_the_from_node_to_the_to_node() -> None:
    net = RouteNetwork.from_graphml(VALLEY_GRAPHML, valley())
    r = {x.id: x for x in net.routes}
    assert r["1-3-0"].geometry == [(36.42, 34.18), (36.46, 34.16), (36.5, 34.13)]
    assert r["5-4-0"].geometry is not None and r["5-4-0"].geometry[0] == (36.56, 34.11)  # node 5
    assert r["3-4-0"].geometry is None  # OSMnx gives straight edges none
    assert r["1-3-0"].length_km == pytest.approx(9.267512986961621)


def test_wkt_linestrings_parse_and_print_exactly() -> None:
    pts = [(36.123456789012345, 34.1), (0.1 + 0.2, -1e-7)]
    assert parse_wkt_linestring(wkt_linestring(pts)) == pts
    assert parse_wkt_linestring("LineString Z (1 2 3, 4 5 6)") == [(1.0, 2.0), (4.0, 5.0)]
    assert parse_wkt_linestring("LINESTRING EMPTY") is None
    for bad in ("POINT (1 2)", "LINESTRING (1, 2 3)", "LINESTRING (a b, 1 2)"):
        with pytest.raises(ValueError):
            parse_wkt_linestring(bad)
    with pytest.raises(ValueError, match="geometry"):
        Route.model_validate({"id": "r", "from": "a", "to": "b", "length_km": 1, "surface": "track",
                              "capacity_tpd": 1, "geometry": [[36.0, 34.0], [36.0, 95.0]]})


def test_a_broken_geometry_names_the_edge(tmp_path: Path) -> None:
    (tmp_path / "b.graphml").write_text(VALLEY_GRAPHML.read_text().replace("LINESTRING (36.42", "LINESTRNG (36.42", 1))
    with pytest.raises(ScenarioError, match=r"edge '1-3-0' \(1 -> 3\): geometry: not a WKT LINESTRING"):
        RouteNetwork.from_graphml(tmp_path / "b.graphml", valley())


# --------------------------------------------------------------------------- a scenario with [network] graphml
def test_a_graphml_scenario_gives_nodes_their_roles_and_runs_claim(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreachableTownWarning)
        scn = load_scenario(VALLEY_TOML)
    nodes = {n.id: n for n in scn.nodes}
    assert (nodes["1"].kind, nodes["1"].supply_tpd, nodes["1"].corridor) == ("source", 60.0, "arsal")
    assert (nodes["4"].kind, nodes["4"].stock_t, nodes["4"].consumption_tpd) == ("town", 300.0, 20.0)
    assert (nodes["3"].kind, nodes["3"].elevation_m, nodes["5"].kind) == ("pass", 2050.0, "junction")
    assert {r.corridor for r in scn.routes} == {"arsal"}  # every route reachable from the corridor's source
    assert RouteNetwork.from_scenario(scn).max_flow("arsal") == pytest.approx(30.0)
    assert scn.network is not None and scn.network.graphml == "osm_valley.graphml"
    assert "network" not in scn.model_dump(by_alias=True)  # a resolved scenario: its nodes and routes
    assert scenario_from_dict(scn.model_dump(by_alias=True, exclude_none=True)).routes == scn.routes
    for command in ("validate", "claim"):
        rc, out, err = run_main(capsys, command, str(VALLEY_TOML), *(["--replications", "3"] * (command == "claim")))
        assert rc == 0, err
    assert "P(claim holds)" in out


def _write(tmp_path: Path, network: str) -> Path:
    (tmp_path / "v.graphml").write_text(VALLEY_GRAPHML.read_text())
    toml = tmp_path / "v.toml"
    toml.write_text('[scenario]\nname = "v"\nstart = 2013-12-01\ndays = 3\n[network]\ngraphml = "v.graphml"\n'
                    + network)
    return toml


ROLE = '[[network.roles]]\nnode = 1\nkind = "source"\ncorridor = "c"\nsupply_tpd = 5\n'
TOWN = '[[network.roles]]\nnode = 4\nkind = "town"\nside = "militant"\n'


@pytest.mark.parametrize(("network", "field", "message"), [
    (ROLE + '[[network.roles]]\nnode = "abc"\nkind = "town"\n', "network.roles[1].node", "no node 'abc' in v.graphml"),
    (ROLE + '[[network.roles]]\nnode = 1\nkind = "town"\n', "network.roles[1].node", "has a role already"),
    (ROLE + '[[network.roles]]\nnode = 4\nkind = "town"\nstock_t = -1\n', "network.roles[1].stock_t", ">= 0"),
    (ROLE + TOWN + '[network.capacity_tpd]\nmotorbike = 3\n', "network.capacity_tpd.motorbike", "neither a surface"),
    (ROLE + TOWN + '[network.corridors]\nc = ["1-3-0", "9-9-9"]\n', "network.corridors.c[1]", "no route '9-9-9'"),
    (ROLE + TOWN + '[network.corridors]\nz = "reachable"\n', "network.corridors.z", "no source of corridor 'z'"),
    (ROLE + TOWN + '[[network.roles]]\nnode = 7\nkind = "source"\ncorridor = "d"\n', "network.corridors",
     "reachable from the sources of both 'c' and 'd'"),
    ('colour = "red"\n' + ROLE + TOWN, "network.colour", "unknown key"),
])
def test_bad_network_entries_are_one_line_errors(tmp_path: Path, network: str, field: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, network))
    assert info.value.field == field and message in info.value.message, str(info.value)
    assert str(info.value).startswith(str(tmp_path / "v.toml"))


def test_a_bad_role_id_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = _write(tmp_path, ROLE + '[[network.roles]]\nnode = 44\nkind = "town"\n')
    rc, out, err = run_main(capsys, "claim", str(toml), "--replications", "2")
    assert rc == 2 and out == ""
    assert err.strip() == f"{toml}: network.roles[1].node: no node '44' in v.graphml; did you mean '4'?"


def test_a_graphml_network_and_inline_nodes_are_not_both_allowed(tmp_path: Path) -> None:
    toml = _write(tmp_path, ROLE)
    toml.write_text(toml.read_text() + '[[nodes]]\nid = "x"\nkind = "town"\nelevation_m = 1\nlat = 34\nlon = 36\n')
    with pytest.raises(ScenarioError, match="not both") as info:
        load_scenario(toml)
    assert info.value.field == "network.graphml"


def test_an_osmnx_node_without_elevation_says_which(tmp_path: Path) -> None:
    (tmp_path / "v.graphml").write_text(VALLEY_GRAPHML.read_text().replace("<data key=\"d5\">1800.0</data>", ""))
    with pytest.raises(ScenarioError) as info:
        RouteNetwork.from_graphml(tmp_path / "v.graphml")
    assert info.value.field == "nodes[3].elevation_m" and "GraphML node '5'" in info.value.message
    fixed = valley(roles=[{"node": 5, "kind": "junction", "elevation_m": 1790}])
    assert RouteNetwork.from_graphml(tmp_path / "v.graphml", fixed).nodes["5"].elevation_m == 1790.0


# --------------------------------------------------------------------------- our export, read back
def rich_net() -> RouteNetwork:
    """Every route and node field set somewhere: profile, geometry, tags, one-way, ploughed, speed, sides."""
    def place(nid: str, kind: str, lat: float, **kw: Any) -> Node:
        return Node(id=nid, kind=kind, side=kw.pop("side", "militant"), elevation_m=kw.pop("z", 1500.25), lat=lat,
                    lon=36.5 + lat / 100, **kw)

    nodes = [place("s", "source", 34.1, supply_tpd=50, corridor="c", name="Source"),
             place("j", "junction", 34.05, side="neutral", tags={"street_count": "3"}),
             place("t", "town", 34.0, stock_t=100.5, consumption_tpd=3.5, z=1300.0)]

    def way(rid: str, a: str, b: str, cap: float, surface: str = "track", **kw: Any) -> Route:
        return Route.model_validate({"id": rid, "from": a, "to": b, "length_km": 0.1 + 0.2, "surface": surface,
                                     "capacity_tpd": cap, **kw})

    routes = [way("r1", "s", "j", 40, corridor="c", speed_kph=15, max_elevation_m=1900,
                  geometry=[(36.841, 34.1), (36.85, 34.2), (36.8405, 34.05)], tags={"osmid": "[7, 8]", "name": "x"}),
              way("r3", "j", "t", 5, "trail", bidirectional=False, ploughed=True, elevation_profile_m=[1800, 2100.5, 1300]),
              way("r2", "s", "t", 200, "road", side="army", ploughed=False, tags={"highway": "['trunk', 'primary']"})]
    return RouteNetwork(nodes, routes)


def assert_same(a: RouteNetwork, b: RouteNetwork) -> None:
    assert list(a.nodes.values()) == list(b.nodes.values())
    assert list(a.routes) == list(b.routes)
    assert (a.graph.number_of_nodes(), a.graph.number_of_edges()) == (b.graph.number_of_nodes(), b.graph.number_of_edges())
    for c in a.corridors():
        assert a.max_flow(c) == pytest.approx(b.max_flow(c))


def test_ours_to_graphml_to_ours_keeps_every_attribute(tmp_path: Path) -> None:
    net = rich_net()
    net.to_graphml(tmp_path / "n.graphml")
    back = RouteNetwork.from_graphml(tmp_path / "n.graphml")
    assert_same(net, back)
    assert isinstance(back.routes[0].length_km, float) and back.routes[0].length_km == 0.1 + 0.2
    default = RouteNetwork.from_scenario(load_scenario())
    default.to_graphml(tmp_path / "d.graphml")
    assert_same(default, RouteNetwork.from_graphml(tmp_path / "d.graphml"))


def test_our_file_is_what_osmnx_writes(tmp_path: Path) -> None:
    rich_net().to_graphml(tmp_path / "n.graphml")
    text = (tmp_path / "n.graphml").read_text()
    assert 'attr.type="double"' not in text and 'attr.type="boolean"' not in text  # every value a string
    g = nx.read_graphml(tmp_path / "n.graphml", node_type=int, force_multigraph=True)  # as load_graphml reads it
    assert g.graph["crs"] == "epsg:4326" and sorted(g.nodes) == [0, 1, 2]
    assert g.nodes[0]["x"] == "36.841" and g.nodes[0]["qs_id"] == "s"
    two_way = sorted((u, v, d["reversed"], d["geometry"].split(",")[0]) for u, v, d in g.edges(data=True)
                     if d["qs_id"] == "r1")
    assert two_way == [(0, 1, "False", "LINESTRING (36.841 34.1"), (1, 0, "True", "LINESTRING (36.8405 34.05")]
    highway = {d["qs_id"]: d["highway"] for _, _, d in g.edges(data=True)}
    assert highway == {"r1": "track", "r2": "['trunk', 'primary']", "r3": "path"}


def test_a_first_format_file_still_reads(tmp_path: Path) -> None:
    """What the first to_graphml wrote: typed values, our ids as node ids, one edge per route."""
    g = nx.MultiDiGraph()
    g.add_node("s", x=36.4, y=34.1, elevation=1400.0, kind="source", side="militant", corridor="c", supply_tpd=9.0)
    g.add_node("t", x=36.5, y=34.0, elevation=1300.0, kind="town", side="militant")
    g.add_edge("s", "t", key="b", id="b", index=1, length=5000.0, highway="path", surface="trail", capacity_tpd=5.0,
               oneway=True, side="militant")
    g.add_edge("s", "t", key="a", id="a", index=0, length=10000.0, highway="track", surface="track", capacity_tpd=40.0,
               oneway=False, side="militant", elevation_profile_m="[1400.0, 1800.0]")
    nx.write_graphml(g, str(tmp_path / "old.graphml"))
    net = RouteNetwork.from_graphml(tmp_path / "old.graphml")
    assert [(r.id, r.bidirectional, r.length_km) for r in net.routes] == [("a", True, 10.0), ("b", False, 5.0)]
    assert net.routes[0].elevation_profile_m == [1400.0, 1800.0] and net.max_flow("c") == pytest.approx(45.0)
    assert graphml_to_document(tmp_path / "old.graphml")["routes"][0]["tags"] == {"highway": "track"}


def test_an_undirected_file_has_two_way_routes(tmp_path: Path) -> None:
    g = nx.MultiGraph()
    g.add_node("a", x=36.0, y=34.0, elevation=1000.0, kind="source", corridor="c")
    g.add_node("b", x=36.1, y=34.0, elevation=1000.0, kind="town", side="militant")
    g.add_edge("a", "b", highway="residential", oneway=True)
    nx.write_graphml(g, str(tmp_path / "u.graphml"))
    net = RouteNetwork.from_graphml(tmp_path / "u.graphml")
    assert [(r.bidirectional, r.surface) for r in net.routes] == [(True, "road")]
    assert net.routes[0].length_km == pytest.approx(9.22, abs=0.01)  # no length: along the ends, great circle


# --------------------------------------------------------------------------- with osmnx itself
def test_the_committed_valley_is_what_osmnx_builds(ox: Any, tmp_path: Path) -> None:
    ox.save_graphml(build_valley(ox), tmp_path / "v.graphml")
    fresh, committed = (nx.read_graphml(p, force_multigraph=True) for p in (tmp_path / "v.graphml", VALLEY_GRAPHML))
    fresh.graph.pop("created_with"), committed.graph.pop("created_with")
    assert fresh.graph == committed.graph and dict(fresh.nodes(data=True)) == dict(committed.nodes(data=True))
    edges = [sorted(str((u, v, k, unordered(d))) for u, v, k, d in g.edges(keys=True, data=True))
             for g in (fresh, committed)]
    assert edges[0] == edges[1]


def test_osmnx_builds_offline_and_a_plain_graph_reads_the_same(ox: Any, tmp_path: Path) -> None:
    plain = ox.graph_from_xml(VALLEY_OSM, simplify=False, retain_all=True)
    nx.set_node_attributes(plain, 1500.0, "elevation")
    ox.save_graphml(plain, tmp_path / "plain.graphml")
    net = RouteNetwork.from_graphml(tmp_path / "plain.graphml", valley())
    assert net.graph.number_of_edges() == plain.number_of_edges() == 13
    assert sum(r.bidirectional for r in net.routes) == 6 and net.n_routes == 7
    assert net.max_flow("c") == pytest.approx(40.0)


def test_ours_to_osmnx_to_ours_keeps_every_attribute(ox: Any, tmp_path: Path) -> None:
    net = rich_net()
    net.to_graphml(tmp_path / "n.graphml")
    g = ox.load_graphml(tmp_path / "n.graphml")  # osmnx's defaults
    assert (g.number_of_nodes(), g.number_of_edges()) == (net.graph.number_of_nodes(), net.graph.number_of_edges())
    nodes, edges = ox.graph_to_gdfs(g)
    assert len(nodes) == 3 and len(edges) == 5 and str(edges.crs).upper() == "EPSG:4326"
    r1 = edges[edges["qs_id"] == "r1"]
    assert list(r1["oneway"]) == [False, False] and sorted(r1["reversed"]) == [False, True]
    assert r1.iloc[0]["geometry"].coords[1] == (36.85, 34.2)
    assert g.nodes[0]["elevation"] == 1500.25 and isinstance(g.nodes[0]["x"], float)
    ox.save_graphml(g, tmp_path / "again.graphml")
    assert_same(net, RouteNetwork.from_graphml(tmp_path / "again.graphml"))


def test_osmnx_to_ours_to_osmnx_keeps_every_attribute(ox: Any, tmp_path: Path) -> None:
    g0 = build_valley(ox)
    ox.save_graphml(g0, tmp_path / "v.graphml")
    RouteNetwork.from_graphml(tmp_path / "v.graphml", valley()).to_graphml(tmp_path / "ours.graphml")
    g0 = ox.load_graphml(tmp_path / "v.graphml")
    g2 = ox.load_graphml(tmp_path / "ours.graphml")
    assert set(g2.nodes) == set(g0.nodes) and g2.number_of_edges() == g0.number_of_edges()
    for n, d in g0.nodes(data=True):
        assert {k: g2.nodes[n][k] for k in d} == d
    for u, v, d in g0.edges(data=True):
        (d2,) = [e for e in g2.get_edge_data(u, v).values() if unordered(e)["osmid"] == unordered(d)["osmid"]]
        assert unordered({k: d2[k] for k in d}) == unordered(d), (u, v)
    ox.graph_to_gdfs(g2)


def test_the_guide_lists_the_highway_table() -> None:
    guide = (Path(__file__).parents[1] / "docs" / "guides.md").read_text()
    section = guide[guide.index("### From GraphML (OSMnx)"):guide.index("## Replay observed weather")]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| road")
            or line.startswith("| track") or line.startswith("| trail")}
    for tag, surface in SURFACE_OF_HIGHWAY.items():
        assert f"`{tag}`" in rows[surface].split("|")[3], (tag, surface)
    assert sum(row.count("`") // 2 for row in rows.values()) == len(SURFACE_OF_HIGHWAY)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 7).flatmap(lambda n: st.tuples(st.just(n), st.lists(
    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans(), st.sampled_from(["track", "primary", "path"])),
    min_size=1, max_size=14))))
def test_any_directed_osmnx_style_graph_keeps_its_arcs_and_max_flow(case: tuple[int, list[Any]]) -> None:
    """Property: read as routes, an OSMnx-style graph has the file's arcs and the directed graph's max flow."""
    n, ways = case
    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_nodes_from((i, {"x": str(36 + i / 100), "y": "34.0", "elevation": "1500"}) for i in range(n))
    flow = nx.DiGraph()
    for way, (u, v, oneway, highway) in enumerate(ways):
        cap = {"track": 40.0, "primary": 200.0, "path": 5.0}[highway]
        ends = [(u, v, "False")] if oneway else [(u, v, "False"), (v, u, "True")]
        for a, b, rev in ends:
            g.add_edge(a, b, osmid=str(way), highway=highway, oneway=str(oneway), reversed=rev, length="1000.0")
            if a != b:
                flow.add_edge(a, b, capacity=flow.get_edge_data(a, b, {"capacity": 0.0})["capacity"] + cap)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", LoopEdgeWarning)  # loops are left out: no arcs
        nx.write_graphml(g, f"{tmp}/g.graphml")
        net = RouteNetwork.from_graphml(f"{tmp}/g.graphml", valley(source=0, towns=(n - 1,)))
    assert net.graph.number_of_edges() == g.number_of_edges() - nx.number_of_selfloops(g)
    assert sum(r.bidirectional for r in net.routes) == sum(not oneway and u != v for u, v, oneway, _ in ways)
    expected = nx.maximum_flow_value(flow, 0, n - 1) if 0 in flow and n - 1 in flow else 0.0
    assert net.max_flow("c") == pytest.approx(expected)


def test_a_loop_road_is_left_out_with_a_warning(tmp_path: Path) -> None:
    loop = ('<edge source="5" target="5" id="{}"><data key="d6">900</data><data key="d7">track</data>'
            '<data key="d9">False</data><data key="d10">{}</data><data key="d11">800.0</data></edge>')
    text = VALLEY_GRAPHML.read_text().replace("</graph>", loop.format(1, "False") + loop.format(2, "True") + "</graph>")
    (tmp_path / "osm_valley.graphml").write_text(text)
    (tmp_path / "v.toml").write_text(VALLEY_TOML.read_text())
    with pytest.warns(LoopEdgeWarning, match="2 loop edge"):
        scn = load_scenario(tmp_path / "v.toml")
    assert len(scn.routes) == 5 and RouteNetwork.from_scenario(scn).max_flow("arsal") == pytest.approx(30.0)
