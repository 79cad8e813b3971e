"""LLM annotation of edudial corpora with versioned rubrics.

>>> from annotation import load_rubric, annotate
>>> load_rubric("mathdial-moves").label_names
['focus', 'probing', 'telling', 'generic']

``annotate(corpus, rubric, model=..., out=...)`` labels a :class:`toolkit.Corpus` against any
OpenAI-compatible endpoint; ``annotate_rules(corpus, rubric, out=...)`` labels it with the rubric's
keyword patterns (offline baseline). See docs/annotation.md and docs/rules-baseline.md.
"""

from annotation.batch import (
    BatchCollection,
    BatchSubmission,
    batch_status,
    cancel_batch,
    collect_batch,
    submit_batch,
)
from annotation.cache import ResponseCache, request_key
from annotation.engine import RunResult, annotate, annotate_async, rater_name
from annotation.estimate import Estimate, estimate
from annotation.guide import render_guide
from annotation.items import Item, iter_items
from annotation.local import annotate_local, annotate_local_async
from annotation.parse import Answer, parse_answer
from annotation.pricing import DEFAULT_PRICES, Price, Usage, load_prices
from annotation.prompt import DIALECTS, PROMPT_TEMPLATE_SHA256, answer_schema, response_format
from annotation.requests import RequestBuilder, RequestParams
from annotation.rubric import Rubric, builtin_rubrics, load_rubric, parse_rubric
from annotation.rules import RuleLabeler, annotate_rules, rules_rater
from annotation.transport import FatalError, Gate, OpenAITransport, Reply, Transport

__all__ = [
    "DEFAULT_PRICES",
    "DIALECTS",
    "PROMPT_TEMPLATE_SHA256",
    "Answer",
    "BatchCollection",
    "BatchSubmission",
    "Estimate",
    "FatalError",
    "Gate",
    "Item",
    "OpenAITransport",
    "Price",
    "Reply",
    "RequestBuilder",
    "RequestParams",
    "ResponseCache",
    "Rubric",
    "RuleLabeler",
    "RunResult",
    "Transport",
    "Usage",
    "annotate",
    "annotate_async",
    "annotate_local",
    "annotate_local_async",
    "annotate_rules",
    "answer_schema",
    "batch_status",
    "builtin_rubrics",
    "cancel_batch",
    "collect_batch",
    "estimate",
    "iter_items",
    "load_prices",
    "load_rubric",
    "parse_answer",
    "parse_rubric",
    "rater_name",
    "render_guide",
    "request_key",
    "response_format",
    "rules_rater",
    "submit_batch",
]
