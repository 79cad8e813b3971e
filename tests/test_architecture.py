"""The layering contract, checked on the source (docs/architecture.md).

Data flows one way: ``corpora`` -> ``toolkit`` schema -> ``annotation`` -> ``eval`` -> report.
``corpora``, ``annotation`` and ``eval`` import the schema from ``toolkit`` and never each other;
only the top of ``toolkit`` (the CLI, the demo, the coding app) ties them together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("toolkit", "corpora", "annotation", "eval")
#: Modules of ``toolkit`` allowed to import the other three packages: the top of the stack.
TOP = ("toolkit.cli", "toolkit.demo", "toolkit.app")
#: Third-party modules a package must never import.
FORBIDDEN_THIRD_PARTY = {"eval": ("openai", "httpx"), "corpora": ("openai", "httpx")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every absolute import in ``source``."""
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
    return found


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _is_top(module: str) -> bool:
    return any(module == t or module.startswith(t + ".") for t in TOP)


def _violations(path: Path, source: str | None = None) -> list[str]:
    """Breaches of the contract by the module at ``path`` (its text, or ``source`` in its place)."""
    module = _module_name(path)
    package = module.split(".")[0]
    problems = []
    text = path.read_text(encoding="utf-8") if source is None else source
    for line, imported, names in _imports(text):
        target = imported.split(".")[0]
        where = f"{path.relative_to(ROOT)}:{line}"
        if target in PACKAGES and target != package and not _is_top(module):
            if target != "toolkit":
                problems.append(f"{where}: {package} imports {imported}")
            elif _is_top(imported):
                problems.append(f"{where}: {package} imports the top layer {imported}")
        if target in FORBIDDEN_THIRD_PARTY.get(package, ()):
            problems.append(f"{where}: {package} imports {imported}")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private and target in PACKAGES and imported != module:
            problems.append(f"{where}: imports private {', '.join(private)} from {imported}")
    return problems


def test_layers_and_public_names() -> None:
    problems = [p for path in _sources() for p in _violations(path)]
    assert not problems, "layering contract broken:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("eval/x.py", "from corpora import load\n", "eval imports corpora"),
        ("eval/x.py", "import openai\n", "eval imports openai"),
        ("corpora/x.py", "from annotation.rubric import Rubric\n", "corpora imports annotation"),
        ("toolkit/io.py", "from eval import agreement\n", "toolkit imports eval"),
        ("annotation/x.py", "from toolkit.cli import main\n", "the top layer"),
        ("annotation/x.py", "from annotation.engine import _Item\n", "imports private _Item"),
    ],
)
def test_the_check_catches(module: str, source: str, expected: str) -> None:
    # The checker itself must catch each kind of breach, or the contract test proves nothing.
    problems = _violations(ROOT / module, source)
    assert any(expected in p for p in problems), f"{module}: {source!r} gave {problems}"


def test_the_check_allows_the_top_layer_and_own_privates() -> None:
    source = (
        "from eval import agreement\nfrom corpora import load\nfrom toolkit.cli.irr import _x\n"
    )
    assert _violations(ROOT / "toolkit/cli/irr.py", source) == []
