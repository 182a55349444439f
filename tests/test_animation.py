"""``animate``: an animated GIF of one winter (plotting/animation.py and the command)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_main

import qalamoun_sim as qs
from qalamoun_sim.plotting.animation import STATE_COLORS, animate_winter, winter_frames

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("anim") / "r"
    qs.run_ensemble(qs.load_scenario(), 2, seed=1, out=out)
    return out


def test_frames_follow_the_days(folder: Path) -> None:
    frames, what = winter_frames(folder, replication=1, every=30)
    assert what["replication"] == 1 and what["days"] == list(range(0, 181, 30))
    assert len(frames) == len(what["days"]) and frames[0].size == frames[-1].size
    assert str(what["dates"][0]) == "2013-11-01"
    assert set(STATE_COLORS) == {"open", "snow", "interdicted", "both"}


def test_gif_written_atomically(folder: Path, tmp_path: Path) -> None:
    path = animate_winter(folder, tmp_path / "w.gif", every=20, fps=4)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == len(range(0, 181, 20))
    assert [p.name for p in tmp_path.iterdir()] == ["w.gif"]


def test_bad_arguments(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="replication 5"):
        winter_frames(folder, replication=5)
    with pytest.raises(ValueError, match="every"):
        winter_frames(folder, every=0)


def test_command(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_main(capsys, "animate", str(folder), "--out", str(tmp_path / "x.gif"), "--every", "60")
    assert rc == 0, err
    assert out.strip().endswith("x.gif") and (tmp_path / "x.gif").stat().st_size > 1000
    rc, _, err = run_main(capsys, "animate", str(folder), "--out", str(tmp_path / "x.png"))
    assert rc == 2 and "GIF" in err and len(err.strip().splitlines()) == 1
    rc, _, err = run_main(capsys, "animate", str(folder), "--replication", "7", "--out", str(tmp_path / "y.gif"))
    assert rc == 2 and "replication 7" in err
