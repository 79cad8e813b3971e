"""Shared fixtures. Real-corpus tests read ``$EDUDIAL_DATA`` (the shared corpora folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SKIP_REASON = (
    "EDUDIAL_DATA is not set: real-corpus tests need the shared corpora folder "
    "(e.g. EDUDIAL_DATA=../shared/corpora python -m pytest)"
)


LOCAL_LLM_REASON = (
    "the real local model (SmolLM2 via llama.cpp) takes minutes on 2 cores: set "
    "EDUDIAL_LLM_LOCAL=1 "
    "to run these tests (.ci/run does)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the ``llm_local`` tests unless ``EDUDIAL_LLM_LOCAL=1`` asks for them."""
    if os.environ.get("EDUDIAL_LLM_LOCAL") == "1":
        return
    skip = pytest.mark.skip(reason=LOCAL_LLM_REASON)
    for item in items:
        if "llm_local" in item.keywords:
            item.add_marker(skip)


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
