"""The guide 'From an OSMnx graph and a DEM to a verdict' runs as written: its Python in one folder, then
every ``$ qalamoun-sim`` line of its console blocks in order, in that folder, each exiting 0 and printing
what is shown (the rules of ``tests/test_docs_output.py``: ``...`` skips lines or stands for any text).

Its commands build on each other (the DEM, the profiled scenario, a results folder), so they run here in
one folder rather than one by one as ``<!-- check -->`` blocks do."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_docs_output import output_matches

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides.md"
TITLE = "## From an OSMnx graph and a DEM to a verdict"
BLOCK = re.compile(r"^```(python|console)\n(.*?)^```$", re.M | re.S)


def section() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(TITLE)
    end = text.find("\n## ", start + len(TITLE))
    return text[start:end if end >= 0 else len(text)]


def steps() -> list[tuple[str, str, list[str]]]:
    """(kind, code or command, output lines shown) in the order of the guide."""
    out: list[tuple[str, str, list[str]]] = []
    for kind, body in BLOCK.findall(section()):
        if kind == "python":
            out.append(("python", body, []))
            continue
        for chunk in re.split(r"^(?=\$ )", body, flags=re.M):
            if chunk.strip():
                command, *shown = chunk.rstrip("\n").split("\n")
                out.append(("console", command.removeprefix("$ "), shown))
    return out


def test_the_guide_has_its_steps() -> None:
    commands = [c for kind, c, _ in steps() if kind == "console"]
    assert [c.split()[1] for c in commands] == ["profile", "claim", "claim", "run", "critical", "layers", "layers"]
    assert all(c.startswith("qalamoun-sim ") for c in commands)


@pytest.mark.slow
def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    for module in ("rasterio", "pyogrio", "osmnx"):
        pytest.importorskip(module)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for kind, code, shown in steps():
        if kind == "python":
            script = tmp_path / "guide.py"
            script.write_text(code, encoding="utf-8")
            argv = [sys.executable, str(script)]
        else:
            argv = [sys.executable, "-m", "qalamoun_sim", *shlex.split(code)[1:]]
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"{code[:60]!r} failed:\n{done.stderr[-3000:]}"
        missed = output_matches(shown, done.stdout.splitlines())
        assert missed is None, f"{code!r} does not print\n  {missed}\nit prints:\n{done.stdout[-3000:]}"
    assert (tmp_path / "valley.gpkg").is_file() and (tmp_path / "layers" / "routes.geojson").is_file()
