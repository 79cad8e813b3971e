"""Import checked workbooks into a corpus: all of them or none.

:func:`import_workbooks` reads every workbook, collects every problem (bad cells, rows, another
rubric or corpus, a coder's round imported twice, a round coded before with another rubric) and
raises one :class:`~annotation.coding.importer.WorkbookError` listing them; only when there is
none does it return the new corpus. Coding workbooks are applied first, then adjudication
workbooks, so one import can carry both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from annotation.coding.adjudication import adjudicate
from annotation.coding.importer import (
    ReadWorkbook,
    WorkbookError,
    check_against_corpus,
    read_workbook,
)
from annotation.coding.rows import AdjudicationResult, coder_rows, replace_round
from annotation.coding.units import meta_dicts
from annotation.rubric import Rubric
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["ImportOutcome", "import_workbooks", "read_workbooks"]


@dataclass
class ImportOutcome:
    """The corpus with the imported rows, the workbooks read and each adjudication's counts."""

    corpus: Corpus
    books: list[ReadWorkbook]
    adjudications: list[AdjudicationResult] = field(default_factory=list)


def read_workbooks(
    paths: Sequence[str | os.PathLike[str]],
    *,
    rubric: Rubric | None = None,
    manifest: str | os.PathLike[str] | None = None,
) -> tuple[list[ReadWorkbook], list[str]]:
    """Read every workbook; return those that passed and every problem of the others."""
    books, problems = [], []
    for p in paths:
        try:
            books.append(read_workbook(p, rubric=rubric, manifest_path=manifest))
        except WorkbookError as exc:
            problems += exc.problems
        except InputError as exc:
            problems.append(str(exc))
    return books, problems


def _conflicts(books: Sequence[ReadWorkbook], corpus: Corpus) -> list[str]:
    """The same person's round twice in one import, or a round coded before with another rubric."""
    problems = []
    seen: dict[tuple[str, str, str], str] = {}
    for b in books:
        m = b.manifest
        key = (m.kind, m.person, m.round)
        if key in seen:
            problems.append(
                f"{b.path.name}: {m.person}'s round {m.round!r} is also in {seen[key]}; "
                "import one of them"
            )
        seen[key] = b.path.name
    a = corpus.annotations
    for b in books:
        m = b.manifest
        rater = m.person if m.kind == "coding" else "adjudicated"
        mask = ((a["rater"] == rater) & (a["run_id"] == m.round)).fillna(False)
        hashes = {
            str(meta["rubric_sha256"])
            for meta in meta_dicts(a.loc[mask.to_numpy(dtype=bool), "meta"])
            if meta.get("rubric_sha256")
        }
        hashes.discard(m.rubric.sha256)
        if hashes:
            problems.append(
                f"{b.path.name}: {rater}'s round {m.round!r} in the corpus was coded with "
                f"another rubric version (sha256 {sorted(hashes)[0][:12]}), this workbook with "
                f"{m.rubric.id} {m.rubric.version} (sha256 {m.rubric.sha256[:12]}); use a new "
                "round"
            )
    return problems


def import_workbooks(
    corpus: Corpus,
    paths: Sequence[str | os.PathLike[str]],
    *,
    rubric: Rubric | None = None,
    manifest: str | os.PathLike[str] | None = None,
) -> ImportOutcome:
    """``corpus`` with the labels of the filled workbooks ``paths`` (coders' and adjudications).

    Each coding workbook replaces its coder's labels of its round (no duplicates on
    re-import); each adjudication workbook replaces the round's ``adjudicated`` rows. Nothing
    is returned (and so nothing written) when any problem is found.

    Parameters
    ----------
    corpus : Corpus
    paths : list of path
        ``.xlsx`` workbooks, or ``.csv`` files with their ``.manifest.json``.
    rubric : Rubric, optional
        Refuse workbooks made for another rubric (id, version or content).
    manifest : path, optional
        The manifest of a CSV file whose manifest is not beside it.

    Raises
    ------
    WorkbookError
        Every problem of every workbook.
    """
    if not paths:
        raise InputError("no workbooks to import")
    books, problems = read_workbooks(paths, rubric=rubric, manifest=manifest)
    problems += check_against_corpus(books, corpus)
    problems += _conflicts(books, corpus)
    if problems:
        raise WorkbookError(problems)
    out = ImportOutcome(corpus, books)
    for b in (b for b in books if b.manifest.kind == "coding"):
        m = b.manifest
        rows = coder_rows(b.labels, coder=m.person, round=m.round, rubric=m.rubric, source=b.source)
        out.corpus = replace_round(
            out.corpus, rows, rater=m.person, round=m.round, schemes=m.rubric.schemes
        )
    for b in (b for b in books if b.manifest.kind == "adjudication"):
        out.corpus, res = adjudicate(out.corpus, b)
        out.adjudications.append(res)
    return out
