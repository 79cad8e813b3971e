"""What the commands read: a saved corpus folder, or ``NAME:PATH`` loaded with a corpus loader."""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["load_corpus_spec"]


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
