"""The engine pauses Python's cyclic garbage collector while it builds and runs, and leaves it as it found it."""

from __future__ import annotations

import gc

import pytest

from qalamoun_sim import load_scenario
from qalamoun_sim.engine import Engine, simulate_replication
from qalamoun_sim.engine.engine import _cyclic_gc_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_a_replication_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        simulate_replication(load_scenario(), 0)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_the_pause_ends_even_when_the_work_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_the_engine_is_built_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    build = Engine._build_parts

    def spy(self, *args):
        seen.append(gc.isenabled())
        return build(self, *args)

    monkeypatch.setattr(Engine, "_build_parts", spy)
    simulate_replication(load_scenario(), 0)
    assert seen == [False] and gc.isenabled()
