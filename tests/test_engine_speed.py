"""The engine's fast paths give the same replication as its plain ones (issue 20).

Each switch the engine makes by size or by count -- compiled path search, one reverse reachability
search -- is forced both ways on small synthetic networks, and every table must come out the same.
"""

from __future__ import annotations

import pandas as pd
import pytest

from qalamoun_sim.engine import paths as paths_mod
from qalamoun_sim.engine import simulate_replication
from qalamoun_sim.engine.results import TABLES
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
