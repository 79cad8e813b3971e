"""Loaders that normalise educational dialogue corpora into the edudial schema.

>>> import corpora
>>> "mathdial" in corpora.available()
True

``corpora.load(name, path, **options)`` returns a validated :class:`toolkit.Corpus`.
"""

from corpora.registry import available, describe, load

__all__ = ["available", "describe", "load"]
