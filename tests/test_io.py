"""Atomic writes leave either the whole new file or nothing, whatever interrupts them."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalamoun_sim.io import atomic_write, read_json, write_json


@pytest.mark.parametrize("where", ["before the file exists", "after it is written"])
def test_an_interrupted_write_leaves_no_temporary_file_and_the_old_file(tmp_path: Path, where: str) -> None:
    target = tmp_path / "out.json"
    write_json({"v": 1}, target)

    def writer(tmp: Path) -> None:
        if where == "after it is written":
            tmp.write_text('{"v": 2}')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, writer)
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert read_json(target) == {"v": 1}


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.json"
    write_json({"v": 1}, target)
    write_json({"v": 2}, target)
    assert read_json(target) == {"v": 2}
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]
