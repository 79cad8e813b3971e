"""LLM annotation of edudial corpora with versioned rubrics.

>>> from annotation import load_rubric, annotate
>>> load_rubric("mathdial-moves").label_names
['focus', 'probing', 'telling', 'generic']

``annotate(corpus, rubric, model=..., out=...)`` labels a :class:`toolkit.Corpus` against any
OpenAI-compatible endpoint; ``annotate_rules(corpus, rubric, out=...)`` labels it with the rubric's
keyword patterns (offline baseline). See docs/annotation.md and docs/rules-baseline.md.

This namespace holds what a user of the package calls; the plumbing (transports, request
builders, the cache, the engine) is imported from its module, e.g.
``from annotation.transport import OpenAITransport``.
"""

from annotation.batch import (
    BatchCollection,
    BatchSubmission,
    batch_status,
    cancel_batch,
    collect_batch,
    submit_batch,
)
from annotation.estimate import Estimate, estimate
from annotation.guide import render_guide
from annotation.items import Item, iter_items
from annotation.local import annotate_local, annotate_local_async
from annotation.manifest import RunResult, rater_name
from annotation.options import AnnotateOptions
from annotation.pricing import DEFAULT_PRICES, Usage, load_prices
from annotation.prompt import PROMPT_TEMPLATE_SHA256, response_format
from annotation.rubric import Rubric, builtin_rubrics, load_rubric, parse_rubric
from annotation.rules import annotate_rules, rules_rater
from annotation.run import annotate, annotate_async
from annotation.transport import FatalError

__all__ = [
    "DEFAULT_PRICES",
    "PROMPT_TEMPLATE_SHA256",
    "AnnotateOptions",
    "BatchCollection",
    "BatchSubmission",
    "Estimate",
    "FatalError",
    "Item",
    "Rubric",
    "RunResult",
    "Usage",
    "annotate",
    "annotate_async",
    "annotate_local",
    "annotate_local_async",
    "annotate_rules",
    "batch_status",
    "builtin_rubrics",
    "cancel_batch",
    "collect_batch",
    "estimate",
    "iter_items",
    "load_prices",
    "load_rubric",
    "parse_rubric",
    "rater_name",
    "render_guide",
    "response_format",
    "rules_rater",
    "submit_batch",
]
