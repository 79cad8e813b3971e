"""The record of de-identification: whether a corpus may leave the machine without naming people.

Each dialogue's ``meta`` carries a ``"deid"`` entry (:data:`DEID_KEY`) written either by the
registry, for the named loaders of published datasets that were released de-identified (or hold
no private participants), or by :func:`toolkit.deidentify`. The corpus-level view
(:func:`deid_status`, shown by ``edudial info``) is computed from those entries, so it stays true
when corpora are filtered or concatenated.

>>> import pandas as pd
>>> from toolkit import Corpus
>>> c = Corpus(
...     dialogues=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d1"], "split": [None],
...                             "kind": [None], "meta": [{}]}),
...     turns=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d1"], "turn_id": ["d1:0"],
...                         "index": [0], "role": ["teacher"], "speaker": ["T"],
...                         "text": ["Hi"], "meta": [{}]}))
>>> is_deidentified(c)
False
>>> is_deidentified(mark(c, DeidRecord(by="publisher", basis="synthetic toy data")))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.schema import Corpus

__all__ = ["DEID_KEY", "DeidRecord", "DeidStatus", "deid_status", "is_deidentified", "mark"]

#: Key of the de-identification record in each dialogue's ``meta``.
DEID_KEY = "deid"


@dataclass(frozen=True)
class DeidRecord:
    """What was done to remove people's names from one dialogue (or why none needed removing).

    Attributes
    ----------
    by : str
        ``"publisher"`` (released de-identified, or no private participants) or ``"edudial"``.
    basis : str
        For ``"publisher"``: the evidence, e.g. "students replaced by [STUDENT] in the release".
    version : str, optional
        The edudial version that de-identified the texts.
    sources : tuple of str
        Where names came from (``speakers``, ``roster``, ``ner:<model>``) and the patterns used.
    counts : dict
        Replacements made, per kind (``name``, ``email``, ``phone``, ``url``, ``handle``).
    """

    by: str
    basis: str = ""
    version: str | None = None
    sources: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_meta(self) -> dict[str, Any]:
        """The plain-JSON value stored under :data:`DEID_KEY`."""
        out: dict[str, Any] = {"deidentified": True, "by": self.by}
        if self.basis:
            out["basis"] = self.basis
        if self.version is not None:
            out["version"] = self.version
        if self.sources:
            out["sources"] = list(self.sources)
        if self.counts:
            out["counts"] = {k: int(v) for k, v in sorted(self.counts.items())}
        return out

    @classmethod
    def from_meta(cls, value: Any) -> DeidRecord | None:
        """The record stored in one dialogue's meta entry, or ``None`` when it is not one."""
        if not isinstance(value, Mapping) or value.get("deidentified") is not True:
            return None
        counts = value.get("counts")
        return cls(
            by=str(value.get("by", "")),
            basis=str(value.get("basis", "")),
            version=value.get("version"),
            sources=tuple(value.get("sources") or ()),
            counts=dict(counts) if isinstance(counts, Mapping) else {},
        )


@dataclass(frozen=True)
class DeidStatus:
    """The corpus-level view for one corpus name (see :func:`deid_status`).

    Attributes
    ----------
    corpus : str
        The corpus name.
    dialogues, deidentified : int
        How many dialogues there are, and how many carry a de-identification record.
    by, bases, versions, sources : tuple of str
        The distinct values found in those records.
    counts : dict
        Replacements per kind, summed over the dialogues.
    """

    corpus: str
    dialogues: int
    deidentified: int
    by: tuple[str, ...]
    bases: tuple[str, ...]
    versions: tuple[str, ...]
    sources: tuple[str, ...]
    counts: Mapping[str, int]

    @property
    def complete(self) -> bool:
        """Every dialogue of this corpus is de-identified."""
        return self.deidentified == self.dialogues

    def describe(self) -> str:
        """One line for people, e.g. ``mathdial: de-identified (publisher: ...)``."""
        if self.deidentified == 0:
            return f"{self.corpus}: NOT de-identified (run `edudial deid`)"
        head = "de-identified" if self.complete else "PARTLY de-identified"
        head += f" ({self.deidentified}/{self.dialogues} dialogues)" if not self.complete else ""
        parts = [f"by {', '.join(self.by)}"]
        parts += [f"basis: {b}" for b in self.bases]
        if self.versions:
            parts.append(f"edudial {', '.join(self.versions)}")
        if self.sources:
            parts.append(f"sources: {', '.join(self.sources)}")
        if self.counts:
            parts.append(
                "replacements: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items()))
            )
        return f"{self.corpus}: {head}; " + "; ".join(parts)


def _dialogue_metas(corpus: Corpus) -> list[Any]:
    return list(corpus.dialogues["meta"])


def _records(corpus: Corpus) -> list[DeidRecord | None]:
    return [
        DeidRecord.from_meta(m.get(DEID_KEY)) if isinstance(m, Mapping) else None
        for m in _dialogue_metas(corpus)
    ]


def is_deidentified(corpus: Corpus) -> bool:
    """Whether every dialogue of ``corpus`` carries a de-identification record.

    True for corpora from the named loaders of published datasets released de-identified (or
    without private participants; see :mod:`corpora.anonymised`) and for the output of
    :func:`toolkit.deidentify`; False for imported transcripts until they are de-identified. An
    empty corpus has nothing to leak and counts as de-identified.

    Examples
    --------
    >>> from toolkit import Corpus
    >>> is_deidentified(Corpus())
    True
    """
    return all(r is not None for r in _records(corpus))


def deid_status(corpus: Corpus) -> list[DeidStatus]:
    """The de-identification state per corpus name, in order of first appearance.

    Examples
    --------
    >>> from toolkit import Corpus
    >>> deid_status(Corpus())
    []
    """
    frame = pd.DataFrame({"corpus": corpus.dialogues["corpus"], "record": _records(corpus)})
    out = []
    for name, group in frame.groupby("corpus", sort=False):
        records = [r for r in group["record"] if r is not None]
        counts: dict[str, int] = {}
        for r in records:
            for kind, n in r.counts.items():
                counts[kind] = counts.get(kind, 0) + int(n)
        out.append(
            DeidStatus(
                corpus=str(name),
                dialogues=len(group),
                deidentified=len(records),
                by=tuple(dict.fromkeys(r.by for r in records)),
                bases=tuple(dict.fromkeys(r.basis for r in records if r.basis)),
                versions=tuple(dict.fromkeys(r.version for r in records if r.version)),
                sources=tuple(dict.fromkeys(s for r in records for s in r.sources)),
                counts=counts,
            )
        )
    return out


def mark(
    corpus: Corpus,
    record: DeidRecord | Mapping[tuple[str, str], DeidRecord],
    *,
    corpus_name: str | None = None,
) -> Corpus:
    """Return a copy of ``corpus`` whose dialogues carry ``record`` in their meta.

    Parameters
    ----------
    corpus : Corpus
        Left unchanged (meta dicts are copied).
    record : DeidRecord or mapping
        One record for every dialogue, or one per ``(corpus, dialogue_id)`` key (dialogues
        without a key are left as they are).
    corpus_name : str, optional
        Only mark the dialogues of this corpus name.

    Examples
    --------
    >>> from toolkit import Corpus
    >>> len(mark(Corpus(), DeidRecord(by="publisher")))
    0
    """
    d = corpus.dialogues
    keys = zip(d["corpus"].tolist(), d["dialogue_id"].tolist(), strict=True)
    metas = []
    for key, meta in zip(keys, _dialogue_metas(corpus), strict=True):
        rec = record if isinstance(record, DeidRecord) else record.get(key)
        if rec is None or (corpus_name is not None and key[0] != corpus_name):
            metas.append(meta)
            continue
        new = dict(meta) if isinstance(meta, Mapping) else {}
        new[DEID_KEY] = rec.to_meta()
        metas.append(new)
    dialogues = d.assign(meta=pd.Series(metas, index=d.index, dtype=object))
    return Corpus(dialogues, corpus.turns, corpus.annotations)
