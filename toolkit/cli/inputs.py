"""What the commands read: a saved corpus folder, or ``NAME:PATH`` loaded with a corpus loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["assignment_options", "load_corpus_spec"]

F = TypeVar("F", bound=Callable[..., object])


def load_corpus_spec(spec: str) -> Corpus:
    """A saved corpus directory, or ``NAME:PATH`` read with the corpus loader ``NAME``.

    A path that exists is always read as a saved corpus, so a folder whose name holds a colon
    still works; the loader name is matched case-insensitively, ``-`` as ``_``.
    """
    name, sep, rest = spec.partition(":")
    if sep and len(name) > 1 and not Path(spec).exists():
        import corpora

        loader = name.lower().replace("-", "_")
        if loader not in corpora.available():
            raise InputError(
                f"unknown corpus {name!r} in {spec!r}; available: "
                f"{', '.join(corpora.available())} (or give a saved corpus dir)"
            )
        return corpora.load(loader, rest)
    from toolkit.io import read_corpus

    return read_corpus(spec)


def assignment_options(command: F) -> F:
    """``--sample``, ``--overlap`` and ``--seed``: which units each coder gets, in which order.

    ``edudial code export`` and ``edudial code serve`` share them, so the workbooks and the app
    give every coder the same units in the same order.
    """
    options = (
        click.option(
            "--sample",
            "sample_path",
            type=click.Path(path_type=Path),
            help="Sample file from `edudial code sample` (default: every unit).",
        ),
        click.option(
            "--overlap",
            type=click.FloatRange(0, 1),
            default=1.0,
            show_default=True,
            help="Fraction of units every coder codes; the rest is split between coders.",
        ),
        click.option(
            "--seed",
            type=int,
            help="Seed of the split and of each coder's order (default: the sample's).",
        ),
    )
    for option in reversed(options):  # as if stacked as decorators, top first
        command = option(command)
    return command
