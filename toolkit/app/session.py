"""A coding session: corpus + rubric + store, and each coder's units in order.

:func:`open_session` creates the store on first use (freezing each coder's shuffled units) and
reopens it afterwards, refusing a store made for another rubric, round or set of coders.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotation.coding import Sample, check_coder_name
from annotation.coding import assign_units as coding_assign
from annotation.rubric import Rubric
from toolkit.app.questions import Question, questions
from toolkit.app.store import Store, StoreInfo
from toolkit.app.units import UnitIndex, UnitKey
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["CodingSession", "SessionOptions", "assign_units", "open_session"]


@dataclass(frozen=True)
class SessionOptions:
    """How a new store is set up (ignored, except for checks, when the store exists).

    Attributes
    ----------
    coders : list of str
        Coder names (also their rater names in the annotation rows).
    round : str
        The coding round, written as ``run_id``.
    seed : int
        Seed of the unit split and of each coder's order (default: the sample's seed, else 0),
        as in ``edudial code export``.
    overlap : float
        Fraction of units every coder codes (for reliability); the rest are split between coders.
    sample : Sample, optional
        Code only these units (:func:`annotation.coding.read_sample`); checked against the
        corpus and rubric.
    sample_path : str, optional
        Where the sample came from (recorded).
    adjudicator : str
        Name of the person who adjudicates (written in the ``adjudicated`` rows' meta).
    corpus_path : str
        Where the corpus came from (recorded, used by ``export-labels``).
    """

    coders: Sequence[str] = ()
    round: str = "r1"
    seed: int | None = None
    overlap: float = 1.0
    sample: Sample | None = None
    sample_path: str | None = None
    adjudicator: str = "lead"
    corpus_path: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def assign_units(
    keys: Sequence[UnitKey], coders: Sequence[str], *, overlap: float, seed: int
) -> dict[str, list[UnitKey]]:
    """Each coder's units in that coder's order: exactly the rows of ``edudial code export``.

    ``keys`` are the units in corpus (or sample) order, as the workbooks list them; the split
    and the shuffles are :func:`annotation.coding.assign_units`', so the same seed, overlap and
    coders give each coder the same units in the same order as their workbook.

    Examples
    --------
    >>> keys = [("c", f"u{i}") for i in range(10)]
    >>> parts = assign_units(keys, ["ana", "ben"], overlap=0.2, seed=7)
    >>> len(parts["ana"]), len(set(parts["ana"]) & set(parts["ben"]))
    (6, 2)
    """
    return coding_assign(keys, coders, overlap=overlap, seed=seed)


class CodingSession:
    """Everything the server needs: rubric, questions, units, store and each coder's order."""

    def __init__(self, rubric: Rubric, index: UnitIndex, store: Store) -> None:
        self.rubric = rubric
        self.index = index
        self.store = store
        self.questions: list[Question] = questions(rubric)
        self.info = store.info()
        self.coders = store.coders()
        self.tokens = store.tokens()
        self.adjudicator = self.info.adjudicator
        self.order: dict[str, list[UnitKey]] = {c: store.assignment(c) for c in self.coders}
        self.position: dict[str, dict[UnitKey, int]] = {
            c: {k: i for i, k in enumerate(keys)} for c, keys in self.order.items()
        }

    @property
    def question_names(self) -> list[str]:
        """The question names every finished unit has an answer for."""
        return [q.name for q in self.questions]


def _check_existing(store: Store, rubric: Rubric, opts: SessionOptions) -> None:
    info = store.info()
    problems = []
    if info.rubric_sha256 != rubric.sha256:
        problems.append(
            f"it was made for rubric {info.rubric_id} {info.rubric_version} "
            f"(hash {info.rubric_sha256[:12]}), not {rubric.id} {rubric.version} "
            f"(hash {rubric.sha256[:12]})"
        )
    if opts.coders and list(opts.coders) != store.coders():
        problems.append(f"its coders are {','.join(store.coders())}")
    if opts.round != info.round:
        problems.append(f"its round is {info.round!r}")
    if problems:
        raise InputError(
            "this coding store belongs to another session: " + "; ".join(problems),
            path=store.path,
        )


def open_session(
    corpus: Corpus,
    rubric: Rubric,
    store_path: str | os.PathLike[str],
    options: SessionOptions,
) -> CodingSession:
    """Create (first time) or reopen the coding session stored at ``store_path``.

    Raises
    ------
    InputError
        No coders for a new store, a coder name used twice, or an existing store made for
        another rubric, round or set of coders; a stored unit missing from the corpus.
    """
    path = Path(store_path)
    if path.exists():
        store = Store(path)
        _check_existing(store, rubric, options)
        index = UnitIndex(corpus, rubric)
        missing = [k for c in store.coders() for k in store.assignment(c) if k not in index]
        if missing:
            raise InputError(
                f"{len(missing)} unit(s) of this store are not in the corpus given "
                f"(first: {missing[0][0]}/{missing[0][1]}); is it the same corpus?",
                path=path,
            )
        return CodingSession(rubric, index, store)
    coders = [check_coder_name(c.strip()) for c in options.coders if c.strip()]
    if not coders:
        raise InputError("a new coding session needs coders (--coders ana,ben)")
    check_coder_name(options.adjudicator, "adjudicator")
    check_coder_name(options.round, "round")
    if options.adjudicator in coders or len(set(coders)) != len(coders):
        raise InputError(
            f"coder names must be distinct (and differ from the adjudicator "
            f"{options.adjudicator!r}): {', '.join(coders)}"
        )
    if options.sample is not None:
        options.sample.check(corpus, rubric, path=options.sample_path)
    seed = options.seed
    if seed is None:
        seed = options.sample.seed if options.sample is not None else 0
    index = UnitIndex(corpus, rubric)
    keys = (
        index.keys
        if options.sample is None
        else [(r.corpus, r.unit_id) for r in options.sample.refs]
    )
    if not keys:
        raise InputError(f"no units to code: rubric {rubric.id} applies to none of the corpus")
    assignment = assign_units(keys, coders, overlap=options.overlap, seed=seed)
    info = StoreInfo(
        corpus_path=options.corpus_path,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        rubric_sha256=rubric.sha256,
        round=options.round,
        seed=seed,
        overlap=options.overlap,
        sample_path=options.sample_path,
        adjudicator=options.adjudicator,
        extra=dict(options.extra),
    )
    store = Store.create(path, info, assignment)
    return CodingSession(rubric, index, store)
