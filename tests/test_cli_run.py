"""``qalamoun-sim run`` at scale (issue 6): --out, --resume, Ctrl-C, bad settings, --json, progress on stderr.

Most cases call ``cli.main`` in this process; the ones about signals, stdout purity and terminals start
the installed console script.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pandas as pd
import pytest

from qalamoun_sim import cli
from qalamoun_sim.ensemble import TABLES, Ensemble, finished_chunks, run_ensemble
from qalamoun_sim.scenario import default_scenario_path, load_scenario

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"
_SCRIPT = Path(sys.executable).parent / "qalamoun-sim"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "qalamoun_sim.cli"]


def run_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``qalamoun-sim run ARGS`` in a fresh process: stdin closed, stdout and stderr pipes (not terminals)."""
    return subprocess.run([*COMMAND, "run", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``cli.main(["run", *args])`` in this process; argparse errors arrive as SystemExit."""
    try:
        rc = cli.main(["run", *args])
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(err: str) -> str:
    """The whole of stderr is one line naming the program, and no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qalamoun-sim: "), err
    return lines[0]


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity (not JSON per RFC 8259)."""
    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def assert_same_tables(a: Ensemble, b: Ensemble) -> None:
    for t in TABLES:
        pd.testing.assert_frame_equal(a.table(t).reset_index(drop=True), b.table(t).reset_index(drop=True), obj=t)


@pytest.fixture(scope="module")
def tiny_out(tmp_path_factory) -> Path:
    """A complete results folder of tiny.toml: 3 replications (the file's), its seed 7."""
    out = tmp_path_factory.mktemp("tiny") / "out"
    rc = cli.main(["run", str(TINY), "--out", str(out)])
    assert rc == 0
    return out


# --------------------------------------------------------------------------- --json and progress
def test_run_json_prints_one_object_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    r = run_cli(str(TINY), "--json", "--replications", "4", "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1, "one line on stdout"
    doc = json.loads(r.stdout)
    assert isinstance(doc, dict)
    assert doc["replications"] == 4 and doc["seed"] == 3 and doc["backend"] == "serial"
    assert doc["scenario"] == "tiny test network" and doc["out"] == str(out)
    assert {t["town"] for t in doc["towns"]} == {"town_a", "town_b"}
    assert r.stderr == ""
    assert finished_chunks(out)


def test_run_json_is_strict_json():
    # towns never captured or settled have no median day: null, not the bare token NaN (RFC 8259)
    r = run_cli(str(TINY), "--json", "--replications", "2")
    assert r.returncode == 0, r.stderr
    strict_json(r.stdout)


def test_progress_bar_hidden_when_stderr_is_not_a_terminal():
    r = run_cli(str(TINY), "--replications", "6")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "rep/s" not in r.stdout and "%|" not in r.stdout


def test_progress_bar_shown_when_stderr_is_a_terminal():
    # the other half of the test above: the bar exists, and goes to stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        p = subprocess.Popen([*COMMAND, "run", str(TINY), "--replications", "6"], stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL, text=True)
        os.close(slave)
        out, _ = p.communicate(timeout=90)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO once the child's end is closed and drained
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
    assert p.returncode == 0
    assert b"rep/s" in err or b"rep]" in err, err
    assert "rep/s" not in out


# --------------------------------------------------------------------------- Ctrl-C and --resume
@pytest.fixture(scope="module")
def scn90_file(tmp_path_factory) -> Path:
    """The default scenario cut to 60 days, as a file for the command line."""
    text = default_scenario_path().read_text()
    assert "\ndays = 181 " in text
    path = tmp_path_factory.mktemp("scn") / "qalamoun60.toml"
    path.write_text(text.replace("\ndays = 181 ", "\ndays = 60 ", 1))
    return path


KILL_N = 24   # serial default chunk size: ceil(24 / 4) = 6, so 4 chunks
KILL_SEED = 5


@pytest.fixture(scope="module")
def kill_reference(scn90_file):
    return run_ensemble(load_scenario(scn90_file), KILL_N, KILL_SEED, backend="serial")


def _start_and_interrupt(args: list[str], out: Path, group: bool) -> tuple[subprocess.Popen, str, float]:
    """Start ``run``, wait for the first finished chunk, send SIGINT (to the process group if ``group``)."""
    p = subprocess.Popen([*COMMAND, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True, start_new_session=group)
    marker = out / "chunks" / "chunk-00000-summary.parquet"  # the last file of chunk 0
    deadline = time.monotonic() + 60
    while not marker.exists():
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            pytest.fail(f"no chunk appeared (rc {p.poll()}): {p.stderr.read() if p.stderr else ''}")
        time.sleep(0.01)
    t0 = time.monotonic()
    if group:
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    else:
        p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL) if group else p.kill()
        raise
    return p, err, time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_sigint_keeps_finished_chunks_and_resume_completes(scn90_file, kill_reference, tmp_path, backend):
    out = tmp_path / "out"
    args = [str(scn90_file), "--replications", str(KILL_N), "--seed", str(KILL_SEED), "--backend", backend,
            "--out", str(out)]
    if backend == "processes":
        args += ["--workers", "2"]
    p, err, took = _start_and_interrupt(args, out, group=backend == "processes")
    assert p.returncode == 130, err
    assert took < 30
    line = one_line_error(err)
    assert "interrupted" in line and "--resume" in line and str(out) in line
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "interrupted"
    done = finished_chunks(out)
    assert 0 in done and len(done) < meta["chunks"], "interrupted after the first chunk, before the last"
    assert meta["chunks_done"] == len(done)
    kept = {q.name: q.stat().st_mtime_ns for q in (out / "chunks").glob("chunk-*.parquet")
            if int(q.name[6:11]) in done}
    assert not [q for q in out.rglob("*") if q.name.endswith(".tmp")]

    r = run_cli(*args, "--resume", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["replications"] == KILL_N
    for name, mtime in kept.items():
        assert (out / "chunks" / name).stat().st_mtime_ns == mtime, f"{name} was recomputed"
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "complete" and meta["chunks_done"] == meta["chunks"] == len(finished_chunks(out))
    back = Ensemble(out)
    w = back.table("weather")
    assert sorted(w["replication"].unique()) == list(range(KILL_N))
    assert not w.duplicated(["replication", "day"]).any() and len(w) == KILL_N * 60
    assert_same_tables(kill_reference, back)


# --------------------------------------------------------------------------- refused resumes and folders
@pytest.mark.parametrize(("extra", "message"), [
    (["--seed", "8"], "seed 7, not 8"),
    (["--replications", "4"], "replication count 3, not 4"),
])
def test_resume_with_other_settings_is_refused(capsys, tiny_out, extra, message):
    before = (tiny_out / "summary.json").read_text()
    rc, _, err = run_main(capsys, str(TINY), "--out", str(tiny_out), "--resume", *extra)
    assert rc == 2
    line = one_line_error(err)
    assert message in line and str(tiny_out) in line
    assert (tiny_out / "summary.json").read_text() == before


def test_resume_with_another_scenario_is_refused(capsys, tiny_out, tmp_path):
    other = tmp_path / "tiny2.toml"
    other.write_text(TINY.read_text().replace("supply_tpd = 50", "supply_tpd = 51", 1))
    assert other.read_text() != TINY.read_text()
    rc, _, err = run_main(capsys, str(other), "--out", str(tiny_out), "--resume")
    assert rc == 2
    assert "different scenario" in one_line_error(err)
    # the same scenario from another path is the same scenario
    same = tmp_path / "tiny_copy.toml"
    same.write_text(TINY.read_text())
    rc, _, err = run_main(capsys, str(same), "--out", str(tiny_out), "--resume")
    assert rc == 0, err


def test_resume_without_a_results_folder_is_refused(capsys, tmp_path):
    rc, _, err = run_main(capsys, str(TINY), "--out", str(tmp_path / "nope"), "--resume")
    assert rc == 2
    assert "nothing to resume" in one_line_error(err)
    assert not (tmp_path / "nope").exists()
    rc, _, err = run_main(capsys, str(TINY), "--resume")
    assert rc == 2
    assert "--out" in one_line_error(err)


def test_non_empty_out_without_resume_is_refused(capsys, tiny_out):
    before = sorted(p.name for p in (tiny_out / "chunks").iterdir())
    summary = (tiny_out / "summary.json").read_text()
    rc, _, err = run_main(capsys, str(TINY), "--out", str(tiny_out))
    assert rc == 2
    line = one_line_error(err)
    assert "not empty" in line and "--resume" in line
    assert sorted(p.name for p in (tiny_out / "chunks").iterdir()) == before
    assert (tiny_out / "summary.json").read_text() == summary


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args", [
    ["--replications", "0"],
    ["--replications", "-3"],
    ["--replications=-3"],
    ["--replications", "two"],
    ["--workers", "0"],
    ["--workers", "-2"],
    ["--backend", "threads"],
    ["--scheduler", "tcp://127.0.0.1:1"],  # only with --backend dask
])
def test_bad_settings_exit_2_with_one_line(capsys, tmp_path, args):
    rc, out, err = run_main(capsys, str(TINY), "--out", str(tmp_path / "out"), *args)
    assert rc == 2
    one_line_error(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_unreachable_scheduler_fails_in_bounded_time(tmp_path):
    t0 = time.monotonic()
    r = run_cli(str(TINY), "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1", "--json",
                "--out", str(tmp_path / "out"), timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 2
    line = one_line_error(r.stderr)
    assert "tcp://127.0.0.1:1" in line and "scheduler" in line
    assert r.stdout == ""
    assert took < 30, f"took {took:.1f} s"
