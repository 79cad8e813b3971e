"""Offline dry run: render every prompt and estimate tokens and cost without any request.

Token counts use a heuristic (about 4 characters per token, no tokenizer download) and are
flagged as such; completion tokens are given as a typical value and as the ``max_tokens`` bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from annotation.done import DoneKeys
from annotation.items import iter_items
from annotation.pricing import Price, estimate_tokens, load_prices, price_for
from annotation.prompt import DIALECTS
from annotation.requests import RequestBuilder, RequestParams
from annotation.rubric import Rubric, load_rubric
from annotation.store import finished_keys
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["Estimate", "estimate"]


@dataclass(frozen=True)
class Estimate:
    """Dry-run estimate (``heuristic`` is True: ~4 characters per token)."""

    items: int
    done: int
    pending: int
    requests: int
    prompt_tokens: int
    completion_tokens_typical: int
    completion_tokens_max: int
    cost_typical: float | None
    cost_max: float | None
    price: Price | None
    heuristic: bool = True

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["price"] = None if self.price is None else asdict(self.price)
        return d


def estimate(
    corpus: Corpus,
    rubric: Rubric | str,
    *,
    model: str,
    out: str | Path | None = None,
    context_turns: int | None = None,
    limit: int | None = None,
    samples: int = 1,
    dialect: str = "json_schema",
    prices: str | Path | dict[str, Any] | None = None,
) -> Estimate:
    """Estimate requests, tokens and cost of annotating ``corpus`` (no network access).

    Items already finished in ``out`` are not counted. Re-asks are not included (they happen
    only for invalid answers).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> c = Corpus(pd.DataFrame({"corpus": ["t"], "dialogue_id": ["d"], "split": ["x"],
    ...                          "kind": ["k"], "meta": [{}]}),
    ...            pd.DataFrame({"corpus": ["t"], "dialogue_id": ["d"], "turn_id": ["d:0"],
    ...                          "index": [0], "role": ["teacher"], "speaker": ["T"],
    ...                          "text": ["Why?"], "meta": [{}]}))
    >>> e = estimate(c, "mathdial-moves", model="gpt-4o-mini")
    >>> e.requests, e.heuristic
    (1, True)
    """
    rub = load_rubric(rubric)
    if dialect not in DIALECTS:
        raise InputError(f"unknown dialect {dialect!r}", field="dialect")
    builder = RequestBuilder(rub, RequestParams(model=model, max_tokens=rub.output.max_tokens))
    done = DoneKeys() if out is None else finished_keys(out)
    items = n_done = prompt = 0
    typical_answer = 8 + max(estimate_tokens(n) for n in rub.label_names)
    if rub.mode == "dimensions":  # one "dimension": "level" field per dimension
        typical_answer = 4 + sum(
            4 + estimate_tokens(lb.name) + max(map(estimate_tokens, lb.level_names))
            for lb in rub.labels
        )
    if rub.output.rationale:
        typical_answer += 30
    sys_tokens: dict[str | None, int] = {}
    for item in iter_items(corpus, rub, context_turns=context_turns, limit=limit):
        items += 1
        if item.key in done:
            n_done += 1
            continue
        if item.category not in sys_tokens:
            sys_tokens[item.category] = estimate_tokens(builder.system(dialect, item.category))
        prompt += sys_tokens[item.category] + estimate_tokens(item.text) + 8
    done.close()
    pending = items - n_done
    requests = pending * samples
    prompt_total = prompt * samples
    comp_typ = pending * samples * typical_answer
    comp_max = pending * samples * rub.output.max_tokens
    price = price_for(model, load_prices(prices))
    cost_typ = None if price is None else price.cost(prompt_total, 0, comp_typ)
    cost_max = None if price is None else price.cost(prompt_total, 0, comp_max)
    return Estimate(
        items,
        n_done,
        pending,
        requests,
        prompt_total,
        comp_typ,
        comp_max,
        cost_typ,
        cost_max,
        price,
    )
