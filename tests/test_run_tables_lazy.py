"""A run's tables are made on first access: a replication alone imports no pandas (nor networkx), and
reading or pickling a run gives the same frames as ever."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pandas as pd
import pytest

from qalamoun_sim import load_scenario
from qalamoun_sim.engine import TABLES, Run, simulate_replication


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


def test_a_replication_alone_imports_neither_pandas_nor_networkx_until_asked() -> None:
    code = ("import sys\n"
            "from qalamoun_sim.scenario.loader import load_scenario\n"
            "from qalamoun_sim.engine import simulate_replication\n"
            "from qalamoun_sim.network import RouteNetwork\n"
            "scn = load_scenario()\n"
            "net = RouteNetwork.from_scenario(scn)\n"
            "run = simulate_replication(scn, 0, network=net)\n"
            "before = [m for m in ('pandas', 'networkx') if m in sys.modules]\n"
            "n = len(run.convoys)\n"
            "tables = 'pandas' in sys.modules\n"
            "net.graph\n"
            "print(before, tables, 'networkx' in sys.modules, n > 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "True", "True", "True"]


def test_each_table_is_made_once_and_kept(scenario) -> None:
    run = simulate_replication(scenario, 1)
    for name in TABLES:
        first = getattr(run, name)
        assert isinstance(first, pd.DataFrame)
        assert getattr(run, name) is first
    assert run.tables() == {name: getattr(run, name) for name in TABLES}


def test_the_frames_do_not_depend_on_when_or_in_which_order_they_are_read(scenario) -> None:
    a = simulate_replication(scenario, 2)
    b = simulate_replication(scenario, 2)
    late = {name: getattr(b, name) for name in reversed(TABLES)}  # the other way round
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), late[name])


def test_a_pickled_run_carries_its_tables(scenario) -> None:
    run = simulate_replication(scenario, 0)
    back = pickle.loads(pickle.dumps(run))
    assert (back.replication, back.seed, back.event_count, back.meta) == (run.replication, run.seed,
                                                                          run.event_count, run.meta)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(run, name))


def test_a_run_takes_frames_or_builders() -> None:
    frame = pd.DataFrame({"day": [0, 1]})
    calls: list[str] = []

    def build() -> pd.DataFrame:
        calls.append("built")
        return frame

    run = Run(routes=build, towns=frame, convoys=frame, weather=frame, events=frame,
              replication=3, seed=7, event_count=0)
    assert calls == []
    assert run.routes is frame and run.routes is frame
    assert calls == ["built"]
    assert run.meta == {} and "replication=3" in repr(run)
