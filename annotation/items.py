"""Turn a corpus into annotation items: the units a rubric labels, each rendered with its context.

Items are produced lazily in corpus order (dialogue order, then turn index), so large corpora are
streamed. A binary rubric yields one item per unit and category.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from annotation.rubric import Rubric
from toolkit.errors import InputError
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
        n = sum(
            selects_turn(rubric, r, m)
            for r, m in zip(
                corpus.turns["role"].tolist(), corpus.turns["meta"].tolist(), strict=True
            )
        )
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
    after = rubric.context.following_turns
    roles = set(rubric.applies_to.roles or [])
    dmeta = {
        (c, d): m
        for c, d, m in zip(
            corpus.dialogues["corpus"],
            corpus.dialogues["dialogue_id"],
            corpus.dialogues["meta"],
            strict=True,
        )
    }
    cats: list[str | None] = list(rubric.label_names) if rubric.mode == "binary" else [None]
    order = {key: i for i, key in enumerate(dmeta)}
    turns = corpus.turns
    rank = [
        order.get((c, d), len(order))
        for c, d in zip(turns["corpus"], turns["dialogue_id"], strict=True)
    ]
    turns = turns.assign(_rank=rank).sort_values(["_rank", "index"], kind="stable")
    # plain lists: element access on pandas (Arrow) string columns is slow per row
    c_corpus, c_did, c_tid, c_role, c_text, c_meta = (
        turns[c].tolist() for c in ("corpus", "dialogue_id", "turn_id", "role", "text", "meta")
    )
    bounds = [0] + [
        i
        for i in range(1, len(c_did))
        if c_did[i] != c_did[i - 1] or c_corpus[i] != c_corpus[i - 1]
    ]
    bounds.append(len(c_did))
    done = 0
    max_chars = rubric.context.max_chars_per_turn
    excl = rubric.context.exclude_meta
    for lo_b, hi_b in itertools.pairwise(bounds):
        if lo_b == hi_b:
            continue
        cname, did = c_corpus[lo_b], c_did[lo_b]
        rows = list(
            zip(
                c_tid[lo_b:hi_b],
                c_role[lo_b:hi_b],
                c_text[lo_b:hi_b],
                c_meta[lo_b:hi_b],
                strict=True,
            )
        )
        dm = dmeta.get((cname, did), {}) or {}
        pairs = [(str(r), "" if not isinstance(t, str) else t) for _, r, t, _ in rows]
        if rubric.unit == "dialogue":
            meta_lines = [
                (key, v) for key in rubric.context.meta if (v := meta_value(key, dm)) is not None
            ]
            text = render_item(pairs, None, meta_lines, max_chars)
            for cat in cats:
                yield Item(str(cname), str(did), str(did), cat, text, len(pairs))
            done += 1
            if limit is not None and done >= limit:
                return
            continue
        hidden = (
            [any(_same((m or {}).get(key), v) for key, v in excl.items()) for _, _, _, m in rows]
            if excl
            else None
        )
        for pos, (tid, role, _text, tmeta) in enumerate(rows):
            if roles and role not in roles:
                continue
            if rubric.applies_to.meta and not selects_turn(rubric, role, tmeta):
                continue
            if hidden is not None:  # context without the excluded turns (e.g. other candidates)
                before = [pairs[j] for j in range(pos) if not hidden[j]][-k:] if k else []
                after_t = [pairs[j] for j in range(pos + 1, len(rows)) if not hidden[j]][:after]
                text = render_item(
                    [*before, pairs[pos], *after_t],
                    len(before),
                    [
                        (key, v)
                        for key in rubric.context.meta
                        if (v := meta_value(key, dm, tmeta or {})) is not None
                    ],
                    max_chars,
                )
                for cat in cats:
                    yield Item(str(cname), str(tid), str(did), cat, text, len(before))
                done += 1
                if limit is not None and done >= limit:
                    return
                continue
            lo = max(0, pos - k)
            window = pairs[lo : pos + 1 + after]
            meta_lines = [
                (key, v)
                for key in rubric.context.meta
                if (v := meta_value(key, dm, tmeta or {})) is not None
            ]
            text = render_item(window, pos - lo, meta_lines, max_chars)
            for cat in cats:
                yield Item(str(cname), str(tid), str(did), cat, text, pos - lo)
            done += 1
            if limit is not None and done >= limit:
                return
