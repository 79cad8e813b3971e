"""The coding units of a corpus under a rubric, each with the dialogue context a coder sees.

Unlike :func:`annotation.items.iter_items` (which renders one prompt string per item), the app
needs the context as structured turns (role, speaker, text, whether it is the target) so the page
can set roles and the target apart. Selection follows the rubric exactly as the annotators do
(:func:`annotation.items.selects_turn`, ``context.turns``, ``following_turns``, ``exclude_meta``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from annotation.items import selects_turn
from annotation.rubric import Rubric
from toolkit.schema import Corpus

__all__ = ["ContextTurn", "UnitIndex", "UnitKey", "UnitView"]

#: ``(corpus, unit_id)``: a unit's identity, also in a merged corpus.
UnitKey = tuple[str, str]


@dataclass(frozen=True)
class ContextTurn:
    """One turn as shown on the coding page."""

    role: str
    text: str


@dataclass(frozen=True)
class UnitView:
    """What the coding page shows for one unit: the rubric's meta fields, the previous turns,
    the target (every turn of a dialogue unit) and the following turns."""

    corpus: str
    unit_id: str
    dialogue_id: str
    fields: tuple[tuple[str, str], ...]
    before: tuple[ContextTurn, ...]
    target: tuple[ContextTurn, ...]
    after: tuple[ContextTurn, ...]


@dataclass(frozen=True)
class _Turn:
    turn_id: str
    role: str
    text: str
    meta: dict[str, Any]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _same(have: Any, want: Any) -> bool:
    """Meta equality where booleans never equal numbers, as in the rubric's ``applies_to.meta``."""
    if isinstance(have, bool) or isinstance(want, bool):
        return isinstance(have, bool) and isinstance(want, bool) and have == want
    return bool(have == want)


class UnitIndex:
    """The units ``rubric`` codes in ``corpus`` (corpus order), each viewable with its context.

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> index = UnitIndex(bundled_sample(), load_rubric("mathdial-moves"))
    >>> len(index.keys), index.view(index.keys[0]).target[0].role
    (33, 'teacher')
    """

    def __init__(self, corpus: Corpus, rubric: Rubric) -> None:
        self.rubric = rubric
        self._dialogues = self._group_turns(corpus)
        self._dmeta = {
            (str(c), str(d)): (m if isinstance(m, dict) else {})
            for c, d, m in zip(
                corpus.dialogues["corpus"].tolist(),
                corpus.dialogues["dialogue_id"].tolist(),
                corpus.dialogues["meta"].tolist(),
                strict=True,
            )
        }
        self._where: dict[UnitKey, tuple[UnitKey, int | None]] = {}
        for dkey, turns in self._dialogues.items():
            if rubric.unit == "dialogue":
                self._where[dkey] = (dkey, None)
                continue
            for pos, t in enumerate(turns):
                if selects_turn(rubric, t.role, t.meta):
                    self._where[(dkey[0], t.turn_id)] = (dkey, pos)
        keys = list(self._where)
        self.keys: list[UnitKey] = keys

    @staticmethod
    def _group_turns(corpus: Corpus) -> dict[UnitKey, list[_Turn]]:
        order = {
            (str(c), str(d)): i
            for i, (c, d) in enumerate(
                zip(corpus.dialogues["corpus"], corpus.dialogues["dialogue_id"], strict=True)
            )
        }
        t = corpus.turns
        rank = [
            order.get((str(c), str(d)), len(order))
            for c, d in zip(t["corpus"].tolist(), t["dialogue_id"].tolist(), strict=True)
        ]
        t = t.assign(_rank=rank).sort_values(["_rank", "index"], kind="stable")
        cols = [t[c].tolist() for c in ("corpus", "dialogue_id", "turn_id", "role", "text", "meta")]
        out: dict[UnitKey, list[_Turn]] = {key: [] for key in order}
        for c, d, tid, role, text, meta in zip(*cols, strict=True):
            out.setdefault((str(c), str(d)), []).append(
                _Turn(str(tid), str(role), _text(text), meta if isinstance(meta, dict) else {})
            )
        return {k: v for k, v in out.items() if v}

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def dialogue_of(self, key: UnitKey) -> str:
        """The dialogue id of a unit."""
        return self._where[key][0][1]

    def view(self, key: UnitKey) -> UnitView:
        """The page content of one unit (context window, target marked, meta fields)."""
        dkey, pos = self._where[key]
        turns = self._dialogues[dkey]
        dmeta = self._dmeta.get(dkey, {})
        if pos is None:
            every = tuple(ContextTurn(t.role, t.text) for t in turns)
            return UnitView(key[0], key[1], dkey[1], self._fields(dmeta, {}), (), every, ())
        ctx = self.rubric.context
        excl = ctx.exclude_meta or {}
        visible = [
            i
            for i, t in enumerate(turns)
            if i == pos or not any(_same(t.meta.get(k), v) for k, v in excl.items())
        ]
        at = visible.index(pos)
        before = visible[max(0, at - ctx.turns) : at] if ctx.turns else []
        after = visible[at + 1 : at + 1 + ctx.following_turns]
        return UnitView(
            corpus=key[0],
            unit_id=key[1],
            dialogue_id=dkey[1],
            fields=self._fields(dmeta, turns[pos].meta),
            before=tuple(ContextTurn(turns[i].role, turns[i].text) for i in before),
            target=(ContextTurn(turns[pos].role, turns[pos].text),),
            after=tuple(ContextTurn(turns[i].role, turns[i].text) for i in after),
        )

    def _fields(self, dmeta: dict[str, Any], tmeta: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        lines = []
        for key in self.rubric.context.meta:
            for meta in (dmeta, tmeta):
                value = meta.get(key)
                if value is None or (isinstance(value, float) and pd.isna(value)):
                    continue
                lines.append((key, str(value)))
                break
        return tuple(lines)
