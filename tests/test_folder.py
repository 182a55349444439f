"""The results folder (issue 17): one writer, a manifest of every file, verified resumes and reads.

Every test builds its own folder from the tiny scenario (10 days, a few hundredths of a second a
replication) and then breaks it the way the issue found it broken: a second writer, a stray or
stale chunk, a truncated chunk or summary chunk, a damaged summary or manifest, a full disk.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from qalamoun_sim.ensemble import TABLES, Ensemble, Manifest, ResultsWarning, finished_chunks, run_ensemble
from qalamoun_sim.ensemble.ensemble import prepare_ensemble
from qalamoun_sim.ensemble.folder import CHUNK_TABLES, LOCK_NAME, ResultsFolder, chunk_rel
from qalamoun_sim.ensemble.manifest import MANIFEST, file_entry
from qalamoun_sim.errors import ResultsError, StorageError
from qalamoun_sim.scenario import load_scenario

TINY = Path(__file__).parent / "data" / "tiny.toml"
N, SEED, SIZE = 6, 3, 2   # three chunks of two


@pytest.fixture(scope="module")
def scn():
    return load_scenario(TINY)


@pytest.fixture(scope="module")
def reference(scn, tmp_path_factory):
    """The undisturbed run, read back from its folder (Parquet round trips an empty table's dtypes)."""
    return run_ensemble(scn, N, SEED, chunk_size=SIZE, out=tmp_path_factory.mktemp("ref") / "out")


@pytest.fixture
def made(scn, tmp_path) -> Path:
    out = tmp_path / "out"
    run_ensemble(scn, N, SEED, chunk_size=SIZE, out=out)
    return out


def assert_same_tables(a: Ensemble, b: Ensemble) -> None:
    for t in TABLES:
        pd.testing.assert_frame_equal(a.table(t).reset_index(drop=True), b.table(t).reset_index(drop=True), obj=t)
    pd.testing.assert_frame_equal(a.summary().reset_index(drop=True), b.summary().reset_index(drop=True))


def mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.glob("*/chunk-*.parquet"))}


def truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def resume(scn, out: Path) -> Ensemble:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ens = run_ensemble(scn, N, SEED, out=out, resume=True)
    resume.warnings = [str(w.message) for w in seen if issubclass(w.category, ResultsWarning)]  # type: ignore[attr-defined]
    return ens


# --------------------------------------------------------------------------- the manifest
def test_the_manifest_lists_every_file_with_size_hash_and_the_run(scn, made):
    doc = json.loads((made / MANIFEST).read_text())
    assert doc["seed"] == SEED and doc["replications"] == N and doc["chunk_size"] == SIZE
    assert doc["scenario"]["hash"] == json.loads((made / "summary.json").read_text())["scenario"]["hash"]
    assert doc["chunks"] == [[0, 2], [2, 4], [4, 6]]
    on_disk = {str(p.relative_to(made)) for p in made.rglob("*") if p.is_file()} - {LOCK_NAME, MANIFEST}
    assert set(doc["files"]) == on_disk
    for t in CHUNK_TABLES:  # a folder per table, a file per chunk in each
        assert sorted(f for f in on_disk if f.startswith(f"{t}/")) == [chunk_rel(i, t) for i in range(3)]
    assert doc["format"] == 2
    for rel, entry in doc["files"].items():
        assert entry == file_entry((made / rel).read_bytes()), rel


def test_a_damaged_manifest_is_one_line(made, scn):
    (made / MANIFEST).write_text('{"format": 2, "seed": ')
    with pytest.raises(ResultsError, match="manifest.json: damaged") as info:
        run_ensemble(scn, N, SEED, out=made, resume=True)
    assert "\n" not in str(info.value)
    (made / MANIFEST).write_text('{"format": 2, "seed": 3}')
    with pytest.raises(ResultsError, match="damaged"):
        Manifest.read(made)


# --------------------------------------------------------------------------- one writer
def test_a_second_writer_is_refused_while_the_first_holds_the_folder(scn, tmp_path):
    out = tmp_path / "out"
    with prepare_ensemble(scn, N, SEED, out=out, chunk_size=SIZE) as first:
        for kwargs in ({"resume": True}, {"overwrite": True}, {}):
            with pytest.raises(ResultsError, match="in use by another run") as info:
                run_ensemble(scn, N, SEED, out=out, **kwargs)
            assert "\n" not in str(info.value) and str(out) in str(info.value)
        ens = first.run()
    assert ens.summary()["replication"].nunique() == N
    run_ensemble(scn, N, SEED, out=out, resume=True)  # free again once the first is done


def test_two_writers_with_other_seeds_cannot_mix_a_folder(scn, tmp_path, reference):
    out = tmp_path / "out"
    with prepare_ensemble(scn, N, SEED, out=out, chunk_size=SIZE) as first:
        with pytest.raises(ResultsError, match="in use"):
            run_ensemble(scn, 4, SEED + 1, backend="processes", workers=1, out=out)
        first.run()
    back = Ensemble(out)
    assert_same_tables(reference, back)
    assert back.meta["seed"] == SEED and back.meta["status"] == "complete"


# --------------------------------------------------------------------------- resume verifies
@pytest.mark.parametrize("table", ["towns", "summary"])
def test_a_truncated_chunk_is_redone_on_resume(scn, made, reference, table):
    before = mtimes(made)
    victim = made / chunk_rel(1, table)
    truncate(victim)
    assert finished_chunks(made) == {0, 2}
    with pytest.raises(ResultsError, match=f"{table}/chunk-00001.parquet is damaged"):
        Ensemble(made).table(table) if table != "summary" else Ensemble(made).summary()
    ens = resume(scn, made)
    assert any("chunk-00001" in w and "truncated" in w for w in resume.warnings)  # type: ignore[attr-defined]
    after = mtimes(made)
    for i in (0, 2):
        for t in CHUNK_TABLES:
            name = chunk_rel(i, t)
            assert after[name] == before[name], f"{name} was rewritten"
    assert finished_chunks(made) == {0, 1, 2}
    assert_same_tables(reference, ens)
    towns = Ensemble(made).table("towns")
    assert not towns.duplicated(["replication", "town", "day"]).any()


def test_a_stale_chunk_from_another_run_is_refused_and_redone(scn, made, reference, tmp_path):
    other = tmp_path / "other"
    run_ensemble(scn, N, SEED + 1, chunk_size=SIZE, out=other)
    shutil.copy(other / chunk_rel(2, "towns"), made / chunk_rel(2, "towns"))  # same name, another seed
    with pytest.raises(ResultsError, match="towns/chunk-00002.parquet is damaged"):
        Ensemble(made).table("towns")
    ens = resume(scn, made)
    assert_same_tables(reference, ens)


def test_stray_files_are_ignored_by_the_reader_and_the_resume_and_named(scn, made, reference):
    stray = made / "towns" / "chunk-00007.parquet"   # no chunk 7 in a plan of three
    shutil.copy(made / chunk_rel(0, "towns"), stray)
    (made / "towns" / "notes.parquet").write_bytes(b"not mine")
    with pytest.warns(ResultsWarning, match="towns/chunk-00007.parquet"):
        back = Ensemble(made)
    assert_same_tables(reference, back)  # the copy of chunk 0 is not read twice
    ens = resume(scn, made)
    assert any("do not belong" in w and "notes.parquet" in w for w in resume.warnings)  # type: ignore[attr-defined]
    assert stray.exists(), "a file that is not ours is left alone"
    assert_same_tables(reference, ens)


def test_an_unlisted_chunk_file_of_the_plan_is_redone(scn, made, reference):
    """A hard kill after a chunk's file landed and before the manifest listed it."""
    m = Manifest.read(made)
    m.forget(chunk_rel(1, "weather"))
    m.write(made)
    assert finished_chunks(made) == {0, 2}
    ens = resume(scn, made)
    assert finished_chunks(made) == {0, 1, 2}
    assert_same_tables(reference, ens)


def test_a_damaged_summary_json_does_not_stop_a_resume(scn, made, reference):
    (made / "summary.json").write_text("{half")
    with pytest.raises(ResultsError, match="summary.json: damaged"):
        Ensemble(made)
    ens = resume(scn, made)
    assert ens.meta["status"] == "complete"
    assert_same_tables(reference, ens)


def test_a_folder_without_a_manifest_is_not_resumed(scn, made):
    (made / MANIFEST).unlink()
    with pytest.raises(ResultsError, match="no manifest.json"):
        run_ensemble(scn, N, SEED, out=made, resume=True)


# --------------------------------------------------------------------------- fresh runs and --overwrite
def test_overwrite_replaces_a_results_folder_and_nothing_else(scn, made, tmp_path):
    (made / "figures").mkdir()
    (made / "figures" / "keep.png").write_bytes(b"png")
    ens = run_ensemble(scn, 2, SEED + 5, out=made, overwrite=True)
    assert ens.meta["seed"] == SEED + 5 and ens.summary()["replication"].nunique() == 2
    assert (made / "figures" / "keep.png").exists()
    assert set(json.loads((made / MANIFEST).read_text())["files"]) == \
        {str(p.relative_to(made)) for p in made.rglob("*.parquet")} | {"scenario.json", "summary.json"}


def test_overwrite_refuses_a_folder_that_holds_no_results(scn, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(ResultsError, match="not a results folder"):
        run_ensemble(scn, 2, SEED, out=mine, overwrite=True)
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]


def test_resume_and_overwrite_exclude_each_other(scn, made):
    with pytest.raises(ResultsError, match="exclude each other"):
        run_ensemble(scn, N, SEED, out=made, resume=True, overwrite=True)
    with pytest.raises(ResultsError, match="--overwrite needs --out"):
        run_ensemble(scn, N, SEED, overwrite=True)


def test_out_naming_a_file_is_refused(scn, tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(ResultsError, match="is a file"):
        run_ensemble(scn, 2, SEED, out=f)
    with pytest.raises(ResultsError, match="Not a directory"):
        run_ensemble(scn, 2, SEED, out=f / "sub")
    assert f.read_text() == "x"


# --------------------------------------------------------------------------- the environment fails
def test_a_full_disk_is_a_storage_error_and_leaves_no_temporary_file(scn, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = os.replace
    calls = []

    def full(src, dst):
        calls.append(dst)
        if len(calls) == 8:  # a few files in: manifest, scenario, summary, chunk 0 ...
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StorageError, match="No space left on device") as info:
        run_ensemble(scn, N, SEED, chunk_size=SIZE, out=out)
    assert str(out) in str(info.value) and "\n" not in str(info.value)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(os, "replace", real)
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "failed"
    ens = run_ensemble(scn, N, SEED, out=out, resume=True)
    assert ens.summary()["replication"].nunique() == N


def test_a_folder_that_cannot_be_created_is_a_storage_error(scn, tmp_path, monkeypatch):
    def denied(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(StorageError, match="Permission denied"):
        run_ensemble(scn, 2, SEED, out=tmp_path / "new")


def test_the_lock_is_released_and_a_new_empty_folder_removed_when_the_backend_fails(scn, tmp_path, monkeypatch):
    from qalamoun_sim.ensemble import BackendError, ensemble

    def unreachable(*args):
        raise BackendError("--scheduler tcp://127.0.0.1:1: cannot reach a dask scheduler")

    monkeypatch.setattr(ensemble, "open_backend", unreachable)
    out = tmp_path / "new"
    with pytest.raises(BackendError, match="scheduler"):
        run_ensemble(scn, 2, SEED, backend="dask", out=out)
    assert not out.exists()
    made = tmp_path / "made"
    made.mkdir()
    with pytest.raises(BackendError):
        run_ensemble(scn, 2, SEED, backend="dask", out=made)
    monkeypatch.undo()
    run_ensemble(scn, 2, SEED, out=made)  # the lock was let go


def test_results_folder_open_is_refused_for_a_missing_folder_on_resume(tmp_path):
    with pytest.raises(ResultsError, match="nothing to resume"):
        ResultsFolder.open(tmp_path / "nope", {}, [], resume=True, overwrite=False)
    assert not (tmp_path / "nope").exists()
