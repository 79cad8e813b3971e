"""The units the app serves, looked up by key, each shown exactly as the workbooks show it.

The page content of a unit is :class:`annotation.coding.CodingUnit` (the dialogue fields, the
previous turns, the target and the following turns the rubric shows), built by
:func:`annotation.coding.coding_units`: the one definition of what a human coder sees, whether in a
workbook, a CSV file or this app.
"""

from __future__ import annotations

from annotation.coding import CodingUnit, coding_units
from annotation.rubric import Rubric
from toolkit.schema import Corpus

__all__ = ["UnitIndex", "UnitKey"]

#: ``(corpus, unit_id)``: a unit's identity, also in a merged corpus.
UnitKey = tuple[str, str]


class UnitIndex:
    """The units ``rubric`` codes in ``corpus`` (corpus order), each viewable with its context.

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> index = UnitIndex(bundled_sample(), load_rubric("mathdial-moves"))
    >>> len(index.keys), index.view(index.keys[0]).target[0].role
    (33, 'teacher')
    """

    def __init__(self, corpus: Corpus, rubric: Rubric) -> None:
        self.rubric = rubric
        self._units = {(u.corpus, u.unit_id): u for u in coding_units(corpus, rubric)}
        self.keys: list[UnitKey] = list(self._units)

    def __contains__(self, key: object) -> bool:
        return key in self._units

    def dialogue_of(self, key: UnitKey) -> str:
        """The dialogue id of a unit."""
        return self._units[key].dialogue_id

    def view(self, key: UnitKey) -> CodingUnit:
        """The page content of one unit (context window, target, meta fields)."""
        return self._units[key]
