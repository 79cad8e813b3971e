"""Which published corpora may leave the machine without naming people, and on what evidence.

The registry marks every corpus loaded by one of these named loaders with a
:class:`toolkit.deid.DeidRecord` (``by="publisher"``), so ``edudial annotate`` does not warn
about them. Each basis cites what the release itself says or shows (its README, SOURCE.md in the
shared corpora, or docs/corpora.md); a loader not listed here (the ``transcripts`` importer) is
not marked and counts as not de-identified until ``edudial deid`` has run.
"""

from __future__ import annotations

from toolkit.deid import DeidRecord, mark
from toolkit.schema import Corpus

__all__ = ["PUBLISHED", "mark_published"]

#: Loader name -> why its texts hold no private names.
PUBLISHED: dict[str, str] = {
    "mathdial": (
        "students are LLM-simulated personas (README: human teachers paired with an LLM "
        "student); their first names are fictional"
    ),
    "sight": (
        "public texts, not anonymised: YouTube comments on, and Whisper transcripts of, public "
        "MIT OpenCourseWare lectures; no private participants"
    ),
    "talkmoves": (
        "released by the publisher with pseudonymised speakers (label cells show "
        "name-replacement artefacts, e.g. '4 - resSuzannang'); full-name speaker labels and "
        "teacher surnames in Subset 2 file names are kept as released"
    ),
    "cima": (
        "crowdworkers role-playing tutor and student (README/paper abstract); no real "
        "tutoring participants"
    ),
    "mrbench": (
        "contexts from MathDial (simulated students) and Bridge (students replaced by "
        "[STUDENT]); replies by LLMs and experts"
    ),
    "bridge": "released with student names replaced by [STUDENT] in the conversation texts",
    "ncte_uptake": (
        "README: sampled from 'anonymized 4-5th grade US elementary math classroom transcripts'"
    ),
    "tscc": (
        "released anonymised: names replaced by <PLACEHOLDER> tokens; the licence forbids "
        "de-anonymisation"
    ),
}


def mark_published(corpus: Corpus, loader: str) -> Corpus:
    """Mark ``corpus`` as de-identified by its publisher when ``loader`` is in :data:`PUBLISHED`.

    Examples
    --------
    >>> from toolkit import Corpus
    >>> mark_published(Corpus(), "transcripts")
    Corpus(empty: 0 dialogues, 0 turns, 0 annotations)
    """
    basis = PUBLISHED.get(loader)
    if basis is None:
        return corpus
    return mark(corpus, DeidRecord(by="publisher", basis=basis))
