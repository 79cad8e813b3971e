"""The loader registry: corpus name -> loader module.

Each loader module defines ``load(path, **options) -> Corpus`` and a one-line module docstring that
``available()``/``edudial load --help`` show. Modules are imported only when used.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
from pathlib import Path
from typing import Any

from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["available", "describe", "load"]

#: Corpus name -> module implementing ``load``. A name is offered once its module exists.
_LOADERS: dict[str, str] = {
    "mathdial": "corpora.mathdial",
    "sight": "corpora.sight",
    "tscc": "corpora.tscc",
    "talkmoves": "corpora.talkmoves",
    "cima": "corpora.cima",
    "mrbench": "corpora.mrbench",
    "bridge": "corpora.bridge",
    "ncte_uptake": "corpora.ncte_uptake",
}


def available() -> list[str]:
    """Names accepted by :func:`load`, sorted."""
    return sorted(n for n, m in _LOADERS.items() if importlib.util.find_spec(m) is not None)


def _module(name: str) -> Any:
    key = name.lower().replace("-", "_")
    if key not in available():
        raise InputError(f"unknown corpus {name!r}; available: {', '.join(available())}")
    return importlib.import_module(_LOADERS[key])


def describe(name: str) -> str:
    """The loader's documentation (its module docstring)."""
    return inspect.getdoc(_module(name)) or ""


def load(name: str, path: str | os.PathLike[str], **options: Any) -> Corpus:
    """Load corpus ``name`` from ``path`` into a validated :class:`~toolkit.Corpus`.

    Parameters
    ----------
    name : str
        One of :func:`available` (e.g. ``"mathdial"``).
    path : path
        The corpus folder or file as distributed (see each loader's docstring).
    **options
        Loader-specific options, e.g. ``files=...`` for MathDial.

    Raises
    ------
    InputError
        For a missing path or malformed data (file, line and field are named).
    """
    module = _module(name)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or directory", path=p)
    corpus: Corpus = module.load(p, **options)
    return corpus.validate()
