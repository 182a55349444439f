"""Shared fixtures: tiny hand-built networks and exogenous states for known-answer tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import qalamoun_sim.cli
from qalamoun_sim.environment.state import ExogenousState
from qalamoun_sim.network import RouteNetwork
from qalamoun_sim.scenario import Scenario, scenario_from_dict

START = dt.date(2013, 12, 1)


def node(nid: str, kind: str = "junction", side: str = "militant", **kw: Any) -> dict[str, Any]:
    """A node dict with harmless coordinates (spread along a parallel)."""
    lon = 36.0 + 0.01 * (sum(map(ord, nid)) % 50)
    return {"id": nid, "kind": kind, "side": side, "elevation_m": 1000.0, "lat": 34.0, "lon": lon, **kw}


def route(rid: str, a: str, b: str, length_km: float = 20.0, capacity_tpd: float = 40.0,
          speed_kph: float = 20.0, **kw: Any) -> dict[str, Any]:
    """A track route dict; 20 km at 20 km/h is one hour."""
    return {"id": rid, "from": a, "to": b, "length_km": length_km, "surface": "track",
            "capacity_tpd": capacity_tpd, "speed_kph": speed_kph, **kw}


def make_scenario(nodes: list[dict[str, Any]], routes: list[dict[str, Any]], days: int = 10,
                  **sections: Any) -> Scenario:
    """A validated scenario from node and route dicts, plus optional sections (interdiction, engine...)."""
    doc: dict[str, Any] = {"scenario": {"name": "tiny", "start": START, "days": days, "seed": 7},
                           "nodes": nodes, "routes": routes}
    doc.update(sections)
    return scenario_from_dict(doc)


def make_state(scn: Scenario, capacity_factor: Any = 1.0, speed_factor: Any = None,
               interdicted: Any = False, replication: int = 0) -> ExogenousState:
    """An exogenous state of one replication, by hand: factors broadcast to (days, routes).

    ``speed_factor`` defaults to 1 where the capacity factor is positive, else 0.
    """
    net = RouteNetwork.from_scenario(scn)
    n_days, n_routes = scn.scenario.days, net.n_routes
    shape = (n_days, n_routes)
    cap = np.broadcast_to(np.asarray(capacity_factor, dtype=float), shape).copy()
    speed = np.where(cap > 0, 1.0, 0.0) if speed_factor is None else \
        np.broadcast_to(np.asarray(speed_factor, dtype=float), shape).copy()
    itd = np.broadcast_to(np.asarray(interdicted, dtype=bool), shape).copy()
    bands = np.array([1000.0, 2000.0])
    return ExogenousState(
        replications=np.array([replication]), dates=scn.dates, route_ids=net.route_ids,
        temperature_c=np.zeros((1, n_days)), precipitation_mm=np.zeros((1, n_days)),
        storm=np.zeros((1, n_days), dtype=bool), band_elevations_m=bands,
        band_depth_cm=np.zeros((1, n_days, len(bands))), route_depth_cm=np.zeros((1,) + shape),
        snow_capacity_factor=cap[None], snow_speed_factor=speed[None], interdicted=itd[None])


@pytest.fixture
def line_scenario() -> Callable[..., Scenario]:
    """Factory: source ``s`` -> town ``t`` over one route ``st`` (options as keyword arguments)."""

    def build(supply: float = 100.0, capacity: float = 40.0, length_km: float = 20.0, need: float = 1000.0,
              stock: float = 0.0, days: int = 10, **sections: Any) -> Scenario:
        nodes = [node("s", "source", supply_tpd=supply), node("t", "town", stock_t=stock, consumption_tpd=need)]
        return make_scenario(nodes, [route("st", "s", "t", length_km=length_km, capacity_tpd=capacity)],
                             days=days, **sections)

    return build


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """qalamoun_sim.cli.main in this process; argparse errors arrive as SystemExit."""
    try:
        rc = qalamoun_sim.cli.main(list(args))
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def three_route_network() -> RouteNetwork:
    """The network of the metric tests, small enough to do by hand::

        src --a (40 t/d)--------------------> town        corridor "c": a, b, x
         \\                                    ^ \\
          +--b (20 t/d)--> mid --x (10 t/d)---+  +--d (100 t/d, "interior")--> town2

    Nominal max flow from src to the militant towns: a + min(b, x) = 40 + 10 = 50 t/day.
    """
    def place(nid: str, kind: str, lat: float, **kw: object) -> dict[str, object]:
        return {"id": nid, "kind": kind, "side": "militant", "elevation_m": 1400, "lat": lat, "lon": 36.5, **kw}

    def track(rid: str, a: str, b: str, cap: float, corridor: str = "c") -> dict[str, object]:
        return {"id": rid, "from": a, "to": b, "length_km": 10, "surface": "track", "capacity_tpd": cap,
                "corridor": corridor}

    scn = scenario_from_dict({
        "scenario": {"name": "three routes", "start": "2013-12-01", "days": 6},
        "nodes": [place("src", "source", 34.2, corridor="c"), place("mid", "junction", 34.1),
                  place("town", "town", 34.0), place("town2", "town", 33.9)],
        "routes": [track("a", "src", "town", 40), track("b", "src", "mid", 20), track("x", "mid", "town", 10),
                   track("d", "town", "town2", 100, "interior")],
    })
    return RouteNetwork.from_scenario(scn)

