"""Labels out of the app's store, as ordinary annotation rows.

One row per coder, finished unit and question (rater = coder, ``rater_kind`` human, ``run_id`` =
the coding round), plus rater ``adjudicated`` rows for every double-coded unit: the adjudicator's
label where the coders differed, the agreed label where they agreed (so the gold set is whole).
Units still disputed and not yet adjudicated get no ``adjudicated`` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from toolkit.app.questions import Question
from toolkit.app.review import disputes
from toolkit.app.store import Answer, Store
from toolkit.app.units import UnitKey
from toolkit.schema import ANNOTATION_COLUMNS, Corpus

__all__ = ["ADJUDICATED", "LabelRows", "label_rows", "merge_rows"]

#: rater name of the final (gold) labels, as the workbook path writes them
ADJUDICATED = "adjudicated"


@dataclass(frozen=True)
class LabelRows:
    """The store's labels as annotation rows, and the raters they belong to."""

    rows: pd.DataFrame
    raters: tuple[str, ...]
    round: str


def _coder_row(a: Answer, q: Question, round_: str, source: str) -> dict[str, object]:
    meta: dict[str, object] = {"source": source, "coded_at": a.updated}
    if q.name:
        meta["category"] = q.name
    if a.notes:
        meta["notes"] = a.notes
    if a.flag:
        meta["flagged"] = True
    return {
        "corpus": a.corpus,
        "unit_id": a.unit_id,
        "scheme": q.scheme,
        "label": a.label,
        "rater": a.coder,
        "rater_kind": "human",
        "run_id": round_,
        "meta": meta,
    }


def _adjudicated_rows(
    store: Store, answers: Sequence[Answer], qs: Sequence[Question], order: Sequence[UnitKey]
) -> list[dict[str, object]]:
    by_name = {q.name: q for q in qs}
    decided = store.adjudications()
    info = store.info()
    out: list[dict[str, object]] = []
    for d in disputes(answers, order, include_agreed=True):
        for name, per in d.labels.items():
            if name in d.disputed:
                if (d.key, name) not in decided:
                    continue
                label, who = decided[(d.key, name)]
                meta: dict[str, object] = {"adjudicator": who, "agreed": False}
            else:
                label = next(iter(per.values()))
                meta = {"adjudicator": info.adjudicator, "agreed": True}
            meta["coders"] = dict(sorted(per.items()))
            if name:
                meta["category"] = name
            out.append(
                {
                    "corpus": d.key[0],
                    "unit_id": d.key[1],
                    "scheme": by_name[name].scheme,
                    "label": label,
                    "rater": ADJUDICATED,
                    "rater_kind": "human",
                    "run_id": info.round,
                    "meta": meta,
                }
            )
    return out


def label_rows(store: Store, qs: Sequence[Question], order: Sequence[UnitKey]) -> LabelRows:
    """Every finished label of the store (and the adjudicated labels) as annotation rows.

    ``order`` gives the unit order of the adjudicated rows (corpus order).
    """
    info = store.info()
    by_name = {q.name: q for q in qs}
    answers = store.done_answers()
    source = f"edudial code serve ({store.path.name})"
    rows = [_coder_row(a, by_name[a.question], info.round, source) for a in answers]
    rows += _adjudicated_rows(store, answers, qs, order)
    frame = pd.DataFrame(rows, columns=list(ANNOTATION_COLUMNS))
    return LabelRows(frame, (*store.coders(), ADJUDICATED), info.round)


def merge_rows(corpus: Corpus, labels: LabelRows) -> Corpus:
    """``corpus`` with ``labels`` added, replacing earlier rows of the same raters and round.

    Exporting again after more coding therefore never duplicates a row.
    """
    a = corpus.annotations
    same = a["rater"].isin(labels.raters) & (a["run_id"].fillna("") == labels.round)
    kept = a[~same]
    merged = pd.concat([kept, labels.rows], ignore_index=True) if len(kept) else labels.rows
    return corpus.with_annotations(merged, replace=True)
