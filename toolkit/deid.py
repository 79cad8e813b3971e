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

import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InputError
from toolkit.files import write_text_atomic
from toolkit.schema import Corpus, meta_values
from toolkit.scrub import (
    CAPITALISED_WORDS,
    KINDS,
    NOT_NAMES,
    Person,
    Scrubber,
    name_variants,
    speaker_names,
)

__all__ = [
    "DEID_KEY",
    "DeidRecord",
    "DeidResult",
    "DeidStatus",
    "Finding",
    "PossibleName",
    "check",
    "deid_status",
    "deidentify",
    "deidentify_corpus",
    "is_deidentified",
    "mark",
    "ner_names",
    "possible_names",
    "read_roster",
    "write_map",
]

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
    return list(meta_values(corpus.dialogues["meta"]))


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


# ------------------------------------------------------------------------- de-identification
_PSEUDONYM = re.compile(r"\[(TEACHER|STUDENT|PERSON)_(\d+)\]")
_PREFIX = {"teacher": "TEACHER", "student": "STUDENT"}


@dataclass(frozen=True)
class Finding:
    """A name left in a corpus (see :func:`check`).

    Attributes
    ----------
    corpus, turn_id, field, name : str
        Where (``field`` is ``text`` or ``speaker``) and what was found.
    """

    corpus: str
    turn_id: str
    field: str
    name: str


def read_roster(path: str | os.PathLike[str]) -> list[tuple[str, str | None]]:
    """``(name, role)`` pairs from a roster: a CSV/TSV with a ``name`` column (else the first
    column, or ``first_name``/``last_name``) and an optional ``role`` column, or a text file with
    one name per line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "names.csv"
    >>> _ = p.write_text("name,role\\nMaya Patel,student\\nAnn Lee,teacher\\n")
    >>> read_roster(p)
    [('Maya Patel', 'student'), ('Ann Lee', 'teacher')]
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("roster file not found", path=p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"roster is not UTF-8 text ({exc.reason})", path=p) from None
    if p.suffix.lower() not in (".csv", ".tsv"):
        return [(line.strip(), None) for line in text.splitlines() if line.strip()]
    rows = list(
        csv.reader(io.StringIO(text), delimiter="\t" if p.suffix.lower() == ".tsv" else ",")
    )
    if not rows:
        raise InputError("roster is empty", path=p)
    header = [h.strip().lower() for h in rows[0]]
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        name = cells.get("name") or " ".join(
            x for x in (cells.get("first_name"), cells.get("last_name")) if x
        )
        if not name and "name" not in header and "first_name" not in header and row:
            name = row[0].strip()
        role = (cells.get("role") or "").lower() or None
        if role not in (None, "teacher", "student", "other"):
            raise InputError(
                f"role {role!r}: expected teacher, student or other", path=p, line=number
            )
        if name:
            out.append((name, role))
    return out


def ner_names(texts: Iterable[str], model: str) -> list[str]:
    """PERSON entities found by an installed spaCy pipeline (never downloaded).

    Raises
    ------
    InputError
        When ``model`` is neither an installed package nor a pipeline folder.
    """
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError:
        raise InputError(
            f"spaCy pipeline {model!r} is not installed; install it yourself (e.g. `python -m "
            f"spacy download {model}`) or leave out --ner: edudial never downloads models"
        ) from None
    if "ner" not in nlp.pipe_names and "entity_ruler" not in nlp.pipe_names:
        raise InputError(f"spaCy pipeline {model!r} has no named-entity recogniser")
    found: dict[str, None] = {}
    for doc in nlp.pipe(texts, batch_size=256):
        for ent in doc.ents:
            if ent.label_ == "PERSON":
                found.setdefault(" ".join(ent.text.split()), None)
    return list(found)


def _speaker_people(corpus: Corpus) -> list[tuple[str, str | None]]:
    """Named speakers (see :func:`toolkit.scrub.speaker_names`) with their turns' main role."""
    t = corpus.turns
    named = t.loc[t["speaker"].notna(), ["speaker", "role"]]
    out: dict[str, str | None] = {}
    for speaker, roles in named.groupby("speaker", sort=False)["role"]:
        label = str(speaker)
        if _PSEUDONYM.search(label):
            continue
        names = speaker_names(label)
        role = str(roles.value_counts().index[0]) if len(names) == 1 else None
        for name in names:
            if out.get(name) is None:
                out[name] = role
    return list(out.items())


def _assign(
    entries: Sequence[tuple[str, str | None]], corpus: Corpus
) -> tuple[list[Person], dict[str, str]]:
    """People with pseudonyms numbered per role after those already in the corpus."""
    used: Counter[str] = Counter()
    for text in corpus.turns["speaker"].dropna().unique().tolist():
        for prefix, number in _PSEUDONYM.findall(str(text)):
            used[prefix] = max(used[prefix], int(number))
    variant_owner: dict[str, int] = {}
    groups: list[tuple[list[str], str | None]] = []
    for name, role in entries:
        variants = name_variants(name)
        if not variants:
            continue
        # A full name joins the person with that full name; a single name ("Maya", "Ms. Lee")
        # also joins the person it is a first or last name of (the first such person listed).
        multi = [v for v in variants if " " in v]
        keys = variants if len(multi) <= 1 and len(variants) <= 2 else multi
        owner = next((variant_owner[k.lower()] for k in keys if k.lower() in variant_owner), None)
        if owner is None:
            owner = len(groups)
            groups.append(([], role))
        names, old_role = groups[owner]
        groups[owner] = (names + [v for v in variants if v not in names], old_role or role)
        for v in variants:
            variant_owner.setdefault(v.lower(), owner)
    people: list[Person] = []
    mapping: dict[str, str] = {}
    for names, role in groups:
        prefix = _PREFIX.get(role or "", "PERSON")
        used[prefix] += 1
        person = Person(tuple(names), f"[{prefix}_{used[prefix]}]")
        people.append(person)
    seen: set[str] = set()
    for person in people:  # the map as the scrubber applies it: the first person wins a variant
        for n in person.names:
            if n.lower() not in seen:
                seen.add(n.lower())
                mapping[n] = person.pseudonym
    return people, mapping


def _wordlike(
    corpus: Corpus,
    speaker_entries: Sequence[tuple[str, str | None]],
    entries: Sequence[tuple[str, str | None]],
) -> set[str]:
    """Single names taken only from speaker labels that the texts mostly write in lower case.

    Speaker columns hold stray words ("Well", "Math"); a roster name is never one of these.
    """
    listed = {n.lower() for n, _ in entries} - {n.lower() for n, _ in speaker_entries}
    candidates = {v for n, _ in speaker_entries for v in name_variants(n) if " " not in v} - {
        v for v in listed
    }
    if not candidates:
        return set()
    tokens = Counter(_WORD.findall("\n".join(corpus.turns["text"].dropna().tolist())))
    out = set()
    for name in candidates:
        low = tokens[name.lower()]
        # Capitalised counts include every sentence start ("Well, ..."): a quarter is enough.
        if low >= 3 and 4 * low >= tokens[name.capitalize()] + tokens[name.upper()]:
            out.add(name)
    return out


_WORD = re.compile(r"[A-Za-z]+")


def _scrub_value(value: Any, scrubber: Scrubber) -> Any:
    if isinstance(value, str):
        return scrubber.scrub(value)
    if isinstance(value, Mapping):
        return {k: v if k == DEID_KEY else _scrub_value(v, scrubber) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, scrubber) for v in value]
    return value


def _scrub_metas(metas: Sequence[Any], scrubber: Scrubber) -> tuple[list[Any], list[Counter[str]]]:
    """Every string in a column of meta dicts scrubbed, and the replacements per row.

    Distinct strings are scrubbed once, all together; only rows holding a changed string are
    rebuilt. Nested values (dicts, lists) take the slow path, row by row.
    """
    out = list(metas)
    per_row: list[Counter[str]] = [Counter() for _ in out]
    distinct: dict[str, None] = {}
    nested = []
    for i, meta in enumerate(metas):
        if type(meta) is not dict:
            if isinstance(meta, Mapping):
                nested.append(i)
            continue
        for value in meta.values():
            kind = type(value)
            if kind is str:
                distinct[value] = None
            elif kind is dict or kind is list:
                nested.append(i)
                break
    strings = list(distinct)
    new, tallies = scrubber.scrub_texts(strings)
    changed = {s: (n, c) for s, n, c in zip(strings, new, tallies, strict=True) if n != s or c}
    nested_set = set(nested)
    if changed:
        for i, meta in enumerate(metas):
            if i in nested_set or type(meta) is not dict:
                continue
            hits = [v for v in meta.values() if type(v) is str and v in changed]
            if hits:
                out[i] = {
                    k: changed[v][0] if type(v) is str and v in changed else v
                    for k, v in meta.items()
                }
                for v in hits:
                    per_row[i].update(changed[v][1])
    for i in nested:
        out[i] = _scrub_value(metas[i], scrubber)
        per_row[i].update(scrubber.counts)
        scrubber.counts.clear()
    return out, per_row


_DIGITS7 = re.compile(r"\d{3}[\s.)-]+\d{3}")


def _has_digits(text: str) -> bool:
    return _DIGITS7.search(text) is not None


@dataclass
class _Counts:
    """Replacements per dialogue and kind."""

    by_dialogue: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], counts: Counter[str]) -> None:
        if counts:
            self.by_dialogue.setdefault(key, Counter()).update(counts)
            counts.clear()

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.by_dialogue.values())


def _speaker_table(speakers: Sequence[Any], scrubber: Scrubber) -> dict[Any, tuple[Any, int]]:
    """Each distinct speaker label -> (scrubbed label, names replaced in it)."""
    table: dict[Any, tuple[Any, int]] = {}
    for speaker in pd.unique(pd.Series(speakers, dtype=object)):
        if not isinstance(speaker, str):
            table[speaker] = (speaker, 0)
            continue
        exact = scrubber.table.get(" ".join(speaker.split()).lower())
        if exact is not None:  # a label that is a name is replaced even if it is a common word
            table[speaker] = (exact, 1)
            continue
        new = scrubber.scrub(speaker)
        table[speaker] = (new, sum(scrubber.counts.values()))
        scrubber.counts.clear()
    return table


def _scrub_turns(corpus: Corpus, scrubber: Scrubber, counts: _Counts) -> pd.DataFrame:
    t = corpus.turns
    keys = list(zip(t["corpus"].tolist(), t["dialogue_id"].tolist(), strict=True))
    raw = t["text"].tolist()
    present = [i for i, x in enumerate(raw) if isinstance(x, str)]
    scrubbed, per_text = scrubber.scrub_texts([raw[i] for i in present])
    texts = list(raw)
    for i, new, tally in zip(present, scrubbed, per_text, strict=True):
        texts[i] = new
        if tally:
            counts.add(keys[i], tally)
    speakers = t["speaker"].tolist()
    table = _speaker_table(speakers, scrubber)
    new_speakers = []
    for key, speaker in zip(keys, speakers, strict=True):
        label, n = table[speaker] if isinstance(speaker, str) else (speaker, 0)
        new_speakers.append(label)
        if n:
            counts.add(key, Counter(name=n))
    metas, per_row = _scrub_metas(meta_values(t["meta"]), scrubber)
    for key, tally in zip(keys, per_row, strict=True):
        if tally:
            counts.add(key, tally)
    return t.assign(
        text=pd.Series(texts, index=t.index, dtype=t["text"].dtype),
        speaker=pd.Series(new_speakers, index=t.index, dtype=object),
        meta=pd.Series(metas, index=t.index, dtype=object),
    )


def _scrub_ids(
    dialogues: pd.DataFrame, turns: pd.DataFrame, ann: pd.DataFrame, scrubber: Scrubber
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Ids scrubbed like texts (file names often hold names); unit ids follow the same map."""
    rx = scrubber.names_rx
    if rx is None:
        return dialogues, turns, ann
    columns = [dialogues["dialogue_id"], turns["turn_id"], ann["unit_id"]]
    ids = pd.unique(pd.concat(columns, ignore_index=True).dropna())
    if rx.search("\n".join(map(str, ids))) is None:
        return dialogues, turns, ann
    before = Counter(scrubber.counts)
    table = {i: scrubber.scrub(str(i)) for i in ids}
    scrubber.counts.clear()
    scrubber.counts.update(before)  # ids repeat names already counted where they were written
    return (
        dialogues.assign(dialogue_id=dialogues["dialogue_id"].map(table)),
        turns.assign(
            dialogue_id=turns["dialogue_id"].map(table), turn_id=turns["turn_id"].map(table)
        ),
        ann.assign(unit_id=ann["unit_id"].map(table)),
    )


def write_map(path: str | os.PathLike[str], mapping: Mapping[str, str]) -> None:
    """Write the name -> pseudonym map as JSON, atomically (the only place it is ever written).

    The map undoes the de-identification, so the file is created 0600 (owner only) whatever the
    umask; the de-identified corpus itself follows the umask like any shareable output.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError("--keep-map must name a file, not a folder", path=target)
    text = json.dumps(dict(sorted(mapping.items())), ensure_ascii=False, indent=2) + "\n"
    write_text_atomic(target, text, private=True)  # the key to the pseudonyms: owner-only


@dataclass(frozen=True)
class DeidResult:
    """What :func:`deidentify_corpus` returns.

    Attributes
    ----------
    corpus : Corpus
        The de-identified corpus (with its record in dialogue meta).
    mapping : dict
        Original name variant -> pseudonym (keep it out of the corpus).
    counts : dict
        Replacements made, per kind.
    """

    corpus: Corpus
    mapping: Mapping[str, str]
    counts: Mapping[str, int]


def _entries(
    corpus: Corpus,
    roster: str | os.PathLike[str] | Sequence[str] | None,
    ner: str | None,
    speakers: bool,
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The people to look for, with their roles when known, and the sources used."""
    entries = _speaker_people(corpus) if speakers else []
    sources = ["speakers"] if speakers else []
    if roster is not None:
        if isinstance(roster, (str, os.PathLike)):
            listed = read_roster(roster)
        else:
            listed = [(str(n), None) for n in roster]
        roles = {n.casefold(): r for n, r in entries}
        entries = [(n, r or roles.get(n.casefold())) for n, r in listed] + entries
        sources.append("roster")
    if ner is not None:
        entries += [(n, None) for n in ner_names(corpus.turns["text"].dropna().tolist(), ner)]
        sources.append(f"ner:{ner}")
    return entries, [*sources, "patterns"]


def _scrub_tables(corpus: Corpus, scrubber: Scrubber) -> tuple[Corpus, list[Counter[str]]]:
    """Every text, speaker, meta string and id scrubbed; replacements per dialogue row."""
    counts = _Counts()
    turns = _scrub_turns(corpus, scrubber, counts)
    d, ann = corpus.dialogues, corpus.annotations
    dkeys = list(zip(d["corpus"].tolist(), d["dialogue_id"].tolist(), strict=True))
    dmetas, d_counts = _scrub_metas(meta_values(d["meta"]), scrubber)
    for key, tally in zip(dkeys, d_counts, strict=True):
        counts.add(key, tally)
    ametas, a_counts = _scrub_metas(meta_values(ann["meta"]), scrubber)
    if any(a_counts):  # e.g. rationales: counted on the dialogue of the unit
        t = corpus.turns
        unit_dialogue = dict(zip(t["turn_id"].tolist(), t["dialogue_id"].tolist(), strict=True))
        units = zip(ann["corpus"].tolist(), ann["unit_id"].tolist(), a_counts, strict=True)
        for c, unit, tally in units:
            if tally:
                counts.add((c, unit_dialogue.get(unit, unit)), tally)
    dialogues, turns, ann = _scrub_ids(
        d.assign(meta=pd.Series(dmetas, index=d.index, dtype=object)),
        turns,
        ann.assign(meta=pd.Series(ametas, index=ann.index, dtype=object)),
        scrubber,
    )
    per_row = [counts.by_dialogue.get(k, Counter()) for k in dkeys]
    return Corpus(dialogues, turns, ann), per_row


def _previous(meta: Any) -> DeidRecord | None:
    record = DeidRecord.from_meta(meta.get(DEID_KEY)) if isinstance(meta, Mapping) else None
    return record if record is not None and record.by == "edudial" else None


def deidentify_corpus(
    corpus: Corpus,
    *,
    roster: str | os.PathLike[str] | Sequence[str] | None = None,
    ner: str | None = None,
    speakers: bool = True,
    always: Iterable[str] = (),
) -> DeidResult:
    """Like :func:`deidentify`, also returning the name map and the counts (nothing is written).

    Examples
    --------
    >>> from toolkit import Corpus
    >>> deidentify_corpus(Corpus(), roster=["Maya Patel"]).mapping
    {'Maya Patel': '[PERSON_1]', 'Maya': '[PERSON_1]', 'Patel': '[PERSON_1]'}
    """
    entries, sources = _entries(corpus, roster, ner, speakers)
    people, mapping = _assign(entries, corpus)
    words = _wordlike(corpus, _speaker_people(corpus) if speakers else [], entries)
    scrubber = Scrubber(people, always=always, words=words)
    scrubbed, per_row = _scrub_tables(corpus, scrubber)
    total: Counter[str] = Counter()
    for c in per_row:
        total.update(c)
    previous = [_previous(m) for m in meta_values(corpus.dialogues["meta"])]
    if not total and previous and all(p is not None for p in previous):
        return DeidResult(corpus, mapping, {})  # already done, nothing new: change nothing
    metas = []
    for meta, prev, new in zip(
        meta_values(scrubbed.dialogues["meta"]), previous, per_row, strict=True
    ):
        merged = Counter(prev.counts if prev else {}) + new
        record = DeidRecord(
            by="edudial",
            version=_version(),
            sources=tuple(dict.fromkeys([*(prev.sources if prev else ()), *sources])),
            counts={k: merged.get(k, 0) for k in KINDS},
        )
        metas.append({**(meta if isinstance(meta, Mapping) else {}), DEID_KEY: record.to_meta()})
    d = scrubbed.dialogues
    dialogues = d.assign(meta=pd.Series(metas, index=d.index, dtype=object))
    out = Corpus(dialogues, scrubbed.turns, scrubbed.annotations)
    return DeidResult(out, mapping, {k: total.get(k, 0) for k in KINDS})


def _version() -> str:
    from toolkit import __version__

    return __version__


def deidentify(
    corpus: Corpus,
    *,
    roster: str | os.PathLike[str] | Sequence[str] | None = None,
    ner: str | None = None,
    keep_map: str | os.PathLike[str] | None = None,
    speakers: bool = True,
    always: Iterable[str] = (),
) -> Corpus:
    """Replace people's names and contact details with consistent pseudonyms.

    Names come from the speaker column (speakers that are not role words like ``T`` or
    ``Teacher``), a ``roster`` (a CSV with ``name`` and optional ``role`` columns, a text file of
    names, or a list; full names also match their first and last names alone) and, with ``ner``,
    the PERSON entities of an installed spaCy pipeline. Every variant of one person gets the same
    pseudonym in every dialogue, by role where it is known (``[STUDENT_1]``, ``[TEACHER_1]``,
    else ``[PERSON_1]``); names are matched in any case, possessives included. Names that are
    common words (Will, May, Mark, Grace, ...) are replaced only where capitalised mid-sentence,
    unless given in ``always``. E-mails, URLs, phone numbers and @handles become ``[EMAIL]``,
    ``[URL]``, ``[PHONE]``, ``[HANDLE]``. Texts, speakers, every string in meta and ids are
    scrubbed. Each dialogue's meta records the sources, the edudial version and the counts per
    kind; the name map is written only to ``keep_map``. Running it again changes nothing.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> c = Corpus(
    ...     dialogues=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d1"], "split": [None],
    ...                             "kind": [None], "meta": [{}]}),
    ...     turns=pd.DataFrame({"corpus": ["toy"] * 2, "dialogue_id": ["d1"] * 2,
    ...                         "turn_id": ["d1:0", "d1:1"], "index": [0, 1],
    ...                         "role": ["teacher", "student"], "speaker": ["Ms. Lee", "Maya"],
    ...                         "text": ["Maya, will you read?", "Yes Ms. Lee! I'm Maya's twin."],
    ...                         "meta": [{}, {}]}))
    >>> out = deidentify(c)
    >>> out.turns["speaker"].tolist()
    ['[TEACHER_1]', '[STUDENT_1]']
    >>> out.turns["text"].tolist()
    ['[STUDENT_1], will you read?', "Yes [TEACHER_1]! I'm [STUDENT_1]'s twin."]
    >>> is_deidentified(out), deidentify(out) == out
    (True, True)
    """
    result = deidentify_corpus(corpus, roster=roster, ner=ner, speakers=speakers, always=always)
    if keep_map is not None:
        write_map(keep_map, result.mapping)
    return result.corpus


def _check_scrubber(
    corpus: Corpus, roster: str | os.PathLike[str] | Sequence[str] | None, speakers: bool
) -> Scrubber:
    """The scrubber :func:`check` looks with: the roster's and the speakers' names."""
    entries, _ = _entries(corpus, roster, None, speakers)
    people, _ = _assign(entries, corpus)
    return Scrubber(people, words=_wordlike(corpus, _speaker_people(corpus), entries))


def check(
    corpus: Corpus,
    *,
    roster: str | os.PathLike[str] | Sequence[str] | None = None,
    speakers: bool = True,
) -> list[Finding]:
    """Roster and speaker names still present in texts or speakers, with their turn ids.

    Names the roster does not list are not found here: :func:`possible_names` lists the words
    that look like them, for a person to review.

    Examples
    --------
    >>> from toolkit import Corpus
    >>> check(Corpus(), roster=["Maya"])
    []
    """
    scrubber = _check_scrubber(corpus, roster, speakers)
    t = corpus.turns
    found = []
    columns = zip(t["corpus"], t["turn_id"], t["speaker"], t["text"], strict=True)
    for c, turn_id, speaker, text in columns:
        if isinstance(speaker, str) and scrubber.table.get(" ".join(speaker.split()).lower()):
            found.append(Finding(str(c), str(turn_id), "speaker", speaker))
        if isinstance(text, str):
            found.extend(Finding(str(c), str(turn_id), "text", n) for n in scrubber.find(text))
    return found


@dataclass(frozen=True)
class PossibleName:
    """A capitalised word that may be a name no roster lists (see :func:`possible_names`).

    Attributes
    ----------
    name : str
        The word as written (possessive ``'s`` dropped).
    count : int
        How often it is written capitalised in the texts.
    corpus, turn_id : str
        Where it first occurs.
    """

    name: str
    count: int
    corpus: str
    turn_id: str


#: A word: letters, with inner apostrophes (O'Brien, don't).
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_CONTRACTION = re.compile(r"['’](?:s|m|d|ll|ve|re|t)$", re.IGNORECASE)
_OPENERS = " \t\"'“‘(«*-–—"
_TITLE_BEFORE = re.compile(r"\b(?:mr|mrs|ms|mx|dr|prof|st)\.$", re.IGNORECASE)


def _name_position(text: str, start: int, end: int) -> bool:
    """Whether a capitalised word at ``start`` stands where only a name would be capitalised:
    mid-sentence (or after a title: "Ms. Lee"), or at a sentence start followed by a comma or a
    possessive ("Priya, sit down", "Priya's turn")."""
    before = text[max(0, start - 12) : start].rstrip(_OPENERS)
    if before and before[-1] not in ".!?:;\n":
        return True
    if before and _TITLE_BEFORE.search(before):
        return True
    after = text[end : end + 2]
    return after[:1] == "," or after in ("'s", "’s")


def possible_names(
    corpus: Corpus,
    *,
    roster: str | os.PathLike[str] | Sequence[str] | None = None,
    speakers: bool = True,
) -> list[PossibleName]:
    """Capitalised words that may be people's names no roster lists, most frequent first.

    A word is listed when the texts write it capitalised where only a name would be (mid-sentence,
    or at a sentence start before a comma or a possessive), and it is not a dictionary word: the
    corpus never writes it in lower case (the corpus is its own dictionary, so "Well" and "Math"
    are not listed when "well" and "math" occur), and it is not one of
    :data:`toolkit.scrub.CAPITALISED_WORDS` (days, months, languages, ...) or
    :data:`toolkit.scrub.NOT_NAMES`. Roster and speaker names (found by :func:`check`), all-caps
    words and pseudonyms are left out. For a person to review: some are places or products, and
    a name that is also a word ("Will") is not listed.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> c = Corpus(
    ...     dialogues=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d1"], "split": [None],
    ...                             "kind": [None], "meta": [{}]}),
    ...     turns=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d1"], "turn_id": ["d1:0"],
    ...                         "index": [0], "role": ["teacher"], "speaker": ["T"],
    ...                         "text": ["Well, ask Priya. Priya's idea is well made on Monday."],
    ...                         "meta": [{}]}))
    >>> [(p.name, p.count) for p in possible_names(c)]
    [('Priya', 2)]
    """
    known = set(_check_scrubber(corpus, roster, speakers).table)
    lower: set[str] = set()
    capitalised: Counter[str] = Counter()
    as_name: set[str] = set()
    first: dict[str, tuple[str, str]] = {}
    t = corpus.turns
    for c, turn_id, text in zip(t["corpus"], t["turn_id"], t["text"], strict=True):
        if not isinstance(text, str):
            continue
        for m in _TOKEN.finditer(text):
            word = _CONTRACTION.sub("", m.group())
            if word.islower():
                lower.add(word)
                continue
            if len(word) < 2 or not word[0].isupper() or word.isupper():
                continue
            capitalised[word] += 1
            first.setdefault(word, (str(c), str(turn_id)))
            if word not in as_name and _name_position(text, m.start(), m.start() + len(word)):
                as_name.add(word)
    out = []
    for word in as_name:
        key = word.lower()
        if key in lower or key in known or key in CAPITALISED_WORDS or key in NOT_NAMES:
            continue
        out.append(PossibleName(word, capitalised[word], *first[word]))
    return sorted(out, key=lambda p: (-p.count, p.name))
