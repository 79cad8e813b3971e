"""Human labels as ordinary annotation rows: coders, adjudication, and replacing a coder's round.

Every path that collects human codes (the XLSX/CSV workbooks, the coding web app, a script) turns
them into rows here, so the rows are identical whatever the path:

- a coder's rows: ``rater`` = the coder, ``rater_kind`` = ``"human"``, ``run_id`` = the coding
  round, ``meta`` = ``{"coder", "round", "rubric", "rubric_version", "rubric_sha256", "source",
  "file", "file_sha256", "where", "note"}`` (plus ``"category"`` for multi, binary and dimensions
  rubrics, as model rows have it);
- adjudicated rows: ``rater`` = ``"adjudicated"`` with ``meta["adjudicator"]``, ``meta["basis"]``
  (``decided``, ``agreed`` or ``single_coder``) and each coder's label in ``meta["coders"]``.

Importing the same coder's round again replaces its rows (:func:`replace_round`): no duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from annotation.rubric import Rubric
from toolkit.errors import InputError
from toolkit.schema import ANNOTATION_COLUMNS, Corpus

__all__ = [
    "ADJUDICATED",
    "AdjudicationResult",
    "CodedLabel",
    "Disagreement",
    "LabelSource",
    "adjudicated_rows",
    "check_coder_name",
    "coder_rows",
    "find_disagreements",
    "replace_round",
    "round_labels",
]

#: The rater name of adjudicated (gold) labels.
ADJUDICATED = "adjudicated"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_coder_name(name: str, what: str = "coder") -> str:
    """Return ``name`` if it can be a human rater's name, else raise :class:`InputError`.

    Names are letters, digits, ``_ . -`` (they become file names); ``@`` is left to model
    raters (``model@rubric@version``) and ``adjudicated`` is reserved.

    Examples
    --------
    >>> check_coder_name("ana")
    'ana'
    """
    if not _NAME.match(name or ""):
        raise InputError(
            f"{what} name {name!r}: use letters, digits, '_', '.' or '-' (it names a file)"
        )
    if name == ADJUDICATED and what == "coder":
        raise InputError(f"coder name {name!r} is reserved for adjudicated labels")
    return name


@dataclass(frozen=True)
class LabelSource:
    """Where a batch of labels came from, recorded in every row's ``meta``.

    Attributes
    ----------
    kind : {"workbook", "csv", "app", "python"}
    file : str, optional
        The file's name (``ana.xlsx``).
    sha256 : str, optional
        The file's sha256 at import.
    """

    kind: Literal["workbook", "csv", "app", "python"]
    file: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class CodedLabel:
    """One label given by a person for one unit and scheme.

    Attributes
    ----------
    corpus, unit_id : str
        The unit.
    scheme : str
        One of the rubric's schemes (``rubric.schemes``).
    label : str
        One of that scheme's labels (``rubric.category_orders[scheme]``).
    note : str, optional
        The coder's note.
    where : str, optional
        The place it was given, for messages and provenance (``ana.xlsx!Code!D17``).
    """

    corpus: str
    unit_id: str
    scheme: str
    label: str
    note: str | None = None
    where: str | None = None


def _categories(rubric: Rubric) -> dict[str, str | None]:
    """Scheme -> the category it decides (``None`` for single-label rubrics)."""
    if rubric.mode == "single":
        return {rubric.scheme: None}
    return {rubric.scheme_for(c): c for c in rubric.label_names}


def _check_labels(labels: Sequence[CodedLabel], rubric: Rubric) -> None:
    """Every label in its scheme's vocabulary, at most one label per unit and scheme."""
    problems: list[str] = []
    orders = rubric.category_orders
    seen: set[tuple[str, str, str]] = set()
    for lab in labels:
        at = f"{lab.where}: " if lab.where else f"{lab.corpus}/{lab.unit_id}: "
        allowed = orders.get(lab.scheme)
        if allowed is None:
            problems.append(f"{at}scheme {lab.scheme!r} is not one of {rubric.rater}'s")
        elif lab.label not in allowed:
            problems.append(f"{at}{lab.label!r} is not a label of {rubric.id} {rubric.version}")
        key = (lab.corpus, lab.unit_id, lab.scheme)
        if key in seen:
            problems.append(f"{at}{lab.unit_id} is labelled twice under {lab.scheme}")
        seen.add(key)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(problems[0] + more)


def _rubric_meta(rubric: Rubric) -> dict[str, Any]:
    return {
        "rubric": rubric.id,
        "rubric_version": rubric.version,
        "rubric_sha256": rubric.sha256,
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ANNOTATION_COLUMNS))


def coder_rows(
    labels: Iterable[CodedLabel],
    *,
    coder: str,
    round: str,
    rubric: Rubric,
    source: LabelSource,
) -> pd.DataFrame:
    """Annotation rows of one coder's labels in one coding round.

    Parameters
    ----------
    labels : iterable of CodedLabel
        At most one per unit and scheme, each from the rubric's vocabulary.
    coder : str
        The rater name (see :func:`check_coder_name`).
    round : str
        The coding round, written as ``run_id``.
    rubric : Rubric
    source : LabelSource

    Returns
    -------
    pandas.DataFrame
        Rows in the annotation schema (``rater_kind`` ``"human"``).

    Raises
    ------
    InputError
        A label outside the rubric, an unknown scheme, or a unit labelled twice (every problem
        counted, the first named).

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> r = load_rubric("mathdial-moves")
    >>> rows = coder_rows([CodedLabel("mathdial", "d1:2", "mathdial/move", "probing")],
    ...                   coder="ana", round="r1", rubric=r, source=LabelSource("python"))
    >>> rows[["unit_id", "label", "rater", "rater_kind", "run_id"]].values.tolist()
    [['d1:2', 'probing', 'ana', 'human', 'r1']]
    >>> rows["meta"][0]["rubric_version"]
    '1.0'
    """
    check_coder_name(coder)
    items = list(labels)
    _check_labels(items, rubric)
    cats = _categories(rubric)
    base = {
        "coder": coder,
        "round": round,
        **_rubric_meta(rubric),
        "source": source.kind,
        "file": source.file,
        "file_sha256": source.sha256,
    }
    rows = []
    for lab in items:
        meta = dict(base, where=lab.where, note=lab.note)
        if cats[lab.scheme] is not None:
            meta["category"] = cats[lab.scheme]
        rows.append(
            {
                "corpus": lab.corpus,
                "unit_id": lab.unit_id,
                "scheme": lab.scheme,
                "label": lab.label,
                "rater": coder,
                "rater_kind": "human",
                "run_id": round,
                "meta": meta,
            }
        )
    return _frame(rows)


def replace_round(
    corpus: Corpus,
    rows: pd.DataFrame,
    *,
    rater: str,
    round: str,
    schemes: Sequence[str],
) -> Corpus:
    """``corpus`` with ``rater``'s labels of ``round`` in ``schemes`` replaced by ``rows``.

    Importing the same workbook twice therefore leaves one set of rows; a unit left blank in the
    new import loses its old label (the import is the coder's whole round).

    Raises
    ------
    InputError
        ``rows`` holding another rater, round or scheme.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> c, r = bundled_sample(), load_rubric("mathdial-moves")
    >>> unit = c.turns[c.turns["role"] == "teacher"]["turn_id"].iloc[0]
    >>> rows = coder_rows([CodedLabel("demo", unit, "mathdial/move", "focus")],
    ...                   coder="ana", round="r1", rubric=r, source=LabelSource("python"))
    >>> once = replace_round(c, rows, rater="ana", round="r1", schemes=r.schemes)
    >>> twice = replace_round(once, rows, rater="ana", round="r1", schemes=r.schemes)
    >>> len(twice.annotations) - len(c.annotations)
    1
    """
    bad = rows[
        (rows["rater"] != rater) | (rows["run_id"] != round) | ~rows["scheme"].isin(list(schemes))
    ]
    if len(bad):
        first = bad.iloc[0]
        raise InputError(
            f"replace_round({rater!r}, {round!r}): row of {first['rater']!r} / "
            f"{first['run_id']!r} / {first['scheme']!r} does not belong to that round"
        )
    a = corpus.annotations
    old = (a["rater"] == rater) & (a["run_id"] == round) & a["scheme"].isin(list(schemes))
    kept = a[~old.fillna(False).to_numpy(dtype=bool)]
    return corpus.with_annotations(pd.concat([kept, rows], ignore_index=True), replace=True)


def round_labels(
    annotations: pd.DataFrame, *, raters: Sequence[str], round: str, schemes: Sequence[str]
) -> dict[tuple[str, str, str], dict[str, str]]:
    """``(corpus, unit_id, scheme)`` -> ``{rater: label}`` for the raters' labels of ``round``.

    Units appear in table order; missing labels (NA) are left out.

    Examples
    --------
    >>> a = pd.DataFrame({"corpus": "c", "unit_id": ["u1", "u1"], "scheme": "s",
    ...                   "label": ["x", "y"], "rater": ["ana", "ben"], "run_id": "r1"})
    >>> round_labels(a, raters=["ana", "ben"], round="r1", schemes=["s"])
    {('c', 'u1', 's'): {'ana': 'x', 'ben': 'y'}}
    """
    a = annotations
    mask = a["rater"].isin(list(raters)) & (a["run_id"] == round) & a["scheme"].isin(list(schemes))
    sub = a[mask.fillna(False).to_numpy(dtype=bool) & a["label"].notna().to_numpy()]
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    for c, u, s, r, lab in zip(
        sub["corpus"].tolist(),
        sub["unit_id"].tolist(),
        sub["scheme"].tolist(),
        sub["rater"].tolist(),
        sub["label"].tolist(),
        strict=True,
    ):
        out.setdefault((str(c), str(u), str(s)), {})[str(r)] = str(lab)
    return out


@dataclass(frozen=True)
class Disagreement:
    """A unit and scheme on which the coders of a round gave different labels.

    ``labels`` holds ``(coder, label)`` pairs in the order the coders were named.
    """

    corpus: str
    unit_id: str
    scheme: str
    labels: tuple[tuple[str, str], ...]


def find_disagreements(
    annotations: pd.DataFrame, *, coders: Sequence[str], round: str, schemes: Sequence[str]
) -> list[Disagreement]:
    """Units where at least two of ``coders`` labelled the unit and their labels differ.

    Examples
    --------
    >>> a = pd.DataFrame({"corpus": "c", "unit_id": ["u1", "u1", "u2", "u2"], "scheme": "s",
    ...                   "label": ["x", "y", "x", "x"], "rater": ["ana", "ben"] * 2,
    ...                   "run_id": "r1"})
    >>> [d.unit_id for d in find_disagreements(a, coders=["ana", "ben"], round="r1",
    ...                                          schemes=["s"])]
    ['u1']
    """
    out = []
    for (c, u, s), by in round_labels(
        annotations, raters=coders, round=round, schemes=schemes
    ).items():
        if len(set(by.values())) > 1:
            out.append(Disagreement(c, u, s, tuple((r, by[r]) for r in coders if r in by)))
    return out


@dataclass(frozen=True)
class AdjudicationResult:
    """Rows of rater ``adjudicated`` and how each came about.

    Attributes
    ----------
    rows : pandas.DataFrame
        Annotation rows (``rater`` ``"adjudicated"``, ``rater_kind`` ``"human"``).
    decided, agreed, single_coder : int
        Rows whose label the adjudicator chose / on which every coder agreed / that one coder
        alone labelled.
    undecided : list of Disagreement
        Disagreements without a decision (left out of ``rows``).
    """

    rows: pd.DataFrame
    decided: int
    agreed: int
    single_coder: int
    undecided: list[Disagreement] = field(default_factory=list)


def adjudicated_rows(
    annotations: pd.DataFrame,
    decisions: Iterable[CodedLabel],
    *,
    coders: Sequence[str],
    round: str,
    adjudicator: str,
    rubric: Rubric,
    source: LabelSource,
) -> AdjudicationResult:
    """Gold rows for a round: the adjudicator's decisions, and the coders' label elsewhere.

    Every unit and scheme labelled by the coders in ``round`` gets one ``adjudicated`` row: the
    decision when there is one; otherwise the label all its coders agree on (``basis``
    ``agreed``, or ``single_coder`` when only one coder labelled it). Disagreements without a
    decision get no row and are listed in ``undecided``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> a = pd.DataFrame({"corpus": "c", "unit_id": ["u1", "u1", "u2", "u2"],
    ...                   "scheme": "mathdial/move", "rater": ["ana", "ben"] * 2,
    ...                   "label": ["focus", "probing", "telling", "telling"], "run_id": "r1"})
    >>> res = adjudicated_rows(a, [CodedLabel("c", "u1", "mathdial/move", "probing")],
    ...                        coders=["ana", "ben"], round="r1", adjudicator="cy",
    ...                        rubric=load_rubric("mathdial-moves"), source=LabelSource("python"))
    >>> res.rows[["unit_id", "label", "rater"]].values.tolist()
    [['u1', 'probing', 'adjudicated'], ['u2', 'telling', 'adjudicated']]
    >>> [m["basis"] for m in res.rows["meta"]], res.decided, res.agreed
    (['decided', 'agreed'], 1, 1)
    """
    check_coder_name(adjudicator, "adjudicator")
    chosen = list(decisions)
    _check_labels(chosen, rubric)
    by_unit = {(d.corpus, d.unit_id, d.scheme): d for d in chosen}
    coded = round_labels(annotations, raters=coders, round=round, schemes=rubric.schemes)
    cats = _categories(rubric)
    base = {
        "adjudicator": adjudicator,
        "round": round,
        **_rubric_meta(rubric),
        "source": source.kind,
        "file": source.file,
        "file_sha256": source.sha256,
    }
    rows: list[dict[str, Any]] = []
    counts = {"decided": 0, "agreed": 0, "single_coder": 0}
    undecided = []
    for key in list(coded) + [k for k in by_unit if k not in coded]:
        by = coded.get(key, {})
        decision = by_unit.get(key)
        if decision is not None:
            label, basis, note, where = decision.label, "decided", decision.note, decision.where
        elif len(set(by.values())) == 1:
            label = next(iter(by.values()))
            basis = "agreed" if len(by) > 1 else "single_coder"
            note, where = None, None
        else:
            undecided.append(Disagreement(*key, tuple((r, by[r]) for r in coders if r in by)))
            continue
        counts[basis] += 1
        meta = dict(base, basis=basis, coders=dict(by), note=note, where=where)
        if cats[key[2]] is not None:
            meta["category"] = cats[key[2]]
        rows.append(
            {
                "corpus": key[0],
                "unit_id": key[1],
                "scheme": key[2],
                "label": label,
                "rater": ADJUDICATED,
                "rater_kind": "human",
                "run_id": round,
                "meta": meta,
            }
        )
    return AdjudicationResult(_frame(rows), undecided=undecided, **counts)
