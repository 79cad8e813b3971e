"""Turn a corpus into annotation items: the units a rubric labels, each rendered with its context.

Items are produced lazily in corpus order (dialogue order, then turn index), so large corpora are
streamed. A binary rubric yields one item per unit and category.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from annotation.rubric import Rubric
from toolkit.errors import InputError
from toolkit.meta import MetaArray, meta_values
from toolkit.schema import Corpus

__all__ = ["Item", "count_units", "iter_items", "render_item", "selects_turn"]

_MAX_META_CHARS = 4000


@dataclass(frozen=True)
class Item:
    """One request-sized piece of work.

    Attributes
    ----------
    corpus, unit_id, dialogue_id : str
        The unit labelled (``unit_id`` is a ``turn_id`` or a ``dialogue_id``).
    category : str or None
        The category decided (binary rubrics), else ``None``.
    text : str
        The rendered user message (context + target).
    context_turns : int
        How many previous turns the text shows.
    """

    corpus: str
    unit_id: str
    dialogue_id: str
    category: str | None
    text: str
    context_turns: int

    @property
    def key(self) -> str:
        """Identity of the item within a run (corpus, unit and category)."""
        return f"{self.corpus}\x1f{self.unit_id}\x1f{self.category or ''}"


def clip_text(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def meta_value(key: str, *metas: dict[str, Any]) -> str | None:
    for meta in metas:
        if key in meta and meta[key] is not None:
            value = meta[key]
            if isinstance(value, float) and pd.isna(value):
                continue
            return clip_text(str(value), _MAX_META_CHARS)
    return None


def render_item(
    turns: list[tuple[str, str]],
    target: int | None,
    meta_lines: list[tuple[str, str]],
    max_chars: int,
) -> str:
    """Render the user message: meta fields, then the transcript with the target marked.

    ``turns`` are ``(role, text)`` pairs; ``target`` is the position of the labelled turn in
    ``turns`` (``None`` for a dialogue-level unit).
    """
    out: list[str] = []
    if meta_lines:
        out.append("Context:")
        out += [f"{k}: {v}" for k, v in meta_lines]
        out.append("")
    if target is None:
        out.append("Dialogue to label:")
    else:
        out.append("Transcript (the turn to label is marked with >>>):")
    for i, (role, text) in enumerate(turns):
        mark = ">>> " if i == target else "    "
        out.append(f"{mark}[{role}] {clip_text(text, max_chars)}")
    return "\n".join(out) + "\n"


def count_units(corpus: Corpus, rubric: Rubric, limit: int | None = None) -> int:
    """Number of units ``rubric`` labels in ``corpus`` (after ``limit``)."""
    if rubric.unit == "dialogue":
        n = len(corpus.dialogues)
    elif rubric.applies_to.meta:
        n = 0
        turns = corpus.turns
        for lo in range(0, len(turns), _CHUNK_ROWS):  # bounded: meta decoded a chunk at a time
            part = turns.iloc[lo : lo + _CHUNK_ROWS]
            roles, metas = part["role"].tolist(), meta_values(part["meta"])
            n += sum(selects_turn(rubric, r, m) for r, m in zip(roles, metas, strict=True))
    else:
        roles = rubric.applies_to.roles
        n = int(corpus.turns["role"].isin(roles).sum()) if roles else len(corpus.turns)
    return n if limit is None else min(n, limit)


def selects_turn(rubric: Rubric, role: Any, meta: Any) -> bool:
    """Whether a turn-level ``rubric`` labels a turn with this ``role`` and ``meta``.

    ``applies_to.roles`` restricts the role; ``applies_to.meta`` requires equal turn meta values
    (e.g. ``{candidate: true}`` selects MRBench's candidate responses).

    >>> from annotation.rubric import load_rubric
    >>> selects_turn(load_rubric("mathdial-moves"), "teacher", {})
    True
    """
    roles = rubric.applies_to.roles
    if roles and role not in roles:
        return False
    want = rubric.applies_to.meta
    if want:
        m = meta if isinstance(meta, dict) else {}
        return all(_same(m.get(key), value) for key, value in want.items())
    return True


def _same(have: Any, want: Any) -> bool:
    """Meta value equality where booleans never equal numbers (``True != 1``)."""
    if isinstance(have, bool) or isinstance(want, bool):
        return isinstance(have, bool) and isinstance(want, bool) and have == want
    if want is None:
        return have is None or (isinstance(have, float) and pd.isna(have))
    return bool(have == want)


def iter_items(
    corpus: Corpus,
    rubric: Rubric,
    *,
    context_turns: int | None = None,
    limit: int | None = None,
) -> Iterator[Item]:
    """Yield the items of ``corpus`` for ``rubric`` in corpus order.

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric
    context_turns : int, optional
        Previous turns shown (default: the rubric's ``context.turns``).
    limit : int, optional
        Stop after this many units.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> from annotation.rubric import load_rubric
    >>> c = Corpus(pd.DataFrame({"corpus": ["t"], "dialogue_id": ["d"], "split": ["x"],
    ...                          "kind": ["k"], "meta": [{"question": "2+2?"}]}),
    ...            pd.DataFrame({"corpus": ["t"] * 2, "dialogue_id": ["d"] * 2,
    ...                          "turn_id": ["d:0", "d:1"], "index": [0, 1],
    ...                          "role": ["teacher", "student"], "speaker": ["T", "S"],
    ...                          "text": ["What is 2+2?", "5"], "meta": [{}, {}]}))
    >>> [i.unit_id for i in iter_items(c, load_rubric("mathdial-moves"))]
    ['d:0']
    """
    k = rubric.context.turns if context_turns is None else context_turns
    if k < 0:
        raise InputError("context_turns must be >= 0", field="context_turns")
    dialogue_meta = _DialogueMeta(corpus.dialogues)
    done = 0
    for group in _dialogue_groups(corpus):
        for unit in _group_units(group, rubric, k, dialogue_meta):
            yield from unit
            done += 1
            if limit is not None and done >= limit:
                return


# --------------------------------------------------------------------- streaming the turns
# Items are built a bounded chunk of dialogues at a time: the whole corpus is never turned into
# per-turn Python lists, and meta is decoded only for the rows an item shows or selects on.
_CHUNK_ROWS = 8192


@dataclass
class _Group:
    """One dialogue's turns, in turn order (meta kept raw, decoded on demand)."""

    corpus: Any
    dialogue_id: Any
    turn_ids: list[Any]
    roles: list[Any]
    texts: list[Any]
    raw_meta: list[Any]

    def meta(self, pos: int) -> dict[str, Any]:
        value = self.raw_meta[pos]
        if not isinstance(value, dict):
            value = _decoded(value)
            self.raw_meta[pos] = value
        return value


def _decoded(value: Any) -> dict[str, Any]:
    """One stored meta value as a dict (JSON text parsed directly: this runs once per item)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = json.loads(value)
            if isinstance(parsed, dict):
                return parsed
    return meta_values([value])[0]  # missing values, and the error naming a bad one


class _DialogueMeta:
    """Dialogue meta by ``(corpus, dialogue_id)``, decoded when first asked for."""

    def __init__(self, dialogues: pd.DataFrame) -> None:
        keys = zip(dialogues["corpus"].tolist(), dialogues["dialogue_id"].tolist(), strict=True)
        self._row = {key: i for i, key in enumerate(keys)}  # the last row of a repeated key
        self._meta = dialogues["meta"]
        self._last: tuple[tuple[Any, Any], dict[str, Any]] | None = None  # one dialogue at a time

    def get(self, key: tuple[Any, Any]) -> dict[str, Any]:
        if self._last is None or self._last[0] != key:
            row = self._row.get(key)
            self._last = (key, {} if row is None else _decoded(self._meta.iloc[row]))
        return self._last[1]


def _turn_order(corpus: Corpus) -> np.ndarray | None:
    """Turn rows in dialogue-table order then turn index (``None``: already in that order).

    The check reads a chunk of rows at a time, so a corpus already in order (what the loaders
    and ``read_corpus`` give) costs no arrays the size of the corpus; only one out of order
    is sorted as a whole.
    """
    d, t = corpus.dialogues, corpus.turns
    keys = pd.MultiIndex.from_arrays([d["corpus"], d["dialogue_id"]]).drop_duplicates()
    last = (np.array([-1]), np.array([-np.inf]))
    for lo in range(0, len(t), _CHUNK_ROWS):
        rank, index = _sort_keys(t, keys, slice(lo, lo + _CHUNK_ROWS))
        if not _ascending(np.concatenate((last[0], rank)), np.concatenate((last[1], index))):
            return np.lexsort(_sort_keys(t, keys, slice(None))[::-1])
        last = (rank[-1:], index[-1:])
    return None


def _sort_keys(t: pd.DataFrame, keys: pd.MultiIndex, rows: slice) -> tuple[np.ndarray, np.ndarray]:
    """Each row's dialogue rank (unknown dialogues last, as one block) and turn index."""
    turn_keys = pd.MultiIndex.from_arrays([t["corpus"].iloc[rows], t["dialogue_id"].iloc[rows]])
    rank = keys.get_indexer(turn_keys)
    rank[rank < 0] = len(keys)
    index = t["index"].iloc[rows].to_numpy(dtype=float, na_value=np.nan)
    return rank, np.where(np.isnan(index), np.inf, index)  # a missing index sorts last


def _ascending(rank: np.ndarray, index: np.ndarray) -> bool:
    """Whether ``(rank, index)`` pairs never decrease (what a stable sort leaves in place)."""
    step_rank, step_index = np.diff(rank), np.diff(index)
    return not bool(np.any(step_rank < 0) or np.any((step_rank == 0) & (step_index < 0)))


def _raw_meta(column: pd.Series, rows: np.ndarray | slice) -> list[Any]:
    """The ``meta`` values of ``rows`` as stored (JSON text or dicts), not decoded."""
    array = column.array
    if isinstance(array, MetaArray):
        data = array.arrow()
        part = data[rows] if isinstance(rows, slice) else data.take(pa.array(rows))
        return list(part.to_pylist())
    return list(column.iloc[rows].tolist())


def _chunk_groups(t: pd.DataFrame, rows: np.ndarray | slice) -> Iterator[_Group]:
    cols = [t[c].iloc[rows].tolist() for c in ("corpus", "dialogue_id", "turn_id", "role", "text")]
    c_corpus, c_did, c_tid, c_role, c_text = cols
    c_meta = _raw_meta(t["meta"], rows)
    lo = 0
    for i in range(1, len(c_did) + 1):
        if i == len(c_did) or c_did[i] != c_did[i - 1] or c_corpus[i] != c_corpus[i - 1]:
            yield _Group(
                c_corpus[lo],
                c_did[lo],
                c_tid[lo:i],
                c_role[lo:i],
                c_text[lo:i],
                c_meta[lo:i],
            )
            lo = i


def _dialogue_groups(corpus: Corpus) -> Iterator[_Group]:
    """Each dialogue's turns in corpus order, read a bounded chunk of rows at a time."""
    t = corpus.turns
    order = _turn_order(corpus)
    n = len(t)
    lo = 0
    pending: _Group | None = None  # a dialogue cut by the chunk edge continues in the next chunk
    while lo < n:
        hi = min(n, lo + _CHUNK_ROWS)
        rows: np.ndarray | slice = slice(lo, hi) if order is None else order[lo:hi]
        for group in _chunk_groups(t, rows):
            if pending is not None:
                if (group.corpus, group.dialogue_id) == (pending.corpus, pending.dialogue_id):
                    group = _join(pending, group)
                else:
                    yield pending
            pending = group
        lo = hi
    if pending is not None:
        yield pending


def _join(a: _Group, b: _Group) -> _Group:
    return _Group(
        a.corpus,
        a.dialogue_id,
        a.turn_ids + b.turn_ids,
        a.roles + b.roles,
        a.texts + b.texts,
        a.raw_meta + b.raw_meta,
    )


def _meta_lines(rubric: Rubric, *metas: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, v) for key in rubric.context.meta if (v := meta_value(key, *metas)) is not None]


def _group_units(
    g: _Group, rubric: Rubric, k: int, dialogue_meta: _DialogueMeta
) -> Iterator[list[Item]]:
    """The items of one dialogue, one list per unit (a binary rubric's categories), in order."""
    cats: list[str | None] = list(rubric.label_names) if rubric.mode == "binary" else [None]
    max_chars = rubric.context.max_chars_per_turn
    key = (g.corpus, g.dialogue_id)
    pairs = [
        (str(r), t if isinstance(t, str) else "") for r, t in zip(g.roles, g.texts, strict=True)
    ]
    if rubric.unit == "dialogue":
        dm = dialogue_meta.get(key) if rubric.context.meta else {}
        text = render_item(pairs, None, _meta_lines(rubric, dm), max_chars)
        did = str(g.dialogue_id)
        yield [Item(str(g.corpus), did, did, cat, text, len(pairs)) for cat in cats]
        return
    for pos, before, after in _turn_windows(g, rubric, k):
        if rubric.context.meta:
            lines = _meta_lines(rubric, dialogue_meta.get(key), g.meta(pos))
        else:
            lines = []
        window = [pairs[j] for j in before] + [pairs[pos]] + [pairs[j] for j in after]
        text = render_item(window, len(before), lines, max_chars)
        tid, did = str(g.turn_ids[pos]), str(g.dialogue_id)
        yield [Item(str(g.corpus), tid, did, cat, text, len(before)) for cat in cats]


def _turn_windows(g: _Group, rubric: Rubric, k: int) -> Iterator[tuple[int, list[int], list[int]]]:
    """The labelled turns' positions with the positions shown before and after each."""
    roles = set(rubric.applies_to.roles or [])
    n_after = rubric.context.following_turns
    excl = rubric.context.exclude_meta
    n = len(g.roles)
    hidden = (
        [any(_same(g.meta(j).get(key), v) for key, v in excl.items()) for j in range(n)]
        if excl
        else None
    )
    for pos, role in enumerate(g.roles):
        if roles and role not in roles:
            continue
        if rubric.applies_to.meta and not selects_turn(rubric, role, g.meta(pos)):
            continue
        if hidden is not None:  # context without the excluded turns (e.g. other candidates)
            before = [j for j in range(pos) if not hidden[j]][-k:] if k else []
            after = [j for j in range(pos + 1, n) if not hidden[j]][:n_after]
        else:
            before = list(range(max(0, pos - k), pos))
            after = list(range(pos + 1, min(n, pos + 1 + n_after)))
        yield pos, before, after
