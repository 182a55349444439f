"""The documentation's shown commands print what it shows: console blocks marked ``<!-- check -->``.

The convention: a block is checked when the line before its opening fence is ``<!-- check -->``.
Its lines starting with ``$ `` are commands (``qalamoun-sim`` runs as ``python -m qalamoun_sim``, in a
temporary folder that sees the project's ``qalamoun_sim/`` and ``scenarios/``); the lines after a
command are what it prints, compared with runs of spaces collapsed: consecutive shown lines are
consecutive printed lines, a line ``...`` skips any number of printed lines, ``...`` inside a line
stands for any text, and a shown output may stop before the printed one does. Blank lines are ignored.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKED = re.compile(r"^<!-- check -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)


def checked_blocks() -> list[tuple[str, str, list[str]]]:
    """(``page:line``, command, shown output lines) of every command in a marked block."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in MARKED.finditer(text):
            line = text.count("\n", 0, m.start()) + 2
            lines = m.group(1).replace("\\\n", " ").splitlines()
            cmds = [i for i, s in enumerate(lines) if s.startswith("$ ")]
            for i, j in zip(cmds, [*cmds[1:], len(lines)], strict=True):
                out.append((f"{page.relative_to(ROOT)}:{line + i}", lines[i][2:], lines[i + 1:j]))
    return out


def _norm(s: str) -> str:
    return " ".join(s.split())


def _pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in _norm(shown).split("...")))


def output_matches(shown: list[str], printed: list[str]) -> str | None:
    """None when ``printed`` shows as ``shown`` (see the module's rules), else the first shown line missed."""
    want = [s for s in shown if s.strip()]
    got = [_norm(s) for s in printed if s.strip()]
    i, anywhere = 0, True  # the shown output may start after the printed one has begun
    for s in want:
        if s.strip() == "...":
            anywhere = True
            continue
        pat = _pattern(s)
        while i < len(got) and not pat.fullmatch(got[i]):
            if not anywhere:
                return s
            i += 1
        if i == len(got):
            return s
        i, anywhere = i + 1, False
    return None


def test_matching_rules() -> None:
    printed = ["Claim: x", "  a   1", "  b   2", "", "  c   3", "tail"]
    assert output_matches(["  a 1", "  b 2", "c 3"], printed) is None
    assert output_matches(["a 1", "c 3"], printed) == "c 3"          # consecutive unless "..."
    assert output_matches(["a 1", "...", "c 3"], printed) is None
    assert output_matches(["... x", "a ..."], printed) is None       # "..." inside a line: any text
    assert output_matches(["a 9"], printed) == "a 9"


BLOCKS = checked_blocks()


def test_the_tutorial_has_checked_commands() -> None:
    assert sum(where.startswith("docs/tutorial.md") for where, _, _ in BLOCKS) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("where,command,shown", BLOCKS, ids=[w for w, _, _ in BLOCKS])
def test_command_prints_what_the_docs_show(where: str, command: str, shown: list[str], tmp_path: Path) -> None:
    args = shlex.split(command)
    assert args[0] == "qalamoun-sim", f"{where}: only qalamoun-sim commands are checked"
    for name in ("qalamoun_sim", "scenarios"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "qalamoun_sim", *args[1:]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{where}: {command} failed:\n{done.stderr[-3000:]}"
    missed = output_matches(shown, done.stdout.splitlines())
    assert missed is None, f"{where}: {command} does not print\n  {missed}\nit prints:\n{done.stdout[-4000:]}"
