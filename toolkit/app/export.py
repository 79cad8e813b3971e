"""Labels out of the app's store, as the same annotation rows the workbook path writes.

The rows are built by :mod:`annotation.coding` (:func:`~annotation.coding.coder_rows`,
:func:`~annotation.coding.adjudicated_rows`, :func:`~annotation.coding.replace_round`), the
builders ``edudial code import`` uses, with ``meta.source`` = ``"app"``: one row per coder,
finished unit and scheme, and rater ``adjudicated`` rows once the lead has decided at least one
disagreement (the decision where the coders differed, the agreed label elsewhere).

A decision counts only while the coders' labels are the ones it decided between: when a coder
changed a label afterwards, the unit gets no ``adjudicated`` row (not even an agreed one) and is
listed as undecided and reopened until the lead decides it again, as the app shows it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from annotation.coding import (
    ADJUDICATED,
    CodedLabel,
    Disagreement,
    LabelSource,
    adjudicated_rows,
    coder_rows,
    replace_round,
)
from annotation.rubric import Rubric
from toolkit.app.questions import questions
from toolkit.app.store import Store
from toolkit.schema import Corpus

__all__ = ["ExportResult", "export_labels"]


@dataclass(frozen=True)
class ExportResult:
    """The corpus with the store's labels, and what was written.

    Attributes
    ----------
    corpus : Corpus
        The input corpus, each coder's (and ``adjudicated``'s) rows of the round replaced.
    rows : dict
        Rater -> number of rows written.
    undecided : list of Disagreement
        Disagreements the lead has not decided yet (no ``adjudicated`` row), the reopened ones
        included.
    reopened : list of Disagreement
        Units whose decision no longer holds: a coder changed a label after it (no
        ``adjudicated`` row until the lead decides again).
    """

    corpus: Corpus
    rows: dict[str, int]
    undecided: list[Disagreement] = field(default_factory=list)
    reopened: list[Disagreement] = field(default_factory=list)


def _coded(store: Store, rubric: Rubric) -> dict[str, list[CodedLabel]]:
    """Each coder's finished labels, with the page they were given on as ``where``."""
    scheme = {q.name: q.scheme for q in questions(rubric)}
    where = {
        c: {key: n for n, key in enumerate(store.assignment(c), start=1)} for c in store.coders()
    }
    out: dict[str, list[CodedLabel]] = defaultdict(list)
    for a in store.done_answers():
        page = where[a.coder].get((a.corpus, a.unit_id))
        out[a.coder].append(
            CodedLabel(
                a.corpus,
                a.unit_id,
                scheme[a.question],
                a.label,
                note=a.notes or None,
                where=f"{store.path.name}:/code/{a.coder}/{page}",
            )
        )
    return out


def export_labels(corpus: Corpus, store: Store, rubric: Rubric) -> ExportResult:
    """``corpus`` with the labels of ``store`` as annotation rows (same rows as the workbooks).

    Every coder's rows of the store's round replace that coder's earlier rows of the round (a unit
    not finished in the app has no row), so exporting again never duplicates a row.

    Examples
    --------
    >>> import tempfile, os
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.app.session import SessionOptions, open_session
    >>> from toolkit.demo import bundled_sample
    >>> corpus, rubric = bundled_sample(), load_rubric("mathdial-moves")
    >>> s = open_session(corpus, rubric, os.path.join(tempfile.mkdtemp(), "c.sqlite"),
    ...                  SessionOptions(coders=["ana", "ben"], round="r1"))
    >>> s.store.answer("ana", s.order["ana"][0], "", "probing", questions=[""])
    True
    >>> res = export_labels(corpus, s.store, rubric)
    >>> res.rows
    {'ana': 1, 'ben': 0}
    """
    info = store.info()
    source = LabelSource("app", file=store.path.name)
    coded = _coded(store, rubric)
    counts: dict[str, int] = {}
    for coder in store.coders():
        rows = coder_rows(
            coded.get(coder, []), coder=coder, round=info.round, rubric=rubric, source=source
        )
        corpus = replace_round(corpus, rows, rater=coder, round=info.round, schemes=rubric.schemes)
        counts[coder] = len(rows)
    decided = store.decisions()
    if not decided:
        return ExportResult(corpus, counts)
    scheme = {q.name: q.scheme for q in questions(rubric)}
    now: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for a in store.done_answers():
        now[(a.corpus, a.unit_id, scheme[a.question])][a.coder] = a.label

    def unit_scheme(k: tuple[tuple[str, str], str]) -> tuple[str, str, str]:
        return (k[0][0], k[0][1], scheme[k[1]])

    holding = {k: d for k, d in decided.items() if d.holds(now[unit_scheme(k)])}
    stale = sorted(unit_scheme(k) for k in decided if k not in holding)
    decisions = [
        CodedLabel(key[0], key[1], scheme[q], d.label, where=f"{store.path.name}:/adjudicate")
        for (key, q), d in sorted(holding.items())
    ]
    res = adjudicated_rows(
        corpus.annotations,
        decisions,
        coders=store.coders(),
        round=info.round,
        adjudicator=info.adjudicator,
        rubric=rubric,
        source=source,
    )
    coders = store.coders()
    reopened = [
        Disagreement(*k, tuple((c, now[k][c]) for c in coders if c in now[k])) for k in stale
    ]
    gold = res.rows
    if stale:  # an agreed row would stand in for the lead's decision: none until decided again
        drop = set(stale)
        keys = zip(gold["corpus"], gold["unit_id"], gold["scheme"], strict=True)
        gold = gold.loc[[k not in drop for k in keys]].reset_index(drop=True)
    undecided = list(res.undecided)
    undecided += [d for d in reopened if d not in undecided]
    corpus = replace_round(
        corpus, gold, rater=ADJUDICATED, round=info.round, schemes=rubric.schemes
    )
    counts[ADJUDICATED] = len(gold)
    return ExportResult(corpus, counts, undecided, reopened)
