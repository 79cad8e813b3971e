"""The Python examples in README.md and docs/*.md run, so the docs cannot rot.

Every ```python block of a page runs in one namespace, in order, in a temporary directory. A block
right after an HTML comment ``<!-- no-test: reason -->`` is skipped (e.g. it needs an API key or
the network). Pages whose examples read the shared corpora (they mention ``EDUDIAL_DATA``) skip
when it is unset.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(
    r"(?P<skip><!--\s*no-test:[^>]*-->\s*)?^```python[^\n]*\n(?P<code>.*?)^```", re.S | re.M
)


def python_blocks(page: Path) -> list[tuple[int, str, bool]]:
    """(line, code, skipped) for every ```python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code"), bool(m.group("skip")))
        for m in BLOCK.finditer(text)
    ]


def test_every_page_is_found() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "toolkit.md", "corpora.md", "eval.md", "annotation.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in python_blocks(page) if not b[2]]
    if not blocks:
        pytest.skip(f"{page.name} has no runnable Python examples")
    if any("EDUDIAL_DATA" in code for _, code, _ in blocks) and not os.environ.get("EDUDIAL_DATA"):
        pytest.skip("EDUDIAL_DATA is not set: these examples read the shared corpora")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code, _ in blocks:
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as exc:  # report the page and line of the failing block
            raise AssertionError(f"{page.name}, block at line {line}: {exc!r}") from exc
