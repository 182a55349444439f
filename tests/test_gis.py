"""GIS layers: nodes and routes apart, routes along their geometry, results and criticality as columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario, node, route, run_main

from qalamoun_sim.analysis.layers import criticality_columns, network_layers, result_columns, write_layers
from qalamoun_sim.errors import QalamounError, ResultsError
from qalamoun_sim.network import RouteNetwork
from qalamoun_sim.network.gis import geojson_layers, write_geopackage
from qalamoun_sim.scenario import Scenario

BEND = [[36.0, 34.0], [36.2, 34.1], [36.4, 34.0]]


def tiny() -> Scenario:
    """s -> t straight (``st``) and along a bend (``bent``); a junction ``j`` no route reaches."""
    nodes = [node("s", "source", supply_tpd=50, corridor="c", lat=34.0, lon=36.0),
             node("t", "town", consumption_tpd=10, stock_t=20, lat=34.0, lon=36.4)]
    return make_scenario(nodes, [route("st", "s", "t", corridor="c"),
                                 route("bent", "s", "t", length_km=45, geometry=BEND, corridor="c")], days=4)


def test_layers_are_apart_and_routes_follow_their_geometry() -> None:
    net = RouteNetwork.from_scenario(tiny())
    layers = geojson_layers(net, node_columns={"p_captured": {"t": 0.25}},
                            route_columns={"mean_flow_tpd": {"st": 12.5}})
    nodes, routes = layers["nodes"]["features"], layers["routes"]["features"]
    assert [f["geometry"]["type"] for f in nodes] == ["Point", "Point"]
    assert {f["properties"]["id"]: f["geometry"]["coordinates"] for f in routes} == {
        "st": [[36.0, 34.0], [36.4, 34.0]], "bent": BEND}
    assert all("geometry" not in f["properties"] for f in routes)  # the vertices are the feature's geometry
    assert [f["properties"]["p_captured"] for f in nodes] == [None, 0.25]  # ids left out: null
    assert [f["properties"]["mean_flow_tpd"] for f in routes] == [12.5, None]
    st = routes[0]["properties"]
    assert st["speed_kph"] == 20.0 and st["ploughed"] is False and st["max_elevation_m"] == 1000.0


def test_a_column_may_not_replace_an_attribute() -> None:
    with pytest.raises(ValueError, match=r"route columns \['capacity_tpd'\]"):
        geojson_layers(RouteNetwork.from_scenario(tiny()), route_columns={"capacity_tpd": {"st": 1.0}})


def test_geojson_is_a_file_per_layer(tmp_path: Path) -> None:
    net = RouteNetwork.from_scenario(tiny())
    layers = net.to_geojson(tmp_path / "gis")
    assert sorted(p.name for p in (tmp_path / "gis").iterdir()) == ["nodes.geojson", "routes.geojson"]
    assert json.loads((tmp_path / "gis" / "routes.geojson").read_text()) == layers["routes"]
    with pytest.raises(QalamounError, match="GeoJSON layers go in a folder"):
        net.to_geojson(tmp_path / "net.geojson")


def test_geopackage_holds_both_layers_with_geometry_and_columns(tmp_path: Path) -> None:
    gpd = pytest.importorskip("geopandas")
    pyogrio = pytest.importorskip("pyogrio")
    net = RouteNetwork.from_scenario(tiny())
    layers = geojson_layers(net, route_columns={"mean_flow_tpd": {"st": 12.5, "bent": 3.0},
                                                "criticality_rank": {"st": 1, "bent": 2}})
    path = write_geopackage(layers, tmp_path / "net.gpkg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.gpkg"]  # no temporary file left
    assert [tuple(r) for r in pyogrio.list_layers(path)] == [("nodes", "Point"), ("routes", "LineString")]
    routes = gpd.read_file(path, layer="routes")
    assert routes.crs.to_epsg() == 4326 and list(routes["id"]) == ["st", "bent"]
    assert [list(map(list, g.coords)) for g in routes.geometry] == [[[36.0, 34.0], [36.4, 34.0]], BEND]
    assert list(routes["mean_flow_tpd"]) == [12.5, 3.0] and list(routes["criticality_rank"]) == [1, 2]
    assert routes["ploughed"].dtype == bool
    assert len(gpd.read_file(path, layer="nodes")) == 2


class FakeEnsemble:
    """What result_columns reads of an Ensemble, with known tables."""

    def __init__(self, scn: Scenario, routes: pd.DataFrame) -> None:
        self.scenario, self._routes, self.folder = scn, routes, None

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        assert name == "routes"
        return self._routes[columns] if columns else self._routes

    def town_report(self) -> pd.DataFrame:
        return pd.DataFrame({"delivered_t": [30.0], "shortfall_t": [10.0], "days_without_stock": [1.5],
                             "p_captured": [0.5], "p_settled": [0.0]}, index=pd.Index(["t"], name="town"))


def known_routes() -> pd.DataFrame:
    """Two replications of four days (1-4 Dec: in the claim window) of both routes."""
    states = {"st": ["snow", "both", "open", "interdicted"] * 2, "bent": ["open"] * 7 + ["interdicted"]}
    rows = [{"replication": k, "day": d, "route": rid, "state": states[rid][4 * k + d],
             "flow_t": float(10 * k + d) if rid == "st" else 0.0}
            for k in range(2) for d in range(4) for rid in ("st", "bent")]
    return pd.DataFrame(rows)


def test_result_columns_known_answer() -> None:
    scn = tiny().with_updates({"scenario.start": "2013-11-29"})  # days 0-1 in November, 2-3 in the window
    nodes, routes = result_columns(FakeEnsemble(scn, known_routes()))
    assert routes["snow_closed_share"] == {"st": 0.5, "bent": 0.0}        # snow or both
    assert routes["interdicted_share"] == {"st": 0.25, "bent": 0.125}     # interdicted where snow left it open
    assert routes["window_snow_closed_share"] == {"st": 0.0, "bent": 0.0}
    assert routes["window_interdicted_share"] == {"st": 0.5, "bent": 0.25}
    assert routes["mean_flow_tpd"] == {"st": pytest.approx(np.mean([0, 1, 2, 3, 10, 11, 12, 13])), "bent": 0.0}
    assert nodes["p_captured"] == {"t": 0.5} and nodes["delivered_t"] == {"t": 30.0}


def test_results_of_another_network_are_refused() -> None:
    other = known_routes().replace({"route": {"bent": "elsewhere"}})
    with pytest.raises(ResultsError, match="made for another network: route 'elsewhere'"):
        network_layers(tiny(), FakeEnsemble(tiny(), other))


def test_criticality_columns_by_route() -> None:
    table = pd.DataFrame({"rank": [1, 2], "route": ["bent", "st"], "max_flow_loss_tpd": [40.0, 40.0],
                          "delivered_loss_t": [5.0, 1.0]})
    cols: dict[str, Any] = dict(criticality_columns(table))
    assert cols == {"criticality_rank": {"bent": 1, "st": 2}, "max_flow_loss_tpd": {"bent": 40.0, "st": 40.0},
                    "delivered_loss_t": {"bent": 5.0, "st": 1.0}}


@pytest.mark.parametrize("out", ["net.gpkg", "gis"])
def test_layers_command_from_a_run_and_a_ranking(out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    if out.endswith(".gpkg"):
        pytest.importorskip("pyogrio")
    from qalamoun_sim.scenario.writer import write_scenario

    monkeypatch.chdir(tmp_path)
    write_scenario(tiny(), "tiny.toml")
    assert run_main(capsys, "run", "tiny.toml", "--replications", "2", "--seed", "1", "--out", "r", "-q")[0] == 0
    assert run_main(capsys, "critical", "tiny.toml", "--replications", "1", "--seed", "1", "--out", "crit")[0] == 0
    rc, text, err = run_main(capsys, "layers", "--results", "r", "--critical", "crit", "--out", out, "--json")
    doc = json.loads(text)
    assert rc == 0 and err == "" and doc["layers"] == {"nodes": 2, "routes": 2}
    assert {"snow_closed_share", "interdicted_share", "mean_flow_tpd", "max_flow_loss_tpd"} <= set(doc["route_columns"])
    layers = network_layers(tiny())
    assert write_layers(layers, tmp_path / "again.gpkg" if out.endswith(".gpkg") else tmp_path / "again")
    rc, _, err = run_main(capsys, "layers", "--results", "r", "--critical", "nowhere.csv", "--out", out)
    assert rc == 2 and "nowhere.csv: not found" in err and len(err.splitlines()) == 1
