"""Loaders that normalise educational dialogue corpora into the edudial schema.

>>> import corpora
>>> "mathdial" in corpora.available()
True

``corpora.load(name, path, **options)`` returns a validated :class:`toolkit.Corpus`;
``corpora.from_hf(dataset_dict)`` reads back one made by ``Corpus.to_hf()``.
"""

from corpora.hf import from_hf
from corpora.registry import available, describe, load

__all__ = ["available", "describe", "from_hf", "load"]
