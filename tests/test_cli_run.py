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
    marker = out / "summary" / "chunk-00000.parquet"  # the last file of chunk 0
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
    kept = {q.relative_to(out).as_posix(): q.stat().st_mtime_ns for q in out.glob("*/chunk-*.parquet")
            if int(q.name[6:11]) in done}
    assert not [q for q in out.rglob("*") if q.name.endswith(".tmp")]

    r = run_cli(*args, "--resume", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["replications"] == KILL_N
    for name, mtime in kept.items():
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was recomputed"
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "complete" and meta["chunks_done"] == meta["chunks"] == len(finished_chunks(out))
    back = Ensemble(out)
    w = back.table("weather")
    assert sorted(w["replication"].unique()) == list(range(KILL_N))
    bands = w["elevation_m"].nunique()
    assert not w.duplicated(["replication", "day", "elevation_m"]).any() and len(w) == KILL_N * 60 * bands
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
    before = sorted(p.relative_to(tiny_out).as_posix() for p in tiny_out.glob("*/*"))
    summary = (tiny_out / "summary.json").read_text()
    rc, _, err = run_main(capsys, str(TINY), "--out", str(tiny_out))
    assert rc == 2
    line = one_line_error(err)
    assert "not empty" in line and "--resume" in line
    assert sorted(p.relative_to(tiny_out).as_posix() for p in tiny_out.glob("*/*")) == before
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


# --------------------------------------------------------------------------- results you can trust (issue 17)
def test_a_second_writer_gets_one_line_and_exit_2_and_nothing_printed(tmp_path):
    from qalamoun_sim.ensemble import prepare_ensemble

    out = tmp_path / "out"
    with prepare_ensemble(load_scenario(TINY), 3, 7, out=out) as first:
        for extra in ([], ["--resume"], ["--overwrite"]):
            r = run_cli(str(TINY), "--out", str(out), *extra)
            assert r.returncode == 2, r.stderr
            assert "in use by another run" in one_line_error(r.stderr)
            assert r.stdout == "", "refused before the network report"
        first.run()
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"


def test_overwrite_replaces_a_finished_run(capsys, tmp_path):
    out = tmp_path / "out"
    assert run_main(capsys, str(TINY), "--out", str(out), "--seed", "1")[0] == 0
    rc, _, err = run_main(capsys, str(TINY), "--out", str(out), "--seed", "2", "--overwrite", "--json")
    assert rc == 0, err
    assert Ensemble(out).meta["seed"] == 2
    rc, _, err = run_main(capsys, str(TINY), "--out", str(out), "--resume", "--overwrite")
    assert rc == 2 and "not allowed with argument" in one_line_error(err)


@pytest.mark.parametrize("args", [
    ["--scheduler", "tcp://127.0.0.1:1"],  # only with --backend dask
    ["--resume"],                          # needs --out
    ["--overwrite"],                       # needs --out
    ["--replications", "10000001"],
])
def test_arguments_are_checked_before_anything_is_printed(capsys, args):
    rc, out, err = run_main(capsys, str(TINY), *args)
    assert rc == 2
    one_line_error(err)
    assert out == ""


def test_out_naming_a_file_is_one_line_exit_2(capsys, tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    rc, out, err = run_main(capsys, str(TINY), "--out", str(f))
    assert rc == 2 and out == "" and "is a file" in one_line_error(err)


def test_a_full_disk_is_one_line_exit_1_naming_the_path(capsys, tmp_path, monkeypatch):
    import errno

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    out = tmp_path / "out"
    rc, _, err = run_main(capsys, str(TINY), "--out", str(out))
    assert rc == 1
    line = one_line_error(err)
    assert "No space left on device" in line and str(out) in line
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_plot_writes_figures_atomically_and_a_full_disk_is_exit_1(capsys, tiny_out, tmp_path, monkeypatch):
    import errno

    real = os.replace

    def full(src, dst):
        if str(dst).endswith(".png"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    figs = tmp_path / "figs"
    rc = cli.main(["plot", str(tiny_out), "--out", str(figs)])
    _, err = capsys.readouterr()
    assert rc == 1 and "No space left on device" in one_line_error(err)
    assert not list(figs.glob("*.png")) and not list(figs.glob(".*.tmp")), "no half a PNG, no temporary file"


def _break_replay_after_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scenario validates with a good replay file; the file breaks before the workers read it."""
    from qalamoun_sim.cli import run as run_module

    csv = tmp_path / "wx.csv"
    scn = load_scenario(TINY)
    csv.write_text("date,temperature_c,precipitation_mm\n" + "".join(f"{d},-2,1\n" for d in scn.dates))
    toml = tmp_path / "s.toml"
    toml.write_text(TINY.read_text().replace("[scenario]", f'[weather]\nreplay_csv = "{csv}"\n\n[scenario]', 1))
    real_load = run_module.load

    def load_then_break(path):
        loaded = real_load(path)
        with open(csv, "a") as fh:
            fh.write(f"{scn.dates[0]},5,5\n")  # a duplicate date: line 12
        return loaded

    monkeypatch.setattr(run_module, "load", load_then_break)
    return toml


@pytest.mark.parametrize("backend", ["processes", pytest.param("dask", marks=pytest.mark.slow)])
def test_an_input_error_in_a_worker_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, backend):
    toml = _break_replay_after_validation(tmp_path, monkeypatch)
    out = tmp_path / "out"
    rc, _, err = run_main(capsys, str(toml), "--backend", backend, "--workers", "2", "--out", str(out), "--json")
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err  # no log noise from dask either
    assert err.startswith(f"{tmp_path / 'wx.csv'}: line 12, date: duplicate date"), err
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"


def _children(pid: int) -> list[int]:
    r = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


def _alive(pids: list[int], within: float) -> list[int]:
    """The processes among ``pids`` still running (not zombies) after waiting up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        alive = []
        for p in pids:
            try:
                state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(p)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _start_and_wait_for_a_chunk(args: list[str], out: Path) -> subprocess.Popen:
    p = subprocess.Popen([*COMMAND, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while not (out / "summary" / "chunk-00000.parquet").exists():
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            pytest.fail(f"no chunk appeared (rc {p.poll()})")
        time.sleep(0.01)
    return p


@pytest.mark.slow
def test_sigterm_keeps_finished_chunks_status_interrupted_exit_143_no_orphans(scn90_file, kill_reference, tmp_path):
    out = tmp_path / "out"
    args = [str(scn90_file), "--replications", str(KILL_N), "--seed", str(KILL_SEED), "--backend", "processes",
            "--workers", "2", "--out", str(out)]
    p = _start_and_wait_for_a_chunk(args, out)
    workers = _children(p.pid)
    assert workers, "a process pool has workers"
    p.send_signal(signal.SIGTERM)  # to the parent alone, as a service manager does
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    line = one_line_error(err)
    assert "terminated" in line and "--resume" in line
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    assert not [q for q in out.rglob("*") if q.name.endswith(".tmp")]
    assert not _alive(workers, within=10), "no orphaned worker"
    r = run_cli(*args, "--resume", "--json")
    assert r.returncode == 0, r.stderr
    assert_same_tables(kill_reference, Ensemble(out))


@pytest.mark.slow
def test_workers_exit_when_the_parent_is_killed(scn90_file, tmp_path):
    out = tmp_path / "out"
    p = _start_and_wait_for_a_chunk([str(scn90_file), "--replications", str(KILL_N), "--backend", "processes",
                                     "--workers", "2", "--out", str(out)], out)
    workers = _children(p.pid)
    assert workers
    p.kill()  # SIGKILL: nothing of the parent runs
    p.communicate(timeout=30)
    assert not _alive(workers, within=10), "workers outlived their parent"


def test_control_characters_in_echoed_values_are_escaped(capsys, tmp_path):
    toml = tmp_path / "esc.toml"
    toml.write_text(TINY.read_text().replace('to = "town_b"', 'to = "town\\u001b[2J\\u202eb"', 1))
    rc = cli.main(["validate", str(toml)])
    _, err = capsys.readouterr()
    assert rc == 2
    assert "\x1b" not in err and "\u202e" not in err
    assert "\\x1b[2J\\u202eb" in err and len(err.strip().splitlines()) == 1
