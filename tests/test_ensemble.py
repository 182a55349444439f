"""Ensembles at scale (issue 6): backends, chunking, resume, atomic writes and the lazy reader.

Every comparison is against a plain serial run held in memory; the scenario is the bundled default
cut to 40 days, so a replication costs a few hundredths of a second.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qalamoun_sim
from qalamoun_sim.ensemble import (
    TABLES,
    BackendError,
    Ensemble,
    finished_chunks,
    plan_chunks,
    run_ensemble,
    simulate_chunk,
)
from qalamoun_sim.ensemble.folder import chunk_rel
from qalamoun_sim.errors import ResultsError
from qalamoun_sim.io import write_parquet
from qalamoun_sim.network import RouteNetwork
from qalamoun_sim.scenario import load_scenario, scenario_hash

SEED = 11
N = 6
DAYS = 40

# Keys that identify one row of each table (used to check nothing is missing or duplicated).
ROW_KEYS = {"routes": ["replication", "day", "route"], "towns": ["replication", "day", "town"],
            "convoys": ["replication", "id"], "weather": ["replication", "day", "elevation_m"]}


# --------------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def scn():
    return load_scenario().with_updates({"scenario.days": DAYS})


@pytest.fixture(scope="module")
def reference(scn):
    """N replications, serial, one chunk, in memory."""
    return run_ensemble(scn, N, SEED, backend="serial", chunk_size=N)


@pytest.fixture(scope="module")
def reference8(scn):
    """8 replications, serial, in memory (the resume tests)."""
    return run_ensemble(scn, 8, SEED, backend="serial", chunk_size=8)


@pytest.fixture(scope="module")
def folder_ens(scn, tmp_path_factory):
    """N replications written to a folder in chunks of 4 (two chunks, the second short)."""
    out = tmp_path_factory.mktemp("ens") / "out"
    return run_ensemble(scn, N, SEED, backend="serial", chunk_size=4, out=out)


def assert_same_tables(a: Ensemble, b: Ensemble) -> None:
    """All five tables equal, row for row: values, columns, order and dtypes."""
    for t in TABLES:
        pd.testing.assert_frame_equal(a.table(t).reset_index(drop=True), b.table(t).reset_index(drop=True), obj=t)


def assert_complete(ens: Ensemble, n: int, days: int) -> None:
    """Every replication 0..n-1 present once: no chunk missing, none duplicated."""
    for t in TABLES:
        df = ens.table(t)
        if t in ROW_KEYS:
            assert not df.duplicated(ROW_KEYS[t]).any(), f"{t}: duplicated rows"
        if t != "events":
            assert sorted(df["replication"].unique()) == list(range(n)), t
    w = ens.table("weather")
    bands = w["elevation_m"].nunique()
    assert (w.groupby("replication").size() == days * bands).all()
    assert len(w) == n * days * bands


def chunk_files(folder: Path) -> dict[str, int]:
    """Chunk file (``towns/chunk-00000.parquet``) -> modification time (ns)."""
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.glob("*/chunk-*.parquet"))}


def tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def raise_after(chunks: int) -> Callable[[int], None]:
    """A progress callback that raises KeyboardInterrupt after ``chunks`` finished chunks."""
    calls = []

    def progress(k: int) -> None:
        calls.append(k)
        if len(calls) >= chunks:
            raise KeyboardInterrupt

    return progress


# --------------------------------------------------------------------------- same results everywhere
@pytest.mark.parametrize(("backend", "workers", "chunk_size"), [
    ("serial", None, 1),
    ("serial", None, 4),
    ("processes", 2, 1),
    ("processes", 1, 4),
    ("processes", 2, None),
    ("dask", 2, 2),
])
@pytest.mark.slow
def test_backends_chunk_sizes_and_worker_counts_give_equal_tables(scn, reference, backend, workers, chunk_size):
    ens = run_ensemble(scn, N, SEED, backend=backend, workers=workers, chunk_size=chunk_size)
    assert_same_tables(reference, ens)
    pd.testing.assert_frame_equal(reference.summary(), ens.summary())
    assert ens.event_count == reference.event_count > 0


@pytest.fixture(scope="module")
def true_event_count(scn):
    """SimPy events of replications 0..N-1, counted one replication at a time."""
    from qalamoun_sim.engine import simulate_replication

    return sum(simulate_replication(scn, r, SEED).event_count for r in range(N))


def test_event_count_of_one_replication_chunks(scn, true_event_count):
    ens = run_ensemble(scn, N, SEED, backend="serial", chunk_size=1)
    assert ens.event_count == true_event_count > 0


@pytest.mark.parametrize("out", [False, True], ids=["memory", "folder"])
def test_event_count_does_not_depend_on_chunk_size(scn, true_event_count, tmp_path, out):
    ens = run_ensemble(scn, N, SEED, backend="serial", chunk_size=3, out=tmp_path / "out" if out else None)
    per_rep = ens.summary().groupby("replication")["event_count"].first()
    assert int(per_rep.sum()) == true_event_count
    assert ens.event_count == true_event_count


@pytest.mark.slow
def test_dask_existing_scheduler_gives_equal_tables(scn, reference):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        ens = run_ensemble(scn, N, SEED, backend="dask", scheduler=cluster.scheduler_address, chunk_size=3)
        assert cluster.scheduler_info["workers"], "the run must not shut down a cluster it did not start"
    assert_same_tables(reference, ens)


def test_a_replication_is_the_same_in_any_chunk(scn, reference):
    got = simulate_chunk(scn, SEED, 3, 5)["tables"]
    for t in TABLES:
        ref = reference.table(t)
        want = ref[ref["replication"].isin([3, 4])].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[t], want, obj=t)


def test_the_seed_matters(scn, reference):
    # Guards the equality tests above: they would pass trivially if the seed were ignored.
    other = run_ensemble(scn, 2, SEED + 1, backend="serial")
    w_ref = reference.table("weather")
    w_ref = w_ref[w_ref["replication"] < 2].reset_index(drop=True)
    assert not np.allclose(w_ref["precipitation_mm"], other.table("weather")["precipitation_mm"])
    # ... and replications differ from one another.
    w = reference.table("weather")
    assert not np.allclose(w[w["replication"] == 0]["precipitation_mm"].to_numpy(),
                           w[w["replication"] == 1]["precipitation_mm"].to_numpy())


def test_in_memory_ensemble_is_complete(reference):
    assert_complete(reference, N, DAYS)
    assert reference.replications == N


# --------------------------------------------------------------------------- interrupt and resume
@pytest.mark.slow
def test_interrupted_run_resumes_to_the_uninterrupted_result(scn, reference8, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_ensemble(scn, 8, SEED, backend="serial", chunk_size=2, out=out, progress=raise_after(2))
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["chunks"] == 4 and meta["chunks_done"] == 2
    assert finished_chunks(out) == {0, 1}
    kept = chunk_files(out)
    assert sorted(kept) == sorted(chunk_rel(i, t) for i in (0, 1) for t in (*TABLES, "summary"))
    assert not tmp_files(out)

    seen: list[int] = []
    ens = run_ensemble(scn, 8, SEED, backend="processes", workers=2, chunk_size=3,  # chunk size: the folder's
                       out=out, resume=True, progress=seen.append)
    assert seen[0] == 4 and sum(seen) == 8, "progress starts at the replications already done"
    after = chunk_files(out)
    assert {k: after[k] for k in kept} == kept, "finished chunks must not be rewritten"
    assert finished_chunks(out) == {0, 1, 2, 3}
    assert len(after) == 4 * (len(TABLES) + 1)
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "complete" and meta["chunks_done"] == 4 and meta["chunk_size"] == 2
    assert_complete(ens, 8, DAYS)
    assert_same_tables(reference8, ens)
    assert_same_tables(reference8, Ensemble(out))
    assert not tmp_files(out)


@pytest.mark.slow
def test_interrupted_process_pool_keeps_finished_chunks(scn, reference8, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_ensemble(scn, 8, SEED, backend="processes", workers=2, chunk_size=1, out=out, progress=raise_after(1))
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "interrupted"
    done = finished_chunks(out)
    assert len(done) >= 1 and meta["chunks_done"] == len(done)
    assert not tmp_files(out)
    ens = run_ensemble(scn, 8, SEED, backend="serial", out=out, resume=True)
    assert_complete(ens, 8, DAYS)
    assert_same_tables(reference8, ens)


def test_resume_redoes_a_chunk_with_a_missing_table(scn, reference, tmp_path):
    out = tmp_path / "out"
    run_ensemble(scn, N, SEED, backend="serial", chunk_size=2, out=out)
    for name in ("routes", "summary"):
        (out / chunk_rel(1, name)).unlink()
    assert finished_chunks(out) == {0, 2}
    before = chunk_files(out)
    ens = run_ensemble(scn, N, SEED, backend="serial", out=out, resume=True)
    after = chunk_files(out)
    assert finished_chunks(out) == {0, 1, 2}
    for i in (0, 2):
        for t in (*TABLES, "summary"):
            name = chunk_rel(i, t)
            assert after[name] == before[name]
    assert_complete(ens, N, DAYS)
    assert_same_tables(reference, ens)


def test_resume_of_a_complete_folder_recomputes_nothing(scn, reference, tmp_path):
    out = tmp_path / "out"
    run_ensemble(scn, N, SEED, backend="serial", chunk_size=3, out=out)
    before = chunk_files(out)
    seen: list[int] = []
    ens = run_ensemble(scn, N, SEED, backend="serial", out=out, resume=True, progress=seen.append)
    assert chunk_files(out) == before
    assert seen == [N]
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"
    assert_same_tables(reference, ens)


# --------------------------------------------------------------------------- refused resumes
@pytest.fixture
def made(scn, tmp_path):
    """A complete folder: 4 replications, seed SEED, chunks of 2."""
    out = tmp_path / "out"
    run_ensemble(scn, 4, SEED, backend="serial", chunk_size=2, out=out)
    return out


@pytest.mark.parametrize(("change", "message"), [
    ("scenario", "different scenario"),
    ("seed", "seed"),
    ("replications", "replication count"),
])
def test_mismatched_resume_is_refused_and_leaves_the_folder_alone(scn, made, change, message):
    kwargs = {"scenario": scn, "replications": 4, "seed": SEED}
    if change == "scenario":
        kwargs["scenario"] = scn.with_updates({"scenario.days": DAYS - 1})
    elif change == "seed":
        kwargs["seed"] = SEED + 1
    else:
        kwargs["replications"] = 5
    summary = (made / "summary.json").read_text()
    files = chunk_files(made)
    with pytest.raises(ResultsError, match=message) as info:
        run_ensemble(**kwargs, backend="serial", out=made, resume=True)
    text = str(info.value)
    assert "\n" not in text and str(made) in text
    assert (made / "summary.json").read_text() == summary
    assert chunk_files(made) == files


def test_resume_without_a_folder_is_refused(scn, tmp_path):
    with pytest.raises(ResultsError, match="nothing to resume"):
        run_ensemble(scn, 2, SEED, out=tmp_path / "missing", resume=True)
    assert not (tmp_path / "missing").exists()
    with pytest.raises(ResultsError, match="--out"):
        run_ensemble(scn, 2, SEED, resume=True)


def test_non_empty_folder_without_resume_is_refused(scn, made):
    summary = (made / "summary.json").read_text()
    with pytest.raises(ResultsError, match="not empty"):
        run_ensemble(scn, 4, SEED, out=made)
    assert (made / "summary.json").read_text() == summary
    other = made.parent / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError, match="not empty"):
        run_ensemble(scn, 4, SEED, out=other)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_an_existing_empty_folder_is_used(scn, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    ens = run_ensemble(scn, 2, SEED, out=out)
    assert ens.replications == 2 and finished_chunks(out)


# --------------------------------------------------------------------------- bad settings
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"replications": 0}, "replications"),
    ({"replications": -3}, "replications"),
    ({"workers": 0}, "workers"),
    ({"workers": -1}, "workers"),
    ({"backend": "threads"}, "backend"),
    ({"scheduler": "tcp://127.0.0.1:1"}, "scheduler"),
])
def test_bad_settings_raise_backend_error(scn, tmp_path, kwargs, message):
    args = {"replications": 2, **kwargs}
    with pytest.raises(BackendError, match=message) as info:
        run_ensemble(scn, seed=SEED, out=tmp_path / "out", **args)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists(), "nothing written for refused settings"


@pytest.mark.parametrize(("n", "size"), [(0, 1), (3, 0), (-1, 2)])
def test_plan_chunks_refuses_non_positive(n, size):
    with pytest.raises(BackendError):
        plan_chunks(n, size)


@pytest.mark.parametrize(("n", "size"), [(1, 1), (7, 3), (10, 10), (10, 50), (101, 7)])
def test_plan_chunks_cover_every_replication_once(n, size):
    chunks = plan_chunks(n, size)
    reps = [r for c in chunks for r in range(c.start, c.stop)]
    assert reps == list(range(n))
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(1 <= c.size <= size for c in chunks)


# --------------------------------------------------------------------------- atomic writes, summary.json
def test_no_temporary_files_and_summary_records_the_run(scn, folder_ens):
    out = folder_ens.folder
    assert not tmp_files(out)
    meta = json.loads((out / "summary.json").read_text())
    assert meta["scenario"]["hash"] == scenario_hash(scn)
    assert meta["seed"] == SEED and meta["replications"] == N
    assert meta["version"] == qalamoun_sim.__version__
    assert meta["status"] == "complete" and meta["chunks"] == meta["chunks_done"] == 2
    assert meta["event_count"] == folder_ens.event_count > 0
    # the resolved scenario written beside the tables is the one that was run
    assert scenario_hash(Ensemble(out).scenario) == scenario_hash(scn)


def test_summary_json_is_strict_json(folder_ens):
    # towns never captured have no captured_day_p50: null, not the bare token NaN (not JSON, RFC 8259)
    text = (folder_ens.folder / "summary.json").read_text()

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    json.loads(text, parse_constant=refuse)


def test_a_failed_write_leaves_no_temporary_file_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "t.parquet"
    write_parquet(pd.DataFrame({"a": [1, 2]}), path)
    bad = pd.DataFrame({"a": [object()]})  # pyarrow cannot write a bare object
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises
        write_parquet(bad, path)
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]
    assert sorted(os.listdir(tmp_path)) == ["t.parquet"]


# --------------------------------------------------------------------------- the reader
def test_folder_reads_back_the_in_memory_tables(reference, folder_ens):
    back = Ensemble(folder_ens.folder)
    assert_same_tables(reference, back)
    assert_complete(back, N, DAYS)
    pd.testing.assert_frame_equal(reference.summary(), back.summary())
    pd.testing.assert_frame_equal(reference.town_report(), back.town_report())
    assert back.event_count == folder_ens.event_count == reference.event_count
    assert back.replications == N and back.seed == SEED
    assert back.table("towns", columns=["replication", "town"]).columns.tolist() == ["replication", "town"]


def test_dates_survive_parquet(reference, folder_ens):
    # Parquet has no second unit: in-memory dates in datetime64[s] would come back as datetime64[ms]
    back = Ensemble(folder_ens.folder)
    for t in ("routes", "towns", "weather", "events"):
        assert back.table(t)["date"].dtype == reference.table(t)["date"].dtype, t


def test_returned_ensemble_meta_is_the_final_summary(folder_ens):
    on_disk = json.loads((folder_ens.folder / "summary.json").read_text())
    assert on_disk["status"] == "complete"
    assert folder_ens.meta["status"] == "complete"
    assert folder_ens.meta == on_disk


def test_not_a_results_folder(tmp_path, folder_ens):
    with pytest.raises(ResultsError, match="summary.json"):
        Ensemble(tmp_path)
    with pytest.raises(KeyError, match="nope"):
        Ensemble(folder_ens.folder).table("nope")


def _check_bands(bands: pd.DataFrame, by: str, raw: pd.DataFrame, value: str, keys: int) -> None:
    assert list(bands.columns) == [by, "day", "p05", "p50", "p95"]
    assert len(bands) == keys * DAYS
    assert not bands.duplicated([by, "day"]).any()
    assert (bands["p05"] <= bands["p50"] + 1e-12).all() and (bands["p50"] <= bands["p95"] + 1e-12).all()
    # independent figures for a few (key, day) cells
    for (k, d) in [(bands[by].iloc[0], 0), (bands[by].iloc[-1], DAYS - 1), (bands[by].iloc[len(bands) // 2], 20)]:
        vals = raw.loc[(raw[by] == k) & (raw["day"] == d), value].to_numpy()
        assert len(vals) == N
        row = bands[(bands[by] == k) & (bands["day"] == d)].iloc[0]
        assert row[["p05", "p50", "p95"]].to_numpy(float) == pytest.approx(np.quantile(vals, [0.05, 0.5, 0.95]))


@pytest.mark.parametrize("which", ["memory", "folder"])
def test_town_and_route_bands(scn, reference, folder_ens, which):
    ens = reference if which == "memory" else Ensemble(folder_ens.folder)
    net = RouteNetwork.from_scenario(scn)
    n_towns = len([n for n in scn.nodes if n.kind == "town"])
    for value in ("delivered_t", "stock_t"):
        _check_bands(ens.town_bands(value), "town", reference.table("towns"), value, n_towns)
    for value in ("flow_t", "snow_depth_cm"):
        _check_bands(ens.route_bands(value), "route", reference.table("routes"), value, net.n_routes)
    assert (ens.town_bands("stock_t")["p05"] >= 0).all()


def test_share_bands(scn, reference, folder_ens):
    bands = Ensemble(folder_ens.folder).share_bands()
    pd.testing.assert_frame_equal(bands, reference.share_bands())
    assert list(bands.columns) == ["day", "p05", "p50", "p95"]
    assert bands["day"].tolist() == list(range(DAYS))
    assert ((bands["p05"] >= -1e-12) & (bands["p95"] <= 1 + 1e-12)).all()
    assert (bands["p05"] <= bands["p50"] + 1e-12).all() and (bands["p50"] <= bands["p95"] + 1e-12).all()
    # an independent figure: the capacity share cut on the last day, per replication
    net = RouteNetwork.from_scenario(scn)
    mask = net.corridor_mask(scn.claim.corridor)
    caps = dict(zip(np.asarray(net.route_ids)[mask], np.asarray(net.capacity_tpd)[mask], strict=True))
    r = reference.table("routes")
    r = r[(r["day"] == DAYS - 1) & r["route"].isin(list(caps))]
    share = r.groupby("replication").apply(
        lambda g: 1 - (g["capacity_factor"] * g["route"].astype(str).map(caps)).sum() / sum(caps.values()),
        include_groups=False)
    assert len(share) == N
    want = np.quantile(share.to_numpy(), [0.05, 0.5, 0.95])
    assert bands.iloc[-1][["p05", "p50", "p95"]].to_numpy(float) == pytest.approx(want)
    # the default scenario's corridor is cut by something on some day of the 40
    assert bands["p95"].max() > 0


def test_a_folder_left_without_finished_chunks_is_reused(scn, tmp_path):
    """An unreachable scheduler leaves summary.json and no chunk: the next run may use the folder."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"status": "failed"}')
    ens = run_ensemble(scn, 2, SEED, out=out)
    assert ens.meta["status"] == "complete" and ens.summary()["replication"].nunique() == 2


def test_chunk_size_below_one_is_refused(scn, tmp_path):
    with pytest.raises(BackendError, match="chunk_size"):
        run_ensemble(scn, 2, SEED, chunk_size=0, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_resume_removes_temporary_files_of_a_hard_kill(scn, made):
    stale = made / "routes" / ".chunk-00001.parquet.abc.tmp"
    stale.write_bytes(b"half a file")
    run_ensemble(scn, 4, SEED, out=made, resume=True)
    assert not stale.exists() and not tmp_files(made)


@pytest.mark.slow
def test_a_tls_scheduler_works_with_the_security_configuration_the_user_gives(scn, reference, tmp_path):
    """``--scheduler tls://...``: the client takes dask's ``distributed.comm.tls`` configuration (issue 17)."""
    import shutil
    import subprocess

    import dask
    from dask.distributed import LocalCluster
    from distributed.security import Security

    if not shutil.which("openssl"):
        pytest.skip("openssl makes the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    pem = {"tls_ca_file": str(cert)} | {f"tls_{who}_{part}": str(cert if part == "cert" else key)
                                       for who in ("scheduler", "worker", "client") for part in ("cert", "key")}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, protocol="tls://", host="127.0.0.1",
                      security=Security(**pem, require_encryption=True), dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        config = {"distributed.comm.tls.ca-file": str(cert), "distributed.comm.tls.client.cert": str(cert),
                  "distributed.comm.tls.client.key": str(key), "distributed.comm.require-encryption": True}
        with dask.config.set(config):
            ens = run_ensemble(scn, N, SEED, backend="dask", scheduler=cluster.scheduler_address, chunk_size=3)
    assert_same_tables(reference, ens)
