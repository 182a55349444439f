"""Route criticality: known answers on tiny networks, common random numbers, skipped routes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_scenario, node, route

from qalamoun_sim import compute_state, load_scenario, simulate_replication
from qalamoun_sim.analysis.critical import close_route, route_criticality

TINY = Path(__file__).parent / "data" / "tiny.toml"


@pytest.fixture(scope="module")
def tiny():
    return load_scenario(TINY).with_updates({"claim.corridor": "c"})


@pytest.fixture(scope="module")
def table(tiny):
    return route_criticality(tiny, replications=2, seed=3)


def test_max_flow_loss_known_answers(table) -> None:
    """tiny.toml: src -r0(40)-> jct -r1(30)-> town_a; src -r2(5)-> pass -r3(5)-> town_b; nominal 35 t/day."""
    loss = dict(zip(table["route"], table["max_flow_loss_tpd"], strict=True))
    assert loss == {"r0": 30.0, "r1": 30.0, "r2": 5.0, "r3": 5.0, "r4": 0.0}
    assert table.attrs["nominal_max_flow_tpd"] == 35.0
    share = dict(zip(table["route"], table["max_flow_loss_share"], strict=True))
    assert share["r0"] == pytest.approx(30 / 35, abs=1e-6)


def test_ranked_by_supply_lost(table) -> None:
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert (np.diff(table["delivered_loss_t"]) <= 1e-9).all()
    assert set(table.iloc[:2]["route"]) == {"r0", "r1"}  # the main track carries most
    assert table.attrs["baseline_delivered_t"] > 0
    assert ((table["snow_closed_share"] >= 0) & (table["snow_closed_share"] <= 1)).all()
    lo, mid, hi = table["delivered_loss_p05_t"], table["delivered_loss_t"], table["delivered_loss_p95_t"]
    assert ((lo <= mid + 1e-9) & (mid <= hi + 1e-9)).all()


def test_supply_lost_is_the_difference_of_runs_with_the_same_seeds(tiny, table) -> None:
    state = compute_state(tiny, 2, 3)
    base = [simulate_replication(tiny, k, 3, state=state.replication(k)).towns["delivered_t"].sum() for k in range(2)]
    cut = [simulate_replication(tiny, k, 3, state=close_route(state.replication(k), 0)).towns["delivered_t"].sum()
           for k in range(2)]
    row = table.set_index("route").loc["r0"]
    assert row["delivered_loss_t"] == pytest.approx(np.mean(base) - np.mean(cut))
    assert row["delivered_loss_share"] == pytest.approx(row["delivered_loss_t"] / np.mean(base))


def test_close_route_closes_only_that_route(tiny) -> None:
    state = compute_state(tiny, 1, 3)
    closed = close_route(state, 2)
    assert (closed.snow_capacity_factor[..., 2] == 0).all() and (closed.capacity_factor[..., 2] == 0).all()
    np.testing.assert_array_equal(np.delete(closed.snow_capacity_factor, 2, -1),
                                  np.delete(state.snow_capacity_factor, 2, -1))
    assert state.snow_capacity_factor[..., 2].max() > 0  # the original is untouched


def test_single_route_loses_everything() -> None:
    scn = make_scenario([node("s", "source", supply_tpd=20, corridor="k"), node("t", "town", consumption_tpd=50)],
                        [route("st", "s", "t", corridor="k")], days=8, claim={"corridor": "k"})
    t = route_criticality(scn, replications=1, seed=1)
    assert t.iloc[0]["delivered_loss_share"] == pytest.approx(1.0)
    assert t.iloc[0]["max_flow_loss_tpd"] == 40.0


def test_army_routes_lose_nothing_and_are_not_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    scn = make_scenario([node("s", "source", supply_tpd=20, corridor="k"), node("t", "town", consumption_tpd=50),
                         node("u", "town", consumption_tpd=5)],
                        [route("st", "s", "t", corridor="k"), route("tu", "t", "u", side="army")],
                        days=6, claim={"corridor": "k"})
    import qalamoun_sim.analysis.critical as crit

    calls: list[int | None] = []
    real = crit._outcome
    monkeypatch.setattr(crit, "_outcome", lambda *a: calls.append(a[-1]) or real(*a))
    t = crit.route_criticality(scn, replications=1, seed=1).set_index("route")
    assert t.loc["tu", "delivered_loss_t"] == 0.0
    assert calls == [None, 0]  # the baseline and route "st" only


def test_reproducible_and_workers_agree(tiny, table) -> None:
    again = route_criticality(tiny, replications=2, seed=3, workers=2)
    cols = ["route", "max_flow_loss_tpd", "delivered_loss_t", "captures_added", "snow_closed_share"]
    assert again[cols].equals(table[cols])


def test_claim_corridor_without_source_falls_back_with_a_warning() -> None:
    scn = load_scenario(TINY)  # its claim corridor is the default 'arsal', which has no source here
    with pytest.warns(UserWarning, match="corridor 'c'"):
        t = route_criticality(scn, replications=1, seed=1)
    assert t.attrs["corridor"] == "c"
    with pytest.raises(ValueError, match="no source"):
        route_criticality(scn, replications=1, seed=1, corridor="interior")
    with pytest.raises(ValueError, match="replications"):
        route_criticality(scn, replications=0)
