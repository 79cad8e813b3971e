"""Shared fixtures. Real-corpus tests read ``$EDUDIAL_DATA`` (the shared corpora folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SKIP_REASON = (
    "EDUDIAL_DATA is not set: real-corpus tests need the shared corpora folder "
    "(e.g. EDUDIAL_DATA=../shared/corpora python -m pytest)"
)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared corpora folder, or skip with a clear reason. Read-only: never write here."""
    root = os.environ.get("EDUDIAL_DATA")
    if not root:
        pytest.skip(SKIP_REASON)
    path = Path(root)
    if not path.is_dir():
        pytest.skip(f"EDUDIAL_DATA={root} is not a directory")
    return path


def corpus_path(data_dir: Path, *parts: str) -> Path:
    """``data_dir / parts``, skipping the test when that part of the shared data is absent."""
    path = data_dir.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present in EDUDIAL_DATA")
    return path
