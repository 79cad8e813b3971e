"""Corpora shared on the Hugging Face Hub: the inverse of :meth:`toolkit.Corpus.to_hf`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.errors import EdudialError, InputError
from toolkit.schema import TABLES, Corpus

__all__ = ["from_hf"]


def from_hf(dataset_dict: Mapping[str, Any]) -> Corpus:
    """Return the corpus held by a ``datasets.DatasetDict`` made by :meth:`Corpus.to_hf`.

    A corpus one lab pushed with ``corpus.to_hf().push_to_hub(...)`` comes back losslessly from
    ``datasets.load_dataset(...)`` in another: the splits ``dialogues``, ``turns`` and
    ``annotations`` are the three tables, ``meta`` is JSON object text (dicts also work).

    Parameters
    ----------
    dataset_dict : datasets.DatasetDict or mapping of split name to ``datasets.Dataset``
        A missing ``annotations`` split means no annotations.

    Raises
    ------
    InputError
        If the ``dialogues`` or ``turns`` split is missing, or a split lacks a schema column
        (naming the split and the columns).

    Examples
    --------
    >>> import corpora
    >>> from toolkit.demo import bundled_sample
    >>> sample = bundled_sample()
    >>> corpora.from_hf(sample.to_hf()) == sample
    True
    """
    missing = [t for t in ("dialogues", "turns") if t not in dataset_dict]
    if missing:
        raise InputError(
            f"no {', '.join(map(repr, missing))} split; a corpus dataset has the splits "
            f"{', '.join(TABLES)} (made by Corpus.to_hf()); found: {', '.join(dataset_dict)}"
        )
    frames: dict[str, Any] = {}
    for table in TABLES:
        split = dataset_dict.get(table)
        if split is None:
            frames[table] = None
            continue
        try:
            frames[table] = split.to_pandas()
        except AttributeError:
            raise InputError(f"split {table!r} is not a datasets.Dataset") from None
    try:
        return Corpus(frames["dialogues"], frames["turns"], frames["annotations"])
    except EdudialError as exc:
        raise InputError(f"not a corpus dataset: {exc}") from None
