"""Tests of the SimPy supply engine: invariants on the default scenario, known answers on tiny networks."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import START, make_scenario, make_state, node, route
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from qalamoun_sim import load_scenario
from qalamoun_sim.engine import simulate_replication
from qalamoun_sim.engine.results import FATES, TABLES, Run
from qalamoun_sim.environment.state import ROUTE_STATES, compute_state
from qalamoun_sim.network import RouteNetwork


# --------------------------------------------------------------------------- default scenario
@pytest.fixture(scope="module")
def default() -> tuple:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    return scn, net


@pytest.fixture(scope="module")
def default_runs(default) -> list[tuple[Run, object]]:
    """Three replications of the default scenario with their states (seed 11)."""
    scn, net = default
    states = compute_state(scn, 3, seed=11, network=net)
    return [(simulate_replication(scn, k, 11, network=net, state=states.replication(k)), states.replication(k))
            for k in range(3)]


def test_every_convoy_tonne_has_one_fate(default_runs) -> None:
    for run, _ in default_runs:
        c = run.convoys
        assert len(c) > 100
        assert set(c["fate"].astype(str)) <= set(FATES)
        assert (c["tonnes"] > 0).all() and (c["tonnes"] <= 10.0 + 1e-12).all()
        dispatched = sum(run.meta["dispatched_t"].values())
        assert c["tonnes"].sum() == pytest.approx(dispatched, rel=1e-12)
        by_fate = c.groupby("fate", observed=False)["tonnes"].sum()
        assert by_fate.sum() == pytest.approx(dispatched, rel=1e-12)
        delivered = c["fate"] == "delivered"
        assert (c["arrived_day"].notna() == delivered).all()
        assert (c["end_day"].isna() == (c["fate"] == "in_transit")).all()
        assert (c.loc[delivered, "arrived_day"] >= c.loc[delivered, "dispatched_day"]).all()
        # tonnes delivered by convoys, town by town and day by day, are what towns received
        got = c[delivered].groupby(["arrived_day", "town"], observed=True)["tonnes"].sum()
        rec = run.towns.set_index(["day", "town"])["delivered_t"]
        rec = rec[rec > 0]
        got.index = got.index.set_names(["day", "town"])
        pd.testing.assert_series_equal(got.sort_index().astype(float), rec.sort_index(), check_names=False,
                                       check_index_type=False, check_categorical=False)


def test_town_stock_identity_and_no_negative_stock(default_runs, default) -> None:
    scn, _ = default
    initial = {n.id: n.stock_t for n in scn.nodes if n.kind == "town"}
    for run, _ in default_runs:
        t = run.towns.sort_values(["town", "day"])
        assert (t["stock_t"] >= 0).all()
        for town, g in t.groupby("town", observed=True):
            prev = np.concatenate([[initial[town]], g["stock_t"].to_numpy()[:-1]])
            identity = prev + g["delivered_t"].to_numpy() - g["consumed_t"].to_numpy()
            assert np.array_equal(identity, g["stock_t"].to_numpy()), town
            need = next(n.consumption_tpd for n in scn.nodes if n.id == town)
            ev = run.events[run.events["town"].astype(str) == town]
            gone = int(ev["day"].min()) if len(ev) else len(g)  # captured or settled: out of the militant system
            expected = np.where(g["day"].to_numpy() < gone, need, 0.0)
            assert np.allclose(g["consumed_t"] + g["shortfall_t"], expected)
        run.check()


def test_recorded_route_states_equal_the_exogenous_state(default_runs, default) -> None:
    scn, net = default
    for run, st in default_runs:
        codes = run.routes["state"].cat.codes.to_numpy()
        assert list(run.routes["state"].cat.categories) == list(ROUTE_STATES)
        assert np.array_equal(codes, st.state_code[0].ravel())
        assert np.array_equal(run.routes["capacity_factor"].to_numpy(), st.capacity_factor[0].ravel())
        assert np.array_equal(run.routes["snow_depth_cm"].to_numpy(), st.route_depth_cm[0].ravel())
    # and computed by the engine itself from the seed
    run = simulate_replication(scn, 2, 11, network=net)
    st = compute_state(scn, [2], seed=11, network=net)
    assert np.array_equal(run.routes["state"].cat.codes.to_numpy(), st.state_code[0].ravel())


def test_flow_never_exceeds_route_capacity(default_runs, default) -> None:
    _, net = default
    for run, _ in default_runs:
        cap = np.tile(net.capacity_tpd, len(run.routes) // net.n_routes) * run.routes["capacity_factor"]
        assert (run.routes["flow_t"] <= cap + 1e-9).all()
        assert (run.routes["flow_t"] >= -1e-12).all()
        closed = run.routes["state"] != "open"
        assert (run.routes.loc[closed, "flow_t"] == 0).all()
        army = run.routes["route"].astype(str).isin([r.id for r in net.routes if r.side == "army"])
        assert (run.routes.loc[army, "flow_t"] == 0).all()


def test_same_seed_same_tables_other_seed_differs(default) -> None:
    scn, net = default
    a = simulate_replication(scn, 0, 5, network=net)
    b = simulate_replication(scn, 0, 5, network=net)
    c = simulate_replication(scn, 0, 6, network=net)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.event_count == b.event_count
    assert not a.convoys.equals(c.convoys) or not a.towns.equals(c.towns)


def test_replication_state_from_a_batch_equals_state_alone(default) -> None:
    scn, net = default
    batch = compute_state(scn, 3, seed=4, network=net)
    a = simulate_replication(scn, 1, 4, network=net, state=batch.replication(1))
    b = simulate_replication(scn, 1, 4, network=net)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_state_must_hold_exactly_this_replication(default) -> None:
    scn, net = default
    batch = compute_state(scn, 2, seed=4, network=net)
    with pytest.raises(ValueError, match="exactly replication"):
        simulate_replication(scn, 0, 4, network=net, state=batch)
    with pytest.raises(ValueError, match="exactly replication"):
        simulate_replication(scn, 0, 4, network=net, state=batch.replication(1))


def test_tables_have_the_documented_columns(default_runs) -> None:
    run, st = default_runs[0]
    assert list(run.routes.columns[:3]) == ["day", "date", "route"]
    for cols, table in (
        (["day", "route", "snow_depth_cm", "capacity_factor", "state", "flow_t"], run.routes),
        (["day", "town", "delivered_t", "stock_t", "consumed_t", "shortfall_t"], run.towns),
        (["id", "source", "town", "dispatched_day", "arrived_day", "tonnes", "fate"], run.convoys),
        (["day", "temperature_c", "precipitation_mm"], run.weather),
        (["day", "town", "event"], run.events),
    ):
        assert set(cols) <= set(table.columns)
    assert run.routes["day"].min() == 0 and run.routes["day"].max() == 180
    assert run.weather["date"].iloc[0] == pd.Timestamp("2013-11-01")
    w = run.weather  # long: a row per day and snow band
    assert len(w) == 181 * len(st.band_elevations_m)
    band = w[w["elevation_m"] == 1500.0]
    assert np.array_equal(band["day"].to_numpy(), np.arange(181))
    assert np.array_equal(band["snow_depth_cm"].to_numpy(),
                          st.band_depth_cm[0, :, list(st.band_elevations_m).index(1500.0)])
    assert np.array_equal(band["temperature_c"].to_numpy(), st.temperature_c[0])
    c = run.convoys  # dates beside the day numbers, null where the day is
    assert (c["date"] == pd.Timestamp("2013-11-01") + pd.to_timedelta(c["dispatched_day"], unit="D")).all()
    got = c["arrived_date"].notna()
    assert (got == c["arrived_day"].notna()).all() and got.any()
    assert (c.loc[got, "arrived_date"] == pd.Timestamp("2013-11-01")
            + pd.to_timedelta(c.loc[got, "arrived_day"].astype(int), unit="D")).all()
    assert (c["end_date"].isna() == c["end_day"].isna()).all()
    assert run.event_count >= len(run.convoys) > 0
    assert set(run.events["event"].astype(str)) <= {"captured", "settled"}
    # scripted captures of the default scenario: Qara falls on 19 Nov 2013 (day 18)
    qara = run.events[(run.events["town"] == "qara") & (run.events["event"] == "captured")]
    assert qara["day"].tolist() == [18]
    assert run.towns.loc[(run.towns["town"] == "qara") & (run.towns["day"] > 18), "delivered_t"].sum() == 0


def test_town_summary_and_parquet_round_trip(default_runs, tmp_path) -> None:
    run, _ = default_runs[0]
    s = run.town_summary()
    assert list(s.index) == list(run.towns["town"].cat.categories)
    assert s["delivered_t"].sum() == pytest.approx(run.towns["delivered_t"].sum())
    assert s.loc["qara", "captured"] and s.loc["qara", "captured_day"] == 18
    assert {"shortfall_t", "days_without_stock", "settled", "settled_day"} <= set(s.columns)
    files = run.to_parquet(tmp_path / "out", prefix="r0-")
    assert [f.name for f in files] == [f"r0-{t}.parquet" for t in TABLES]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f.name for f in files)
    back = Run.read_parquet(tmp_path / "out", prefix="r0-")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(run, name), check_dtype=False,
                                      check_categorical=False)


# --------------------------------------------------------------------------- known answers
def _delivered(run: Run, town: str = "t") -> np.ndarray:
    return run.towns.loc[run.towns["town"] == town, "delivered_t"].to_numpy()


@pytest.mark.parametrize("supply, capacity, per_day", [(100.0, 40.0, 40.0), (25.0, 40.0, 25.0),
                                                       (100.0, 45.0, 45.0)])
def test_one_open_route_delivers_its_capacity_limited_supply_after_travel(line_scenario, supply, capacity,
                                                                          per_day) -> None:
    # 600 km at 20 km/h: 1.25 days; what leaves on day d arrives on day d + 1
    scn = line_scenario(supply=supply, capacity=capacity, length_km=600.0)
    run = simulate_replication(scn, state=make_state(scn))
    assert np.array_equal(_delivered(run), [0.0] + [per_day] * 9)
    assert (run.routes["flow_t"] == per_day).all()
    c = run.convoys
    assert (c.groupby("dispatched_day")["tonnes"].sum() == per_day).all()
    assert (c["tonnes"] <= 10.0).all()
    assert set(c.loc[c["dispatched_day"] == 9, "fate"].astype(str)) == {"in_transit"}
    assert run.meta["undispatched_t"]["s"] == pytest.approx((supply - per_day) * 10)


def test_slowed_route_carries_less_and_later(line_scenario) -> None:
    scn = line_scenario(supply=100.0, capacity=40.0, length_km=600.0)
    run = simulate_replication(scn, state=make_state(scn, capacity_factor=0.5, speed_factor=0.5))
    assert np.array_equal(_delivered(run), [0.0, 0.0] + [20.0] * 8)  # 2.5 days on the way


def test_closed_route_delivers_nothing(line_scenario) -> None:
    scn = line_scenario()
    run = simulate_replication(scn, state=make_state(scn, capacity_factor=0.0))
    assert _delivered(run).sum() == 0 and len(run.convoys) == 0
    assert run.meta["undispatched_t"]["s"] == pytest.approx(1000.0)
    # closed on days 3-5 only: nothing leaves those days, nothing arrives the day after
    cf = np.ones((10, 1))
    cf[3:6] = 0.0
    scn = line_scenario(length_km=600.0)
    run = simulate_replication(scn, state=make_state(scn, capacity_factor=cf))
    assert np.array_equal(_delivered(run), [0, 40, 40, 40, 0, 0, 0, 40, 40, 40])
    assert (run.routes["state"].astype(str).to_numpy()[3:6] == "snow").all()


def test_checkpoint_with_probability_one_stops_every_convoy(line_scenario) -> None:
    itd = {"checkpoints": [{"town": "t", "stop_probability": 1.0, "start": START}]}
    scn = line_scenario(interdiction=itd)
    run = simulate_replication(scn, state=make_state(scn))
    c = run.convoys
    assert len(c) == 40 and (c["fate"] == "intercepted").all() and (c["reason"] == "checkpoint").all()
    assert _delivered(run).sum() == 0
    # from a later date only
    itd = {"checkpoints": [{"town": "t", "stop_probability": 1.0, "start": START + dt.timedelta(days=4)}]}
    scn = line_scenario(interdiction=itd)
    run = simulate_replication(scn, state=make_state(scn))
    assert np.array_equal(_delivered(run), [40.0] * 4 + [0.0] * 6)


def test_convoy_on_a_route_struck_overnight_is_hit(line_scenario) -> None:
    itd_days = np.zeros((10, 1), dtype=bool)
    itd_days[1] = True  # struck on day 1: convoys of day 0 are on it when day 1 begins
    scn = line_scenario(length_km=600.0, interdiction={"convoy_hit_probability": 1.0})
    run = simulate_replication(scn, state=make_state(scn, interdicted=itd_days))
    c = run.convoys
    day0 = c[c["dispatched_day"] == 0]
    assert (day0["fate"] == "intercepted").all() and (day0["reason"] == "strike").all()
    assert (day0["end_day"] == 1).all()
    assert (c["dispatched_day"] != 1).all()  # closed that day
    assert np.array_equal(_delivered(run), [0, 0, 0, 40, 40, 40, 40, 40, 40, 40])
    assert run.routes["state"].astype(str).tolist()[1] == "interdicted"
    # probability 0: nobody is hit
    scn = line_scenario(length_km=600.0, interdiction={"convoy_hit_probability": 0.0})
    run = simulate_replication(scn, state=make_state(scn, interdicted=itd_days))
    assert (run.convoys["fate"] != "intercepted").all()


def _two_leg(policy: str, max_wait: int = 3, detour: bool = False):
    """s -(1.25 d)-> j -(1 h)-> t; j-t closed on day 1 only; optional detour j - k - t."""
    nodes = [node("s", "source", supply_tpd=10.0), node("j"), node("t", "town", consumption_tpd=100.0)]
    routes = [route("sj", "s", "j", length_km=600.0, capacity_tpd=100.0), route("jt", "j", "t")]
    if detour:
        nodes.append(node("k"))
        routes += [route("jk", "j", "k", length_km=40.0), route("kt", "k", "t", length_km=40.0)]
    scn = make_scenario(nodes, routes, days=6,
                        engine={"closed_route_policy": policy, "max_wait_days": max_wait})
    cf = np.ones((6, len(routes)))
    cf[1, 1] = 0.0
    return scn, make_state(scn, capacity_factor=cf)


def test_closed_route_policies() -> None:
    # day-0 convoy reaches j at 1.25, finds j-t closed
    scn, st = _two_leg("wait")
    c = simulate_replication(scn, state=st).convoys.set_index("id")
    assert c.loc[0, "fate"] == "delivered" and c.loc[0, "arrived_day"] == 2
    scn, st = _two_leg("wait", max_wait=0)
    c = simulate_replication(scn, state=st).convoys.set_index("id")
    assert c.loc[0, "fate"] == "stranded" and c.loc[0, "reason"] == "max_wait" and c.loc[0, "end_day"] == 1
    scn, st = _two_leg("turn_back")
    c = simulate_replication(scn, state=st).convoys.set_index("id")
    assert c.loc[0, "fate"] == "stranded" and c.loc[0, "reason"] == "turned_back" and c.loc[0, "end_day"] == 2
    scn, st = _two_leg("reroute", detour=True)
    run = simulate_replication(scn, state=st)
    c = run.convoys.set_index("id")
    assert c.loc[0, "fate"] == "delivered" and c.loc[0, "arrived_day"] == 1
    flows = run.routes.pivot(index="day", columns="route", values="flow_t")
    assert flows.loc[1, "jk"] == 10.0 and flows.loc[1, "jt"] == 0.0
    scn, st = _two_leg("reroute")  # no detour: waits for the next day
    c = simulate_replication(scn, state=st).convoys.set_index("id")
    assert c.loc[0, "fate"] == "delivered" and c.loc[0, "arrived_day"] == 2


def test_capacity_spent_downstream_makes_convoys_queue() -> None:
    # j-t carries 10 t a day; 30 t reach j each day convoys leave: two of three wait at j
    nodes = [node("s", "source", supply_tpd=30.0), node("j"), node("t", "town", consumption_tpd=100.0)]
    routes = [route("sj", "s", "j", length_km=600.0, capacity_tpd=100.0), route("jt", "j", "t", capacity_tpd=10.0)]
    scn = make_scenario(nodes, routes, days=8)
    run = simulate_replication(scn, state=make_state(scn))
    flows = run.routes.pivot(index="day", columns="route", values="flow_t")
    assert flows["jt"].tolist() == [0.0] + [10.0] * 6 + [0.0]
    # the dispatcher sends nothing into a route whose capacity is spent for the day (days 2-6)
    assert flows["sj"].tolist() == [30.0, 30.0, 0.0, 0.0, 0.0, 0.0, 0.0, 30.0]
    assert np.array_equal(_delivered(run), [0.0] + [10.0] * 6 + [0.0])
    assert run.convoys["arrived_day"].dropna().tolist() == [1, 2, 3, 4, 5, 6]
    run.check()


def test_dispatch_goes_to_the_town_with_fewest_days_of_stock() -> None:
    nodes = [node("s", "source", supply_tpd=20.0),
             node("a", "town", stock_t=100.0, consumption_tpd=10.0),   # 10 days of stock
             node("b", "town", stock_t=10.0, consumption_tpd=10.0)]    # 1 day
    scn = make_scenario(nodes, [route("sa", "s", "a"), route("sb", "s", "b")], days=3)
    run = simulate_replication(scn, state=make_state(scn))
    day0 = run.convoys[run.convoys["dispatched_day"] == 0]
    assert day0["town"].astype(str).tolist() == ["b", "b"]


def test_parallel_routes_share_the_supply_when_one_is_spent() -> None:
    nodes = [node("s", "source", supply_tpd=50.0), node("t", "town", consumption_tpd=100.0)]
    routes = [route("fast", "s", "t", capacity_tpd=30.0), route("slow", "s", "t", length_km=30.0, capacity_tpd=15.0)]
    scn = make_scenario(nodes, routes, days=3)
    run = simulate_replication(scn, state=make_state(scn))
    flows = run.routes.pivot(index="day", columns="route", values="flow_t")
    assert (flows["fast"] == 30.0).all() and (flows["slow"] == 15.0).all()
    assert np.array_equal(_delivered(run), [45.0] * 3)


def test_army_held_route_node_and_siege_line_are_not_used() -> None:
    nodes = [node("s", "source", supply_tpd=10.0), node("m", side="army"), node("j"),
             node("t", "town", consumption_tpd=100.0)]
    routes = [route("sm", "s", "m"), route("mt", "m", "t"), route("st_army", "s", "t", side="army"),
              route("sj", "s", "j"), route("jt", "j", "t")]
    scn = make_scenario(nodes, routes, days=3, interdiction={"siege_lines": ["jt"]})
    run = simulate_replication(scn, state=make_state(scn))
    assert len(run.convoys) == 0 and run.routes["flow_t"].sum() == 0
    scn = make_scenario(nodes, routes, days=3)  # without the siege line the militant track works
    run = simulate_replication(scn, state=make_state(scn))
    flows = run.routes.groupby("route", observed=True)["flow_t"].sum()
    assert flows["sj"] == 30.0 and flows["jt"] == 30.0 and flows.drop(["sj", "jt"]).sum() == 0


def test_scripted_capture_stops_supply_and_retargets_convoys_on_the_way() -> None:
    nodes = [node("s", "source", supply_tpd=20.0), node("j"),
             node("a", "town", consumption_tpd=10.0), node("b", "town", stock_t=1000.0, consumption_tpd=1.0)]
    routes = [route("sj", "s", "j", length_km=600.0, capacity_tpd=100.0), route("ja", "j", "a"),
              route("jb", "j", "b")]
    itd = {"captures": [{"town": "a", "date": START + dt.timedelta(days=1)}]}
    scn = make_scenario(nodes, routes, days=4, interdiction=itd)
    run = simulate_replication(scn, state=make_state(scn))
    ev = run.events
    assert ev[["day", "town", "event", "cause"]].astype(str).values.tolist() == [["1", "a", "captured", "scripted"]]
    assert _delivered(run, "a").sum() == 0
    c = run.convoys
    day0 = c[c["dispatched_day"] == 0]
    assert (day0["fate"] == "delivered").all() and (day0["town"] == "b").all()  # retargeted at j
    run.check()


def test_town_cut_off_is_captured_and_short_town_settles() -> None:
    nodes = [node("s", "source", supply_tpd=10.0), node("t", "town", consumption_tpd=5.0),
             node("u", "town", consumption_tpd=5.0)]
    routes = [route("st", "s", "t"), route("su", "s", "u", capacity_tpd=1.0)]
    cf = np.ones((8, 2))
    cf[:, 0] = 0.0  # t is cut off throughout
    itd = {"capture_after_cut_days": 2, "settlement": {"shortage_days": 3, "daily_probability": 1.0}}
    scn = make_scenario(nodes, routes, days=8, interdiction=itd)
    run = simulate_replication(scn, state=make_state(scn, capacity_factor=cf))
    ev = run.events.assign(town=lambda e: e["town"].astype(str), event=lambda e: e["event"].astype(str))
    assert ev[["day", "town", "event", "cause"]].values.tolist() == [[2, "t", "captured", "cut_off"],
                                                                     [3, "u", "settled", "shortage"]]
    assert _delivered(run, "u")[3:].sum() == 0 and _delivered(run, "u")[:3].sum() == 3.0
    s = run.town_summary()
    assert s.loc["u", "settled_day"] == 3 and s.loc["t", "captured_day"] == 2 and not s.loc["t", "settled"]


def test_no_interdiction_section_means_no_strikes_checkpoints_or_events(line_scenario) -> None:
    scn = line_scenario(length_km=600.0)
    itd = np.ones((10, 1), dtype=bool)
    itd[::2] = False
    run = simulate_replication(scn, state=make_state(scn, interdicted=itd))
    assert (run.convoys["fate"] != "intercepted").all() and run.events.empty


# --------------------------------------------------------------------------- invariants on random tiny networks
@hs.composite
def tiny_worlds(draw: hs.DrawFn) -> tuple:
    n_nodes = draw(hs.integers(3, 6))
    days = draw(hs.integers(3, 7))
    names = [f"n{i}" for i in range(n_nodes)]
    kinds = ["source"] + [draw(hs.sampled_from(["town", "town", "junction"])) for _ in range(n_nodes - 1)]
    nodes = []
    for name, kind in zip(names, kinds, strict=True):
        extra: dict = {}
        if kind == "source":
            extra["supply_tpd"] = draw(hs.floats(1.0, 60.0))
        elif kind == "town":
            extra.update(stock_t=draw(hs.floats(0.0, 50.0)), consumption_tpd=draw(hs.floats(0.0, 20.0)))
        side = draw(hs.sampled_from(["militant"] * 4 + ["army", "neutral"])) if kind != "source" else "militant"
        nodes.append(node(name, kind, side=side, **extra))
    pairs = draw(hs.lists(hs.tuples(hs.integers(0, n_nodes - 1), hs.integers(0, n_nodes - 1))
                          .filter(lambda p: p[0] != p[1]), min_size=2, max_size=9))
    routes = [route(f"r{k}", names[a], names[b], length_km=draw(hs.floats(5.0, 900.0)),
                    capacity_tpd=draw(hs.floats(2.0, 50.0)), bidirectional=draw(hs.booleans()),
                    side=draw(hs.sampled_from(["militant"] * 5 + ["army"])))
              for k, (a, b) in enumerate(pairs)]
    sections: dict = {"engine": {"convoy_t": draw(hs.floats(2.0, 15.0)),
                                 "closed_route_policy": draw(hs.sampled_from(["reroute", "wait", "turn_back"])),
                                 "max_wait_days": draw(hs.integers(0, 2))}}
    towns = [nm for nm, k in zip(names, kinds, strict=True) if k == "town"]
    if draw(hs.booleans()):
        itd: dict = {"convoy_hit_probability": draw(hs.floats(0.0, 1.0)),
                     "capture_after_cut_days": draw(hs.none() | hs.integers(1, 3)),
                     "settlement": {"shortage_days": draw(hs.integers(1, 3)),
                                    "daily_probability": draw(hs.floats(0.0, 1.0))}}
        if towns:
            itd["checkpoints"] = [{"town": draw(hs.sampled_from(towns)), "stop_probability": draw(hs.floats(0, 1)),
                                   "start": START + dt.timedelta(days=draw(hs.integers(0, days)))}]
            itd["captures"] = [{"town": draw(hs.sampled_from(towns)),
                                "date": START + dt.timedelta(days=draw(hs.integers(0, days)))}]
        if draw(hs.booleans()):
            itd["siege_lines"] = [routes[0]["id"]]
        sections["interdiction"] = itd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scn = make_scenario(nodes, routes, days=days, **sections)
    shape = (days, len(routes))
    cf = np.array(draw(hs.lists(hs.sampled_from([0.0, 0.5, 1.0]), min_size=shape[0] * shape[1],
                                max_size=shape[0] * shape[1]))).reshape(shape)
    itd_mask = np.array(draw(hs.lists(hs.booleans(), min_size=cf.size, max_size=cf.size))).reshape(shape)
    return scn, make_state(scn, capacity_factor=cf, interdicted=itd_mask & (draw(hs.integers(0, 3)) == 0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_worlds(), hs.integers(0, 3))
def test_invariants_hold_on_random_tiny_worlds(world, seed) -> None:
    scn, state = world
    run = simulate_replication(scn, 0, seed, state=state)
    run.check()
    net = RouteNetwork.from_scenario(scn)
    c = run.convoys
    assert (c["tonnes"] > 0).all() and (c["tonnes"] <= scn.engine.convoy_t + 1e-9).all()
    assert c["tonnes"].sum() == pytest.approx(sum(run.meta["dispatched_t"].values()), rel=1e-9, abs=1e-9)
    cap = np.tile(net.capacity_tpd, scn.scenario.days) * run.routes["capacity_factor"].to_numpy()
    assert (run.routes["flow_t"].to_numpy() <= cap + 1e-9).all()
    assert np.array_equal(run.routes["state"].cat.codes.to_numpy(), state.state_code[0].ravel())
    assert (run.towns["stock_t"] >= 0).all()
    if scn.interdiction is None:
        assert run.events.empty and (c["fate"] != "intercepted").all()
    again = simulate_replication(scn, 0, seed, state=state)
    pd.testing.assert_frame_equal(run.convoys, again.convoys)


# --------------------------------------------------------------------------- dispatch rounds, sources, events
def test_nearest_source_serves_first_and_the_next_one_takes_over_when_it_runs_out() -> None:
    nodes = [node("s1", "source", supply_tpd=10.0), node("s2", "source", supply_tpd=100.0),
             node("t", "town", consumption_tpd=1000.0)]
    routes = [route("near", "s1", "t", capacity_tpd=200.0), route("far", "s2", "t", length_km=200.0, capacity_tpd=200.0)]
    scn = make_scenario(nodes, routes, days=3)
    run = simulate_replication(scn, state=make_state(scn))
    day0 = run.convoys[run.convoys["dispatched_day"] == 0]
    assert day0["source"].astype(str).tolist() == ["s1"] + ["s2"] * 10  # s1 is nearer; s2 takes over
    assert np.array_equal(_delivered(run), [110.0] * 3)
    assert run.meta["undispatched_t"] == {"s1": 0.0, "s2": 0.0}


def test_a_town_behind_a_route_that_filled_up_waits_for_the_next_round() -> None:
    # a (neediest) is reached over j-a, which carries one convoy a day, or a slower detour j-k-a;
    # b has its own route. Once j-a is full, a waits for the next round, and b gets the rest of the
    # supply first: the round's paths stay as they were when it began.
    nodes = [node("s", "source", supply_tpd=30.0), node("j"), node("k"),
             node("a", "town", consumption_tpd=100.0), node("b", "town", stock_t=50.0, consumption_tpd=100.0)]
    routes = [route("sj", "s", "j", capacity_tpd=100.0), route("ja", "j", "a", capacity_tpd=10.0),
              route("jk", "j", "k", length_km=40.0, capacity_tpd=100.0),
              route("ka", "k", "a", length_km=40.0, capacity_tpd=100.0), route("sb", "s", "b", capacity_tpd=100.0)]
    scn = make_scenario(nodes, routes, days=1)
    run = simulate_replication(scn, state=make_state(scn))
    assert run.convoys["town"].astype(str).tolist() == ["a", "b", "b"]
    assert run.meta["rounds"] == 0
    # with less for b, the supply left after the first round goes to a over the detour
    nodes[4] = node("b", "town", stock_t=50.0, consumption_tpd=100.0)
    scn = make_scenario(nodes, routes[:-1] + [route("sb", "s", "b", capacity_tpd=10.0)], days=1)
    run = simulate_replication(scn, state=make_state(scn))
    assert run.convoys["town"].astype(str).tolist() == ["a", "b", "a"]
    flows = run.routes.set_index("route")["flow_t"]
    assert flows["ja"] == 10.0 and flows["ka"] == 10.0 and flows["sb"] == 10.0 and run.meta["rounds"] == 1


def test_hops_within_the_day_a_convoy_leaves_are_one_timeout() -> None:
    # s - j1 - j2 - t, three one-hour hops: start, one timeout, end for each convoy
    nodes = [node("s", "source", supply_tpd=10.0), node("j1"), node("j2"), node("t", "town", consumption_tpd=100.0)]
    routes = [route("a", "s", "j1"), route("b", "j1", "j2"), route("c", "j2", "t")]
    scn = make_scenario(nodes, routes, days=4)
    run = simulate_replication(scn, state=make_state(scn))
    assert len(run.convoys) == 4 and (run.convoys["arrived_day"] == run.convoys["dispatched_day"]).all()
    nodes[0] = node("s", "source", supply_tpd=0.0)
    idle = simulate_replication(make_scenario(nodes, routes, days=4), state=make_state(scn))  # the days alone
    assert run.event_count == idle.event_count + 3 * len(run.convoys)
    # a checkpoint on the way still stops a convoy where it stands
    nodes[0] = node("s", "source", supply_tpd=10.0)
    nodes[2] = node("j2", "town", consumption_tpd=0.0)
    itd = {"checkpoints": [{"town": "j2", "stop_probability": 1.0, "start": START}]}
    scn = make_scenario(nodes, routes, days=2, interdiction=itd)
    run = simulate_replication(scn, state=make_state(scn))
    c = run.convoys
    assert (c["fate"] == "intercepted").all() and (c["reason"] == "checkpoint").all()
    assert (c["end_day"] == c["dispatched_day"]).all()
    flows = run.routes.pivot(index="day", columns="route", values="flow_t")
    assert (flows["a"] == 10.0).all() and (flows["b"] == 10.0).all() and (flows["c"] == 0.0).all()


# ---------------------------------------------------------------- the engine's parts
def test_no_engine_part_imports_the_engine_module() -> None:
    # engine.py composes the others: none of them imports it, not even for type hints
    import ast
    from pathlib import Path

    import qalamoun_sim.engine as package

    for path in Path(package.__file__).parent.glob("*.py"):
        if path.name in ("engine.py", "__init__.py"):
            continue
        for n in ast.walk(ast.parse(path.read_text())):
            if isinstance(n, ast.ImportFrom):
                target = "." * n.level + (n.module or "")
                assert target not in (".engine", "qalamoun_sim.engine.engine", "qalamoun_sim.engine"), path.name
                assert not (target == "." and any(a.name == "engine" for a in n.names)), path.name


def test_convoy_rules_are_frozen(line_scenario) -> None:
    import dataclasses

    from qalamoun_sim.engine import Engine

    scn = line_scenario(days=2)
    eng = Engine(scn, RouteNetwork.from_scenario(scn), make_state(scn), 7, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        eng.rules.policy = "wait"  # type: ignore[misc]
    assert not eng.rules.interdicted.flags.writeable


def test_day_network_takes_queues_and_gives_back_capacity(line_scenario) -> None:
    import simpy

    from qalamoun_sim.engine.day_network import CLOSED, DayNetwork

    scn = line_scenario(capacity=40.0, days=3)
    net = RouteNetwork.from_scenario(scn)
    env = simpy.Environment()
    day = DayNetwork(env, net, make_state(scn, capacity_factor=[[1.0], [1.0], [0.0]]),
                     {nid: i for i, nid in enumerate(net.nodes)}, [0], [])
    day.start_day(0)
    assert day.usable(0) and day.take(0, 30.0) is None and day.budget == [10.0]
    ev = day.take(0, 30.0)  # 10 t now, 20 t queued
    assert ev is not None and not ev.triggered and day.budget == [0.0] and day.filled == [0]
    day.release({0}, 0, 30.0)  # a booking given back: the queue is served from it
    assert ev.triggered and ev.value != CLOSED and day.budget == [10.0]
    late = day.take(0, 50.0)  # 10 t now, 40 t from tomorrow's budget
    assert late is not None
    day.close_day()
    day.start_day(1)
    assert late.triggered and day.budget == [0.0]
    closed = day.take(0, 5.0)
    day.close_day()
    day.start_day(2)  # the route closed overnight: the queued convoy is told so
    assert closed is not None and closed.value == CLOSED and not day.usable(0)
    day.close_day()
    assert day.flow()[:, 0].tolist() == [40.0, 40.0, 0.0]
