"""Human coding: reproducible samples, coder label rows, workbooks, import and adjudication.

The label-row API here is shared by every way people code (XLSX/CSV workbooks, the coding web
app, scripts), so all of them write identical annotation rows:

>>> from annotation.coding import CodedLabel, LabelSource, coder_rows
>>> from annotation.rubric import load_rubric
>>> rows = coder_rows([CodedLabel("demo", "d1:2", "mathdial/move", "probing", note="unsure")],
...                   coder="ana", round="r1", rubric=load_rubric("mathdial-moves"),
...                   source=LabelSource("app"))
>>> rows.loc[0, ["rater", "rater_kind", "run_id"]].tolist(), rows.loc[0, "meta"]["note"]
(['ana', 'human', 'r1'], 'unsure')

See docs/human-coding.md for the workflow.
"""

from annotation.coding.rows import (
    ADJUDICATED,
    AdjudicationResult,
    CodedLabel,
    Disagreement,
    LabelSource,
    adjudicated_rows,
    check_coder_name,
    coder_rows,
    find_disagreements,
    replace_round,
    round_labels,
)
from annotation.coding.sampling import (
    NO_LABEL,
    CorpusIdentity,
    RubricRef,
    Sample,
    SampleDesign,
    SampleUnit,
    Stratum,
    draw_sample,
    read_sample,
    write_sample,
)
from annotation.coding.units import (
    CodingUnit,
    ShownTurn,
    UnitRef,
    applicable_units,
    cell_text,
    coding_units,
    unit_checksum,
)

__all__ = [
    "ADJUDICATED",
    "NO_LABEL",
    "AdjudicationResult",
    "CodedLabel",
    "CodingUnit",
    "CorpusIdentity",
    "Disagreement",
    "LabelSource",
    "RubricRef",
    "Sample",
    "SampleDesign",
    "SampleUnit",
    "ShownTurn",
    "Stratum",
    "UnitRef",
    "adjudicated_rows",
    "applicable_units",
    "cell_text",
    "check_coder_name",
    "coder_rows",
    "coding_units",
    "draw_sample",
    "find_disagreements",
    "read_sample",
    "replace_round",
    "round_labels",
    "unit_checksum",
    "write_sample",
]
