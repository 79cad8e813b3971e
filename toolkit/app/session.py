"""A coding session: corpus + rubric + store, and each coder's units in order.

:func:`open_session` creates the store on first use (freezing each coder's shuffled units) and
reopens it afterwards, refusing a store made for another rubric, round or set of coders.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
        Seed of the unit split and of each coder's order.
    overlap : float
        Fraction of units every coder codes (for reliability); the rest are split between coders.
    sample : list of (corpus, unit_id), optional
        Code only these units (from a sample file), in this order before shuffling.
    sample_path : str, optional
        Where the sample came from (recorded).
    adjudicator : str
        Name of the person who adjudicates (written in the ``adjudicated`` rows' meta).
    corpus_path : str
        Where the corpus came from (recorded, used by ``export-labels``).
    """

    coders: Sequence[str] = ()
    round: str = "round1"
    seed: int = 0
    overlap: float = 1.0
    sample: Sequence[UnitKey] | None = None
    sample_path: str | None = None
    adjudicator: str = "lead"
    corpus_path: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def assign_units(
    keys: Sequence[UnitKey], coders: Sequence[str], *, overlap: float, seed: int
) -> dict[str, list[UnitKey]]:
    """Each coder's units, in that coder's shuffled order.

    ``round(overlap * n)`` units (drawn with ``seed``) go to every coder; the rest are dealt in
    turn. Each coder's list is then shuffled with a generator seeded by ``seed`` and the name.

    Examples
    --------
    >>> keys = [("c", f"u{i}") for i in range(10)]
    >>> out = assign_units(keys, ["ana", "ben"], overlap=0.2, seed=1)
    >>> len(out["ana"]), len(out["ben"]), len(set(out["ana"]) & set(out["ben"]))
    (6, 6, 2)
    """
    if not 0.0 <= overlap <= 1.0:
        raise InputError(f"overlap must be between 0 and 1, got {overlap}")
    drawn = list(keys)
    random.Random(seed).shuffle(drawn)
    n_shared = round(overlap * len(drawn))
    out: dict[str, list[UnitKey]] = {c: list(drawn[:n_shared]) for c in coders}
    for i, key in enumerate(drawn[n_shared:]):
        out[coders[i % len(coders)]].append(key)
    position = {k: i for i, k in enumerate(keys)}
    for coder, units in out.items():
        units.sort(key=position.__getitem__)  # the coder's order depends only on seed and name
        random.Random(f"{seed}/{coder}").shuffle(units)
    return out


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
    coders = [c.strip() for c in options.coders if c.strip()]
    if not coders:
        raise InputError("a new coding session needs coders (--coders ana,ben)")
    names = [*coders, options.adjudicator]
    if len(set(names)) != len(names):
        raise InputError(
            f"coder names must be distinct (and differ from the adjudicator "
            f"{options.adjudicator!r}): {', '.join(coders)}"
        )
    index = UnitIndex(corpus, rubric, options.sample)
    if not index.keys:
        raise InputError(f"rubric {rubric.id} applies to no unit of this corpus")
    info = StoreInfo(
        corpus_path=options.corpus_path,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        rubric_sha256=rubric.sha256,
        round=options.round,
        seed=options.seed,
        overlap=options.overlap,
        sample_path=options.sample_path,
        adjudicator=options.adjudicator,
        extra=dict(options.extra),
    )
    assignment = assign_units(index.keys, coders, overlap=options.overlap, seed=options.seed)
    store = Store.create(path, info, assignment)
    return CodingSession(rubric, index, store)
