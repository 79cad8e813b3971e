"""Every data file the packages need is declared in setup.cfg, so a (non-editable) install has it.

An editable install reads files from the checkout and hides a missing declaration; a wheel built
from the same checkout would then lack, say, the built-in rubrics.
"""

from __future__ import annotations

import configparser
import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("toolkit", "corpora", "annotation", "eval")


def _patterns() -> dict[str, list[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    section = config["options.package_data"]
    return {
        key: [p.strip() for p in value.replace("\n", ",").split(",") if p.strip()]
        for key, value in section.items()
    }


def _declared(path: Path, patterns: dict[str, list[str]]) -> bool:
    relative = path.relative_to(ROOT)
    # "*" patterns match files directly in any package directory (one with an __init__.py);
    # a named package's patterns are paths relative to that package.
    in_a_package = (path.parent / "__init__.py").exists()
    if in_a_package and any(fnmatch.fnmatch(path.name, p) for p in patterns.get("*", [])):
        return True
    inside = relative.relative_to(relative.parts[0]).as_posix()
    return any(fnmatch.fnmatch(inside, p) for p in patterns.get(relative.parts[0], []))


def test_every_data_file_is_declared() -> None:
    patterns = _patterns()
    data = [
        p
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    ]
    assert data, "no data files found: the test is looking in the wrong place"
    missing = [str(p.relative_to(ROOT)) for p in data if not _declared(p, patterns)]
    assert not missing, f"not in setup.cfg [options.package_data]: {missing}"
