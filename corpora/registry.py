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

from corpora.anonymised import mark_published
from toolkit.errors import InputError, SchemaError
from toolkit.schema import Corpus

__all__ = ["available", "check_options", "describe", "load", "loader_module", "options"]

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
    "transcripts": "corpora.transcripts",
}


def available() -> list[str]:
    """Names accepted by :func:`load`, sorted."""
    return sorted(n for n, m in _LOADERS.items() if importlib.util.find_spec(m) is not None)


def loader_module(name: str) -> Any:
    """The module implementing loader ``name`` (its ``load`` does not validate).

    >>> loader_module("mathdial").__name__
    'corpora.mathdial'
    """
    key = name.lower().replace("-", "_")
    if key not in available():
        raise InputError(f"unknown corpus {name!r}; available: {', '.join(available())}")
    return importlib.import_module(_LOADERS[key])


def describe(name: str) -> str:
    """The loader's documentation (its module docstring)."""
    return inspect.getdoc(loader_module(name)) or ""


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
    module = loader_module(name)
    check_options(name, options)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or directory", path=p)
    corpus: Corpus = module.load(p, **options)
    try:
        corpus = corpus.validate()
    except SchemaError as exc:  # e.g. two records that give the same id
        raise InputError(f"the input gives an invalid corpus: {exc.problems[0]}", path=p) from None
    # Marked here, not in each loader: one table says which releases are already anonymised.
    return mark_published(corpus, module.__name__.rsplit(".", 1)[-1])


def options(name: str) -> list[str]:
    """The keyword options loader ``name`` accepts, in signature order.

    >>> options("mathdial")
    ['files', 'split']
    """
    module = loader_module(name)
    declared = getattr(module, "OPTIONS", None)  # a loader taking **options lists them
    if declared is not None:
        return list(declared)
    signature = inspect.signature(module.load)
    return [p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]


def check_options(name: str, given: dict[str, Any]) -> None:
    """Raise :class:`InputError` naming every option ``name``'s loader does not take.

    One check for every loader (its keyword-only parameters, or the ``OPTIONS`` a loader taking
    ``**options`` declares), so a misspelt option is always an ``InputError``, never a
    ``TypeError`` from Python's call machinery.

    >>> check_options("cima", {})
    >>> check_options("cima", {"splits": ["train"]})
    Traceback (most recent call last):
    ...
    toolkit.errors.InputError: cima: unknown option 'splits' (cima takes no options)
    """
    known = options(name)
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        takes = f"options: {', '.join(known)}" if known else "no options"
        plural = "s" if len(unknown) > 1 else ""
        raise InputError(f"{name}: unknown option{plural} {names} ({name} takes {takes})")
