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

from annotation.coding.adjudication import adjudicate, disagreement_manifest, write_disagreements
from annotation.coding.importer import (
    ReadWorkbook,
    WorkbookError,
    check_against_corpus,
    match_label,
    read_workbook,
)
from annotation.coding.merge import ImportOutcome, import_workbooks, read_workbooks
from annotation.coding.rounds import (
    ROUND_TIME,
    RoundChoice,
    RoundSelection,
    order_rounds,
    select_round,
)
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
    meta_dicts,
    unit_checksum,
)
from annotation.coding.workbook import (
    Column,
    ExportedWorkbook,
    SheetRow,
    WorkbookManifest,
    assign_units,
    coder_seed,
    export_workbooks,
    sheet_columns,
    write_csv,
    write_xlsx,
)

__all__ = [
    "ADJUDICATED",
    "NO_LABEL",
    "ROUND_TIME",
    "AdjudicationResult",
    "CodedLabel",
    "CodingUnit",
    "Column",
    "CorpusIdentity",
    "Disagreement",
    "ExportedWorkbook",
    "ImportOutcome",
    "LabelSource",
    "ReadWorkbook",
    "RoundChoice",
    "RoundSelection",
    "RubricRef",
    "Sample",
    "SampleDesign",
    "SampleUnit",
    "SheetRow",
    "ShownTurn",
    "Stratum",
    "UnitRef",
    "WorkbookError",
    "WorkbookManifest",
    "adjudicate",
    "adjudicated_rows",
    "applicable_units",
    "assign_units",
    "cell_text",
    "check_against_corpus",
    "check_coder_name",
    "coder_rows",
    "coder_seed",
    "coding_units",
    "disagreement_manifest",
    "draw_sample",
    "export_workbooks",
    "find_disagreements",
    "import_workbooks",
    "match_label",
    "meta_dicts",
    "order_rounds",
    "read_sample",
    "read_workbook",
    "read_workbooks",
    "replace_round",
    "round_labels",
    "select_round",
    "sheet_columns",
    "unit_checksum",
    "write_csv",
    "write_disagreements",
    "write_sample",
    "write_xlsx",
]
