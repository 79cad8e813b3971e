"""Disagreement workbooks and adjudication: the coders' labels side by side, a final label chosen.

``write_disagreements`` lists every unit (and scheme) on which the coders of a round differ,
each coder's label in its own column, optionally a model's label in a column clearly marked
``MODEL ... (reference only)`` (off by default), and a ``final label`` dropdown. Importing the
filled workbook (:func:`adjudicate`) writes rater ``adjudicated``: the decisions, plus the
agreed (or single-coder) label of every other unit of the round, so the gold set is whole.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from annotation.coding.importer import ReadWorkbook, WorkbookError
from annotation.coding.rows import (
    ADJUDICATED,
    AdjudicationResult,
    adjudicated_rows,
    check_coder_name,
    find_disagreements,
    replace_round,
    round_labels,
)
from annotation.coding.sampling import CorpusIdentity
from annotation.coding.units import CodingUnit, UnitRef, coding_units
from annotation.coding.workbook import (
    ExportedWorkbook,
    SheetRow,
    WorkbookManifest,
    write_csv,
    write_xlsx,
)
from annotation.rubric import Rubric
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["adjudicate", "disagreement_manifest", "write_disagreements"]


def _model_labels(corpus: Corpus, model: str | None) -> dict[tuple[str, str, str], str]:
    if model is None:
        return {}
    a = corpus.annotations
    sub = a[(a["rater"] == model).fillna(False).to_numpy(dtype=bool) & a["label"].notna()]
    if sub.empty:
        raise InputError(f"--show-model: rater {model!r} has no labels in the corpus")
    return {
        (str(c), str(u), str(s)): str(lab)
        for c, u, s, lab in zip(
            sub["corpus"].tolist(),
            sub["unit_id"].tolist(),
            sub["scheme"].tolist(),
            sub["label"].tolist(),
            strict=True,
        )
    }


def disagreement_manifest(
    corpus: Corpus,
    rubric: Rubric,
    *,
    coders: Sequence[str],
    round: str,
    adjudicator: str = "adjudicator",
    model: str | None = None,
    schemes: Sequence[str] | None = None,
) -> tuple[WorkbookManifest, list[CodingUnit]]:
    """The manifest and units (in corpus order) of the disagreement workbook of a round.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> c = bundled_sample()
    >>> c = c.with_annotations(c.annotations.assign(run_id="r1"), replace=True)
    >>> m, units = disagreement_manifest(c, load_rubric("mathdial-moves"),
    ...                                  coders=["coder_a", "coder_b"], round="r1")
    >>> len(m.rows) == len(units) > 0, m.rows[0].shown[0][0]
    (True, 'coder_a')
    """
    check_coder_name(adjudicator, "adjudicator")
    if len(coders) < 2:
        raise InputError("--raters: name at least two coders to compare")
    chosen = list(schemes or rubric.schemes)
    unknown = [s for s in chosen if s not in rubric.schemes]
    if unknown:
        raise InputError(f"--scheme {', '.join(unknown)} is not written by rubric {rubric.id}")
    found = find_disagreements(corpus.annotations, coders=coders, round=round, schemes=chosen)
    if not found:
        raise InputError(
            f"no disagreements between {', '.join(coders)} in round {round!r} "
            f"({', '.join(chosen)}): nothing to adjudicate; `edudial code import` of an "
            "adjudication workbook is not needed"
        )
    dialogue = corpus.unit_dialogues()
    units = coding_units(
        corpus,
        rubric,
        [UnitRef(d.corpus, d.unit_id, dialogue[(d.corpus, d.unit_id)]) for d in found],
    )
    shown_model = _model_labels(corpus, model)
    rows = []
    for d, u in zip(found, units, strict=True):
        shown = list(d.labels)
        if model is not None:
            shown.append((model, shown_model.get((d.corpus, d.unit_id, d.scheme), "")))
        rows.append(
            SheetRow(d.corpus, d.unit_id, u.dialogue_id, u.checksum, d.scheme, tuple(shown))
        )
    m = WorkbookManifest(
        kind="adjudication",
        person=adjudicator,
        round=round,
        rubric=rubric,
        corpus=CorpusIdentity.of(corpus),
        rows=tuple(rows),
        seed=0,
        coders=tuple(coders),
        model=model,
        following=rubric.unit == "turn" and rubric.context.following_turns > 0,
    )
    return m, units


def write_disagreements(
    corpus: Corpus,
    rubric: Rubric,
    out: str | os.PathLike[str],
    *,
    coders: Sequence[str],
    round: str,
    adjudicator: str = "adjudicator",
    model: str | None = None,
    schemes: Sequence[str] | None = None,
) -> ExportedWorkbook:
    """Write the adjudication workbook (``.xlsx``, or ``.csv`` plus its manifest) to ``out``.

    Parameters
    ----------
    corpus : Corpus
        Holds the coders' rows of ``round`` (imported with ``edudial code import``).
    rubric : Rubric
    out : path
    coders : list of str
        At least two coders.
    round : str
    adjudicator : str
        Named in the ``adjudicated`` rows' ``meta``.
    model : str, optional
        A model rater whose label is shown for reference (clearly marked). Off by default.
    schemes : list of str, optional
        Default: all the rubric's schemes.
    """
    m, units = disagreement_manifest(
        corpus,
        rubric,
        coders=coders,
        round=round,
        adjudicator=adjudicator,
        model=model,
        schemes=schemes,
    )
    p = Path(out)
    return write_csv(p, m, units) if p.suffix.lower() == ".csv" else write_xlsx(p, m, units)


def _stale(book: ReadWorkbook, corpus: Corpus) -> list[str]:
    """Rows whose coder labels changed in the corpus since the workbook was exported."""
    m = book.manifest
    now = round_labels(corpus.annotations, raters=m.coders, round=m.round, schemes=m.rubric.schemes)
    out = []
    for row in m.rows:
        have = now.get((row.corpus, row.unit_id, row.scheme or ""), {})
        shown = {r: lab for r, lab in row.shown if r in m.coders}
        if have != shown:
            out.append(
                f"{book.path.name}: unit {row.unit_id!r}: the coders' labels are now {have}, the "
                f"workbook showed {shown} (re-imported since?); export the disagreements again"
            )
    return out


def adjudicate(corpus: Corpus, book: ReadWorkbook) -> tuple[Corpus, AdjudicationResult]:
    """``corpus`` with the ``adjudicated`` rows of a checked adjudication workbook.

    Replaces earlier ``adjudicated`` rows of the same round (re-import: no duplicates).

    Raises
    ------
    WorkbookError
        The coders' labels changed since the workbook was written.
    """
    m = book.manifest
    if m.kind != "adjudication":
        raise InputError("not an adjudication workbook", path=book.path)
    problems = _stale(book, corpus)
    if problems:
        raise WorkbookError(problems)
    res = adjudicated_rows(
        corpus.annotations,
        book.labels,
        coders=m.coders,
        round=m.round,
        adjudicator=m.person,
        rubric=m.rubric,
        source=book.source,
    )
    new = replace_round(
        corpus, res.rows, rater=ADJUDICATED, round=m.round, schemes=m.rubric.schemes
    )
    return new, res
