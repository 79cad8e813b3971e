"""The units a rubric applies to, and what a human coder is shown for each.

A :class:`CodingUnit` is one unit with its rubric context laid out for a person: the dialogue
fields the rubric names, the previous turns (role-tagged), the target turn set apart and any
following turns. Workbooks, CSV files and the coding web app all show these same strings, and
:attr:`CodingUnit.checksum` hashes exactly them, so an edited row is detected on import.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from annotation.items import iter_items, selects_turn
from annotation.rubric import AppliesTo, Rubric
from toolkit.errors import InputError
from toolkit.schema import Corpus, meta_values

__all__ = [
    "CodingUnit",
    "ShownTurn",
    "UnitRef",
    "applicable_units",
    "cell_text",
    "coding_units",
    "meta_dicts",
    "unit_checksum",
]

#: Excel keeps at most 32,767 characters in a cell; longer texts are cut (and marked) here, so
#: the checksum is computed on what the coder actually sees.
MAX_CELL_CHARS = 32_000

# Characters XML 1.0 cannot hold (openpyxl refuses them); shown as U+FFFD instead.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell_text(text: str) -> str:
    """``text`` as it can be stored in a spreadsheet cell and read back unchanged.

    Line ends become ``\\n`` (XML readers normalise them anyway), control characters XML cannot
    hold become U+FFFD and texts longer than a cell allows are cut with ``…``.

    Examples
    --------
    >>> cell_text("a\\r\\nb\\x07")
    'a\\nb\\ufffd'
    """
    out = _ILLEGAL.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    return out if len(out) <= MAX_CELL_CHARS else out[: MAX_CELL_CHARS - 1] + "…"


@dataclass(frozen=True)
class UnitRef:
    """A unit of a corpus: ``unit_id`` is a ``turn_id`` (turn rubrics) or a ``dialogue_id``."""

    corpus: str
    unit_id: str
    dialogue_id: str


@dataclass(frozen=True)
class ShownTurn:
    """One turn as shown to a coder."""

    role: str
    text: str

    def render(self) -> str:
        """``[role] text``, the way the LLM prompt tags roles."""
        return f"[{self.role}] {self.text}"


@dataclass(frozen=True)
class CodingUnit:
    """A unit with the context its rubric shows.

    Attributes
    ----------
    corpus, unit_id, dialogue_id : str
        The unit.
    fields : tuple of (str, str)
        The dialogue (then turn) meta fields named by ``rubric.context.meta``, when present.
    before : tuple of ShownTurn
        Up to ``rubric.context.turns`` previous turns (never turns ``context.exclude_meta`` hides).
    target : tuple of ShownTurn
        The turn to code; for a dialogue-level rubric, every turn of the dialogue.
    after : tuple of ShownTurn
        Up to ``rubric.context.following_turns`` following turns.
    """

    corpus: str
    unit_id: str
    dialogue_id: str
    fields: tuple[tuple[str, str], ...]
    before: tuple[ShownTurn, ...]
    target: tuple[ShownTurn, ...]
    after: tuple[ShownTurn, ...]

    @property
    def ref(self) -> UnitRef:
        """The unit's :class:`UnitRef`."""
        return UnitRef(self.corpus, self.unit_id, self.dialogue_id)

    @property
    def context_text(self) -> str:
        """Fields (``key: value`` lines), a blank line, then the previous turns, one per line."""
        fields = "\n".join(f"{k}: {v}" for k, v in self.fields)
        turns = "\n".join(t.render() for t in self.before)
        return cell_text("\n\n".join(p for p in (fields, turns) if p))

    @property
    def target_text(self) -> str:
        """The target turn (every turn of a dialogue unit), role-tagged."""
        return cell_text("\n".join(t.render() for t in self.target))

    @property
    def after_text(self) -> str:
        """The following turns shown, one per line (empty when the rubric shows none)."""
        return cell_text("\n".join(t.render() for t in self.after))

    @property
    def checksum(self) -> str:
        """16 hex digits of sha256 over the unit's identity and every text shown for it."""
        return unit_checksum(
            self.corpus, self.unit_id, self.context_text, self.target_text, self.after_text
        )


def unit_checksum(corpus: str, unit_id: str, context: str, target: str, after: str) -> str:
    """The checksum of a row showing these texts (see :attr:`CodingUnit.checksum`).

    Examples
    --------
    >>> unit_checksum("c", "d:1", "", "[teacher] Hi", "")
    '6e57e423ba522e51'
    """
    data = json.dumps([corpus, unit_id, context, target, after], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def applicable_units(corpus: Corpus, rubric: Rubric) -> list[UnitRef]:
    """The units ``rubric`` labels in ``corpus``, in corpus order (as the LLM annotator sees them).

    Selection is :func:`annotation.items.iter_items`'s: the rubric's unit, ``applies_to.roles``
    and ``applies_to.meta``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> units = applicable_units(bundled_sample(), load_rubric("mathdial-moves"))
    >>> len(units), units[0].unit_id == units[0].dialogue_id
    (33, False)
    """
    seen: dict[tuple[str, str], UnitRef] = {}
    for item in iter_items(corpus, rubric, context_turns=0):
        key = (item.corpus, item.unit_id)
        if key not in seen:  # binary rubrics yield one item per category
            seen[key] = UnitRef(item.corpus, item.unit_id, item.dialogue_id)
    return list(seen.values())


def meta_dicts(column: pd.Series) -> list[dict[str, Any]]:
    """A ``meta`` column as one dict per row, through :func:`toolkit.schema.meta_values`.

    Examples
    --------
    >>> meta_dicts(pd.Series([{"a": 1}, None]))
    [{'a': 1}, {}]
    """
    return meta_values(column)


def _metas(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return meta_dicts(frame["meta"])


def _field_value(key: str, *metas: dict[str, Any]) -> str | None:
    for meta in metas:
        value = meta.get(key)
        if value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        return str(value)
    return None


def _excluders(rubric: Rubric) -> list[Rubric]:
    """One rubric per ``context.exclude_meta`` entry, selecting the turns that entry hides.

    A turn is hidden when *any* entry matches (as in :func:`annotation.items.iter_items`);
    :func:`annotation.items.selects_turn` gives the same value comparison (``True != 1``).
    """
    excl = rubric.context.exclude_meta or {}
    return [
        rubric.model_copy(update={"applies_to": AppliesTo(meta={key: value})})
        for key, value in excl.items()
    ]


@dataclass(frozen=True)
class _DialogueTurns:
    turn_ids: list[str]
    turns: list[ShownTurn]
    metas: list[dict[str, Any]]
    hidden: list[bool]


def _dialogue_turns(
    corpus: Corpus, rubric: Rubric, dialogues: set[tuple[str, str]]
) -> dict[tuple[str, str], _DialogueTurns]:
    t = corpus.turns
    keys = pd.MultiIndex.from_frame(t[["corpus", "dialogue_id"]])
    t = t[keys.isin(list(dialogues))].sort_values(["corpus", "dialogue_id", "index"], kind="stable")
    excluders = _excluders(rubric)
    out: dict[tuple[str, str], _DialogueTurns] = {}
    for c, d, tid, role, text, meta in zip(
        t["corpus"].tolist(),
        t["dialogue_id"].tolist(),
        t["turn_id"].tolist(),
        t["role"].tolist(),
        t["text"].tolist(),
        _metas(t),
        strict=True,
    ):
        dt = out.setdefault((c, d), _DialogueTurns([], [], [], []))
        dt.turn_ids.append(str(tid))
        dt.turns.append(ShownTurn(str(role), text if isinstance(text, str) else ""))
        dt.metas.append(meta)
        dt.hidden.append(any(selects_turn(ex, role, meta) for ex in excluders))
    return out


def _turn_unit(
    ref: UnitRef, dt: _DialogueTurns, rubric: Rubric, dmeta: dict[str, Any]
) -> CodingUnit:
    try:
        pos = dt.turn_ids.index(ref.unit_id)
    except ValueError:
        raise InputError(f"unit {ref.corpus}/{ref.unit_id} is not a turn of the corpus") from None
    k, n_after = rubric.context.turns, rubric.context.following_turns
    shown = [j for j in range(len(dt.turns)) if not dt.hidden[j]]
    before = [dt.turns[j] for j in shown if j < pos][-k:] if k else []
    after = [dt.turns[j] for j in shown if j > pos][:n_after]
    fields = [
        (key, v)
        for key in rubric.context.meta
        if (v := _field_value(key, dmeta, dt.metas[pos])) is not None
    ]
    return CodingUnit(
        ref.corpus,
        ref.unit_id,
        ref.dialogue_id,
        tuple(fields),
        tuple(before),
        (dt.turns[pos],),
        tuple(after),
    )


def coding_units(
    corpus: Corpus, rubric: Rubric, units: Iterable[UnitRef] | None = None
) -> list[CodingUnit]:
    """The :class:`CodingUnit` of each unit (default: every unit the rubric applies to).

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric
        Gives the unit kind and the context shown (``context.turns``, ``following_turns``,
        ``meta``, ``exclude_meta``).
    units : iterable of UnitRef, optional
        The units, in the order wanted (e.g. a sample's).

    Raises
    ------
    InputError
        A unit that is not in ``corpus``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> u = coding_units(bundled_sample(), load_rubric("mathdial-moves"))[1]
    >>> u.target_text.startswith("[teacher] "), len(u.before) <= 4, u.fields[0][0]
    (True, True, 'question')
    """
    refs: Sequence[UnitRef] = applicable_units(corpus, rubric) if units is None else list(units)
    dmeta = dict(
        zip(
            zip(
                corpus.dialogues["corpus"].tolist(),
                corpus.dialogues["dialogue_id"].tolist(),
                strict=True,
            ),
            _metas(corpus.dialogues),
            strict=True,
        )
    )
    by_dialogue = _dialogue_turns(corpus, rubric, {(r.corpus, r.dialogue_id) for r in refs})
    out = []
    for ref in refs:
        dt = by_dialogue.get((ref.corpus, ref.dialogue_id))
        if dt is None:
            raise InputError(
                f"unit {ref.corpus}/{ref.unit_id}: dialogue {ref.dialogue_id!r} "
                "is not in the corpus"
            )
        meta = dmeta.get((ref.corpus, ref.dialogue_id), {})
        if rubric.unit == "dialogue":
            fields = [
                (k, v) for k in rubric.context.meta if (v := _field_value(k, meta)) is not None
            ]
            out.append(
                CodingUnit(
                    ref.corpus, ref.unit_id, ref.dialogue_id, tuple(fields), (), tuple(dt.turns), ()
                )
            )
        else:
            out.append(_turn_unit(ref, dt, rubric, meta))
    return out
