"""The documentation's code runs: every ```python block marked ``<!-- run -->`` in README.md and docs/*.md.

The convention: a block runs when the line before its opening fence is ``<!-- run -->`` (invisible
on GitHub and in MkDocs). Each block runs as a script of its own (``__name__ == "__main__"``, so the
processes backend works) in a fresh process, in a temporary folder for the files it writes. Blocks
that show placeholders (``"my.toml"``, a dask scheduler's address) are left unmarked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKED = re.compile(r"^<!-- run -->\n```python\n(.*?)^```$", re.M | re.S)


def runnable_blocks() -> list[tuple[str, str]]:
    """(``page:line``, code) of every marked block."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in MARKED.finditer(text):
            line = text.count("\n", 0, m.start()) + 2
            out.append((f"{page.relative_to(ROOT)}:{line}", m.group(1)))
    return out


BLOCKS = runnable_blocks()


def test_the_readme_tour_is_marked() -> None:
    assert any(where.startswith("README.md") for where, _ in BLOCKS)
    assert any(where.startswith("docs/tutorial.md") for where, _ in BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("where,code", BLOCKS, ids=[w for w, _ in BLOCKS])
def test_block_runs_as_a_script(where: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{where} failed:\n{done.stderr[-3000:]}"


def _nav_pages(nav: object) -> list[str]:
    """Every page a MkDocs ``nav`` lists (nested sections included)."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_pages(value)]
    return []


def test_mkdocs_config_lists_pages_that_exist() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["theme"]["name"] == "material"
    assert any("mkdocstrings" in (p if isinstance(p, str) else next(iter(p))) for p in config["plugins"])
    pages = _nav_pages(config["nav"])
    top = [next(iter(item)) for item in config["nav"]]
    assert {"Tutorial", "Guides", "Reference", "Background"} <= set(top)
    missing = [p for p in pages if not (ROOT / config["docs_dir"] / p).exists()]
    assert not missing, f"mkdocs.yml lists pages that do not exist: {missing}"


def test_api_pages_name_importable_objects() -> None:
    import importlib

    for page in sorted((ROOT / "docs" / "api").glob("*.md")):
        for target in re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M):
            parts = target.split(".")
            for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
                try:
                    obj = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                for name in parts[cut:]:
                    obj = getattr(obj, name)
                break
            else:
                pytest.fail(f"{page.name}: cannot import {target}")
