"""Inter-rater reliability and human-model agreement for edudial annotations.

The main entry points are :func:`agreement` (every coefficient with analytic and bootstrap
intervals, per scheme) and :func:`report` (Markdown, HTML or JSON). Conventions (declared category
order, missing data, level of measurement, interval methods) are described in ``docs/eval.md``.

Examples
--------
>>> import pandas as pd
>>> import eval
>>> a = pd.DataFrame({"unit_id": ["u1", "u1", "u2", "u2", "u3", "u3"], "scheme": "s",
...                   "rater": ["A", "B"] * 3, "label": ["1", "1", "0", "0", "1", "0"]})
>>> res = eval.agreement(a, bootstrap=0)
>>> round(res["s"].metrics["cohen_kappa"].estimate, 4)
0.4
"""

from eval.agreement import MISSING_POLICY, TIE_RULE, agreement, scheme_agreement
from eval.api import (
    CountTable,
    analytic,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    count_table,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    kappa_table,
    krippendorff_alpha,
    label_sets,
    multilabel_alpha,
    multilabel_to_binary,
    pabak,
    percent_agreement,
    scott_pi,
)
from eval.bootstrap import BootstrapResult, percentile_ci, replicate
from eval.coefficients import WEIGHTS, read_weights, weight_matrix
from eval.data import LEVELS, RatingTable, ratings_table, wide_to_long
from eval.headline import Headline, recommend
from eval.icc import ICC_FORMS, IccResult, icc
from eval.reporting import FORMATS, landis_koch, report
from eval.result import AgreementResult, Metric, SchemeResult

__all__ = [
    "FORMATS",
    "ICC_FORMS",
    "LEVELS",
    "MISSING_POLICY",
    "TIE_RULE",
    "WEIGHTS",
    "AgreementResult",
    "BootstrapResult",
    "CountTable",
    "Headline",
    "IccResult",
    "Metric",
    "RatingTable",
    "SchemeResult",
    "agreement",
    "analytic",
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "count_table",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "icc",
    "kappa_table",
    "krippendorff_alpha",
    "label_sets",
    "landis_koch",
    "multilabel_alpha",
    "multilabel_to_binary",
    "pabak",
    "percent_agreement",
    "percentile_ci",
    "ratings_table",
    "read_weights",
    "recommend",
    "replicate",
    "report",
    "scheme_agreement",
    "scott_pi",
    "weight_matrix",
    "wide_to_long",
]
