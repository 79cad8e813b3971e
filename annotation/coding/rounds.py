"""Coding rounds: which round of each coder's labels a command compares.

A coder's labels of one coding round are annotation rows of ``rater_kind`` ``"human"`` whose
``run_id`` is the round (``r1``, ``r2``, ...; :func:`~annotation.coding.coder_rows` and the
adjudicated rows write it so). A coder who coded twice has two labels per unit, which
:mod:`eval` refuses; :func:`select_round` keeps one round per coder and scheme: the one asked
for, or else the latest. Model rows and human rows without a round (a corpus's own labels,
``run_id`` missing) are never touched.

Rounds are ordered by their numeric suffix when they share a prefix (``r1 < r2 < r10``), else by
their recorded time (the earliest ISO 8601 time in the rows' ``meta["round_time"]``, when every
round has a distinct one); when neither decides, :func:`select_round` refuses and lists them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import InputError
from toolkit.meta import meta_values

__all__ = ["ROUND_TIME", "RoundChoice", "RoundSelection", "order_rounds", "select_round"]

#: The ``meta`` key holding the time a round was recorded (ISO 8601), used to order rounds
#: whose names carry no common numeric suffix.
ROUND_TIME = "round_time"

_SUFFIX = re.compile(r"^(.*?)(\d+)$")


def order_rounds(
    rounds: Iterable[str], times: Mapping[str, pd.Timestamp] | None = None
) -> list[str] | None:
    """``rounds`` from the oldest to the latest, or ``None`` when their order is not defined.

    Names that share a prefix and end in distinct numbers are ordered by the number (``r2``
    before ``r10``); otherwise, when every round has a distinct recorded time in ``times``,
    by the time. Anything else (``pilot`` and ``main``; ``r1`` and ``round2``) is undecided.

    Examples
    --------
    >>> order_rounds(["r10", "r2", "r1"])
    ['r1', 'r2', 'r10']
    >>> order_rounds(["main", "pilot"]) is None
    True
    >>> order_rounds(["main", "pilot"], {"pilot": pd.Timestamp("2024-03-01"),
    ...                                  "main": pd.Timestamp("2024-05-01")})
    ['pilot', 'main']
    """
    names = sorted(set(rounds))
    if len(names) < 2:
        return names
    parts = [_SUFFIX.match(r) for r in names]
    numbered = [p for p in parts if p is not None]
    if (
        len(numbered) == len(names)
        and len({p.group(1).casefold() for p in numbered}) == 1
        and len({int(p.group(2)) for p in numbered}) == len(names)
    ):
        return [p.group(0) for p in sorted(numbered, key=lambda p: int(p.group(2)))]
    timed = times is not None and all(r in times for r in names)
    if timed and times is not None and len({times[r] for r in names}) == len(names):
        return sorted(names, key=lambda r: times[r])
    return None


@dataclass(frozen=True)
class RoundChoice:
    """The round kept of one rater's labels in one scheme, and the rounds left out.

    ``used`` is ``None`` when the rater has no labels in the round asked for.
    """

    rater: str
    scheme: str
    used: str | None
    left_out: tuple[str, ...]


def _pairs(choices: Iterable[RoundChoice], *, used: bool) -> str:
    """``ana r2, ben r2``: each rater's rounds, with the schemes when they differ by scheme."""
    by: dict[str, dict[str, list[str]]] = {}
    for c in choices:
        rounds = ([] if c.used is None else [c.used]) if used else list(c.left_out)
        for r in rounds:
            by.setdefault(c.rater, {}).setdefault(r, []).append(c.scheme)
    out = []
    for rater, per_round in sorted(by.items()):
        for r, schemes in sorted(per_round.items()):
            one = len(per_round) == 1
            out.append(f"{rater} {r}" if one else f"{rater} {r} ({', '.join(schemes)})")
    return ", ".join(out) or "none"


@dataclass(frozen=True)
class RoundSelection:
    """The annotations with one coding round per rater and scheme, and what was chosen.

    Attributes
    ----------
    annotations : pandas.DataFrame
        The rows kept (the input's index and column order).
    round : str, optional
        The round asked for (``None``: the latest round of each rater).
    choices : tuple of RoundChoice
        One per rater and scheme with human round rows, sorted.
    """

    annotations: pd.DataFrame
    round: str | None
    choices: tuple[RoundChoice, ...] = ()

    @property
    def left_out(self) -> bool:
        """Whether any rater's round was left out."""
        return any(c.left_out for c in self.choices)

    def note(self, schemes: Collection[str] | None = None) -> str | None:
        """One line naming the rounds used and left out (``None`` when none was left out).

        ``schemes`` limits the line to the choices in those schemes.
        """
        chosen = [c for c in self.choices if schemes is None or c.scheme in schemes]
        if not any(c.left_out for c in chosen):
            return None
        why = (
            "the latest round of each coder; --round picks one"
            if self.round is None
            else f"--round {self.round}"
        )
        return (
            f"coding rounds: using {_pairs(chosen, used=True)}; left out "
            f"{_pairs(chosen, used=False)} ({why})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The selection as JSON values: the round asked for, each rater's rounds."""
        return {
            "round": self.round,
            "rule": "latest" if self.round is None else "asked",
            "choices": [
                {"rater": c.rater, "scheme": c.scheme, "used": c.used, "left_out": list(c.left_out)}
                for c in self.choices
            ],
        }


def _round_rows(a: pd.DataFrame) -> pd.Series:
    """Mask of the human rows that carry a round (a non-empty ``run_id``)."""
    if a.empty or not {"rater_kind", "run_id", "rater", "scheme"} <= set(a.columns):
        return pd.Series(False, index=a.index)
    run = a["run_id"]
    has = run.notna() & (run.astype(str).str.strip() != "")
    return ((a["rater_kind"] == "human").fillna(False) & has).astype(bool)


def _round_times(sub: pd.DataFrame) -> dict[tuple[str, str, str], pd.Timestamp]:
    """``(rater, scheme, round)`` -> the earliest ``meta["round_time"]`` of its rows."""
    if "meta" not in sub.columns:
        return {}
    out: dict[tuple[str, str, str], pd.Timestamp] = {}
    for key, meta in zip(
        sub[["rater", "scheme", "run_id"]].itertuples(index=False),
        meta_values(sub["meta"]),
        strict=True,
    ):
        value = meta.get(ROUND_TIME)
        if value is None:
            continue
        try:
            t = pd.Timestamp(str(value))
        except ValueError:
            continue
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        k = (str(key[0]), str(key[1]), str(key[2]))
        out[k] = min(out.get(k, t), t)
    return out


def _latest(
    groups: Mapping[tuple[str, str], list[str]], sub: pd.DataFrame
) -> dict[tuple[str, str], str]:
    """The latest round of every rater and scheme; refuses (listing them) when undecided."""
    times: dict[tuple[str, str, str], pd.Timestamp] | None = None
    latest, problems = {}, []
    for (rater, scheme), rounds in groups.items():
        order = order_rounds(rounds)
        if order is None:
            times = _round_times(sub) if times is None else times
            at = {r: times[(rater, scheme, r)] for r in rounds if (rater, scheme, r) in times}
            order = order_rounds(rounds, at)
        if order is None:
            problems.append(f"{rater} in {scheme}: {', '.join(sorted(rounds))}")
        else:
            latest[(rater, scheme)] = order[-1]
    if problems:
        raise InputError(
            f"cannot tell which coding round is the latest ({'; '.join(problems)}): rounds are "
            "ordered by a numeric suffix (r1 < r2 < r10) or by their recorded time "
            f"(meta {ROUND_TIME!r}), and neither orders these; choose one with --round"
        )
    return latest


def select_round(annotations: pd.DataFrame, round: str | None = None) -> RoundSelection:
    """Keep one coding round of every human rater and scheme: ``round``, else the latest.

    Human rows with a ``run_id`` are coding rounds. With ``round``, only that round's human
    round rows are kept. Without it, a rater with labels in several rounds of a scheme keeps
    the latest (:func:`order_rounds`); raters with one round keep it. Model rows and human rows
    without a ``run_id`` are always kept.

    Parameters
    ----------
    annotations : pandas.DataFrame
        Annotation rows (``rater``, ``scheme``, ``rater_kind``, ``run_id``; ``meta`` for the
        recorded times).
    round : str, optional
        The round to keep (``--round`` of ``edudial irr``, ``code status``, ``plan``,
        ``estimate``).

    Returns
    -------
    RoundSelection
        The rows kept and, per rater and scheme, the round used and the rounds left out
        (:meth:`RoundSelection.note` says it in one line).

    Raises
    ------
    InputError
        ``round`` is in none of the rows (the rounds found are listed), or a rater's rounds
        cannot be ordered (they are listed: choose one with ``round``).

    Examples
    --------
    >>> a = pd.DataFrame({"unit_id": ["u1", "u1", "u1", "u1"], "scheme": "move",
    ...                   "label": ["x", "y", "x", "x"], "rater": ["ana", "ana", "ben", "gpt"],
    ...                   "rater_kind": ["human", "human", "human", "model"],
    ...                   "run_id": ["r1", "r2", "r1", "run-7"]})
    >>> sel = select_round(a)
    >>> sel.annotations[["rater", "run_id"]].values.tolist()
    [['ana', 'r2'], ['ben', 'r1'], ['gpt', 'run-7']]
    >>> sel.note().split("; ")[:2]
    ['coding rounds: using ana r2, ben r1', 'left out ana r1 (the latest round of each coder']
    >>> select_round(a, "r1").annotations["label"].tolist()
    ['x', 'x', 'x']
    """
    a = annotations
    mask = _round_rows(a)
    if not mask.any():
        if round is not None:
            raise InputError(f"round {round!r}: no human labels carry a coding round (run_id)")
        return RoundSelection(a, None)
    sub = a.loc[mask.to_numpy(dtype=bool)].copy()
    for col in ("rater", "scheme", "run_id"):
        sub[col] = sub[col].astype(str)
    groups: dict[tuple[str, str], list[str]] = {}
    for rater, scheme, run in sub[["rater", "scheme", "run_id"]].itertuples(index=False):
        rounds = groups.setdefault((rater, scheme), [])
        if run not in rounds:
            rounds.append(run)
    if round is not None:
        found = {r for rounds in groups.values() for r in rounds}
        if round not in found:
            listed = order_rounds(found) or sorted(found)
            raise InputError(
                f"round {round!r} is not in the annotations; rounds: {', '.join(listed)}"
            )
        chosen: dict[tuple[str, str], str | None] = {
            k: (round if round in rounds else None) for k, rounds in groups.items()
        }
    else:
        chosen = dict(_latest({k: r for k, r in groups.items() if len(r) > 1}, sub))
        chosen.update({k: r[0] for k, r in groups.items() if len(r) == 1})
    at = np.flatnonzero(mask.to_numpy(dtype=bool))
    kept = np.array(
        [
            chosen[(rater, scheme)] == run
            for rater, scheme, run in sub[["rater", "scheme", "run_id"]].itertuples(index=False)
        ],
        dtype=bool,
    )
    keep = ~mask.to_numpy(dtype=bool)
    keep[at[kept]] = True
    choices = tuple(
        RoundChoice(
            rater,
            scheme,
            chosen[(rater, scheme)],
            tuple(sorted(set(rounds) - {chosen[(rater, scheme)]})),
        )
        for (rater, scheme), rounds in sorted(groups.items())
    )
    return RoundSelection(a.loc[keep], round, choices)
