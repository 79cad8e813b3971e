"""Columns of human codes -> annotation rows of the turns they code.

A blank cell is not coded (never a category). A column where any cell holds the delimiter
(``"a; b"``) is multi-label: it becomes one yes/no scheme per code, ``SCHEME/a`` with label
``"1"`` or ``"0"`` on every coded turn (the shape of SIGHT's categories and of binary rubrics).
A code outside the scheme's declared labels is an error naming every offending cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from corpora.transcripts.formats import RawTable
from corpora.transcripts.mapping import CodeSpec
from toolkit.errors import InputError

__all__ = ["code_rows", "multi_label_codes"]

_SHOWN = 5


def _cells(values: pd.Series) -> pd.Series:
    """The cells as stripped text; blank (``""``, NaN, None) -> ``""``."""
    if values.dtype == "str":  # text columns (CSV, TSV, XLSX): no per-cell conversion
        return values.fillna("").str.strip()
    text = values.astype(object).where(values.notna(), "")
    return text.map(_cell_str).astype(str).str.strip()


def _cell_str(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def multi_label_codes(
    columns: Sequence[tuple[str, pd.Series]],
    *,
    delimiter: str,
    labels: Mapping[str, tuple[str, ...]],
) -> dict[str, list[str]]:
    """Scheme -> its codes, for the schemes that are multi-label.

    ``columns`` holds ``(scheme, cells)`` for every code column of every file: a scheme is
    multi-label when any of its cells holds ``delimiter``, and then every coder of every file
    gets a yes/no label for each of its codes (the declared labels, else all codes seen, in order
    of first appearance), so the coders' columns stay comparable.

    >>> multi_label_codes([("m", pd.Series(["a; b", ""])), ("m", pd.Series(["c"]))],
    ...                   delimiter=";", labels={})
    {'m': ['a', 'b', 'c']}
    """
    out: dict[str, list[str]] = {}
    if not delimiter:
        return out
    cells_by: dict[str, list[pd.Series]] = {}
    for scheme, cells in columns:
        cells_by.setdefault(scheme, []).append(_cells(cells))
    for scheme, parts in cells_by.items():
        if not any(p.str.contains(delimiter, regex=False).any() for p in parts):
            continue
        declared = labels.get(scheme)
        seen = (c.strip() for p in parts for v in p.tolist() for c in v.split(delimiter))
        out[scheme] = (
            list(declared) if declared is not None else list(dict.fromkeys(c for c in seen if c))
        )
    return out


def code_rows(
    table: RawTable,
    spec: CodeSpec,
    rows: np.ndarray,
    unit_ids: Sequence[str],
    *,
    corpus: str,
    delimiter: str,
    labels: Mapping[str, tuple[str, ...]],
    multi: Sequence[str] | None = None,
) -> dict[str, list[object]]:
    """Annotation columns for code column ``spec`` at file rows ``rows`` (one per kept turn).

    Parameters
    ----------
    table : RawTable
        The file.
    spec : CodeSpec
        The column, scheme and rater.
    rows : numpy.ndarray
        Row positions in ``table.frame`` of the kept turns, aligned with ``unit_ids``.
    unit_ids : sequence of str
        Turn id of each kept turn.
    corpus : str
        The corpus name.
    delimiter : str
        Separates several codes in one cell.
    labels : mapping
        Scheme -> declared labels.
    multi : sequence of str, optional
        The scheme's codes when it is multi-label (see :func:`multi_label_codes`).
    """
    cells = _cells(table.frame[spec.column].iloc[rows]).to_numpy(dtype=object)
    coded = np.flatnonzero(cells != "")
    units = np.asarray(unit_ids, dtype=object)[coded]
    values = cells[coded]
    if multi is None:
        _check_labels(table, spec, rows=rows[coded], values=values, labels=labels)
        return _columns(corpus, spec, units.tolist(), [spec.scheme] * len(units), values.tolist())
    sets = [tuple(p.strip() for p in v.split(delimiter) if p.strip()) for v in values]
    flat = np.asarray([c for s in sets for c in s], dtype=object)
    at = np.repeat(rows[coded], [len(s) for s in sets])
    _check_labels(table, spec, rows=at, values=flat, labels=labels)
    out_units: list[object] = []
    out_schemes: list[str] = []
    out_labels: list[object] = []
    for code in multi:
        out_units.extend(units.tolist())
        out_schemes.extend([f"{spec.scheme}/{code}"] * len(units))
        out_labels.extend("1" if code in s else "0" for s in sets)
    return _columns(corpus, spec, out_units, out_schemes, out_labels)


def _columns(
    corpus: str, spec: CodeSpec, units: list[object], schemes: list[Any], labels: list[object]
) -> dict[str, list[object]]:
    n = len(units)
    return {
        "corpus": [corpus] * n,
        "unit_id": units,
        "scheme": schemes,
        "label": labels,
        "rater": [spec.rater] * n,
        "rater_kind": ["human"] * n,
        "run_id": [pd.NA] * n,
        "meta": [{"column": spec.column} for _ in range(n)],
    }


def _check_labels(
    table: RawTable,
    spec: CodeSpec,
    *,
    rows: np.ndarray,
    values: np.ndarray,
    labels: Mapping[str, tuple[str, ...]],
) -> None:
    scheme = spec.scheme
    declared = labels.get(scheme)
    if declared is None:
        return
    bad = np.flatnonzero(~pd.Series(values, dtype=object).isin(list(declared)).to_numpy())
    if not len(bad):
        return
    shown = [f"{table.where(int(rows[i]), spec.column)}: {values[i]!r}" for i in bad[:_SHOWN]]
    more = f"; ... and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
    raise InputError(
        f"{len(bad)} code(s) in column {spec.column!r} outside the labels declared for "
        f"{scheme!r} ({', '.join(declared)}): " + "; ".join(shown) + more
    )
