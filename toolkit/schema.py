"""The one schema every edudial corpus is normalised into.

A :class:`Corpus` holds three pandas tables:

``dialogues``
    ``corpus, dialogue_id, split, kind, meta``
``turns``
    ``corpus, dialogue_id, turn_id, index, role, speaker, text, meta``
``annotations`` (long format, one row per unit x scheme x rater)
    ``corpus, unit_id, scheme, label, rater, rater_kind, run_id, meta``

``meta`` holds source-specific fields per row as JSON object text (keys in order), so a
million rows cost one Arrow string column and no Python objects; JSON types only (numbers stay
numbers, missing is ``None``). Build tables with dicts in ``meta`` (they are encoded) and read it
with :func:`meta_values`, which decodes only what it is given. Every other column is a string
column, except ``turns.index`` (int64, 0-based position in the dialogue). Missing strings are
``NA``. ``unit_id`` names a ``turn_id`` or a ``dialogue_id`` of the same corpus; turn ids and
dialogue ids never overlap within a corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.errors import SchemaError
from toolkit.meta import MetaArray, MetaDtype, meta_text, meta_values

if TYPE_CHECKING:
    import datasets

__all__ = [
    "ANNOTATION_COLUMNS",
    "DIALOGUE_COLUMNS",
    "RATER_KINDS",
    "ROLES",
    "TURN_COLUMNS",
    "Corpus",
    "Dialogue",
    "meta_text",
    "meta_values",
    "normalise_table",
]

ROLES: tuple[str, ...] = ("teacher", "student", "other")
RATER_KINDS: tuple[str, ...] = ("human", "model", "rule")

DIALOGUE_COLUMNS: tuple[str, ...] = ("corpus", "dialogue_id", "split", "kind", "meta")
TURN_COLUMNS: tuple[str, ...] = (
    "corpus",
    "dialogue_id",
    "turn_id",
    "index",
    "role",
    "speaker",
    "text",
    "meta",
)
ANNOTATION_COLUMNS: tuple[str, ...] = (
    "corpus",
    "unit_id",
    "scheme",
    "label",
    "rater",
    "rater_kind",
    "run_id",
    "meta",
)

TABLES: dict[str, tuple[str, ...]] = {
    "dialogues": DIALOGUE_COLUMNS,
    "turns": TURN_COLUMNS,
    "annotations": ANNOTATION_COLUMNS,
}
_INT_COLUMNS = {"index"}
_COPY_ON_WRITE = int(pd.__version__.split(".", 1)[0]) >= 3


def normalise_table(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """Return ``frame`` with exactly the schema columns of ``table`` first, typed; extras after.

    Strings become the ``str`` dtype, ``index`` int64, and ``meta`` a
    :class:`~toolkit.meta.MetaArray` (dicts are encoded to JSON text, text is kept, missing
    values become ``{}``); the index is reset. ``Corpus`` applies it to each table.

    Parameters
    ----------
    frame : pandas.DataFrame or None
        ``None`` gives an empty table.
    table : {"dialogues", "turns", "annotations"}

    Raises
    ------
    SchemaError
        If a schema column is missing, ``index`` is not integral, or a ``meta`` value is not
        plain JSON (naming the rows).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"corpus": ["c"], "dialogue_id": ["d1"], "split": [None],
    ...                       "kind": ["lesson"], "meta": [{"grade": 7}]})
    >>> table = normalise_table(frame, "dialogues")
    >>> table["meta"].iloc[0], table["meta"].array.texts()
    ({'grade': 7}, ['{"grade": 7}'])
    """
    columns = TABLES[table]
    if frame is None:
        frame = pd.DataFrame({c: [] for c in columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError([f"{table} table lacks column(s) {', '.join(missing)}"])
    extra = [c for c in frame.columns if c not in columns]
    order = list(columns) + extra
    same_order = list(frame.columns) == order
    out = (frame if same_order else frame.loc[:, order]).reset_index(drop=True)
    if not _COPY_ON_WRITE:  # pandas >= 3 never lets ``out`` and ``frame`` see each other's writes
        out = out.copy()
    for col in columns:
        if col == "meta":
            out[col] = _meta_column(out[col], table)
        elif col in _INT_COLUMNS:
            try:
                out[col] = out[col].astype("int64")
            except (TypeError, ValueError) as exc:
                raise SchemaError([f"{table}.{col} must be integers ({exc})"]) from None
        elif not _is_text(out[col]):
            out[col] = out[col].astype("str")
    return out


def _meta_column(column: pd.Series, table: str) -> pd.Series:
    """A ``meta`` column as a :class:`MetaArray` (JSON text is taken as it is, dicts encoded)."""
    if isinstance(column.dtype, MetaDtype):
        filled = column.array.filled()
        return column if filled is column.array else pd.Series(filled, index=column.index)
    if _is_text(column):  # e.g. read from Parquet: already JSON text, no Python objects
        array = MetaArray(pa.array(column.array, type=pa.large_string())).filled()
    else:
        array = MetaArray(pa.array(meta_text(column, table), type=pa.large_string()))
    return pd.Series(array, index=column.index, name=column.name)


def _is_text(column: pd.Series) -> bool:
    """Whether ``column`` already has the schema's string dtype (``str``)."""
    return bool(column.dtype == "str")


@dataclass(frozen=True)
class Dialogue:
    """One dialogue with its turns and the annotations of its units (a read-only view).

    Attributes
    ----------
    corpus, dialogue_id, split, kind : str
        As in the ``dialogues`` table.
    meta : dict
        Source-specific dialogue fields (decoded from the ``dialogues`` table's ``meta``).
    turns : pandas.DataFrame
        This dialogue's rows of the ``turns`` table, in ``index`` order.
    annotations : pandas.DataFrame
        Annotations whose unit is this dialogue or one of its turns.
    """

    corpus: str
    dialogue_id: str
    split: str | None
    kind: str | None
    meta: dict[str, Any]
    turns: pd.DataFrame
    annotations: pd.DataFrame

    def __len__(self) -> int:
        return len(self.turns)

    def __repr__(self) -> str:
        return (
            f"Dialogue({self.corpus}/{self.dialogue_id}, kind={self.kind}, split={self.split}, "
            f"{len(self.turns)} turns, {len(self.annotations)} annotations)"
        )


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of ``values`` (equal values, and all missing values, share a code)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), max(len(uniques), 1)


def _combine(
    left: np.ndarray, n_left: int, right: np.ndarray, n_right: int
) -> tuple[np.ndarray, int]:
    """Codes of the pairs ``(left, right)`` (dense again if the product could overflow)."""
    if n_right == 1:
        return left, n_left
    if n_left * n_right < 2**62:
        return left * n_right + right, n_left * n_right
    codes, n = _codes(pd.Series(list(zip(left.tolist(), right.tolist(), strict=True))))
    return codes, n


def _key_codes(corpora: list[pd.Series], ids: list[pd.Series]) -> tuple[Any, ...]:
    """Dense codes of the ``(corpus, id)`` pairs of each (corpus, id) column pair, and their count.

    All the id columns are factorised together so equal keys get equal codes across tables.
    """
    sizes = [len(s) for s in ids]
    bounds = np.cumsum([0, *sizes])
    id_codes, n_ids = _codes(pd.concat(ids, ignore_index=True))
    first = next((s.iloc[0] for s in corpora if len(s)), None)
    single = (
        first is not None
        and not pd.isna(first)
        and all(bool(s.eq(first).all()) for s in corpora if len(s))
    )
    if single:
        keys, n_keys = id_codes, n_ids
    else:
        c_codes, n_c = _codes(pd.concat(corpora, ignore_index=True))
        keys, n_keys = _combine(id_codes, n_ids, c_codes, n_c)
        if n_keys > len(keys):  # make the codes dense again (they index lookup tables)
            keys, n_keys = _codes(pd.Series(keys))
    keys = np.asarray(keys, dtype=np.int64)
    parts = [keys[bounds[i] : bounds[i + 1]] for i in range(len(ids))]
    return (*parts, max(n_keys, 1))


def _repeat_rows(keys: np.ndarray) -> np.ndarray:
    """Positions of keys seen before, in order (each repeat listed once per extra occurrence)."""
    if len(keys) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(pd.Series(keys).duplicated(keep="first").to_numpy())


def _flags(n: int, positions: np.ndarray) -> np.ndarray:
    """A boolean array of length ``n``, true at ``positions``."""
    out = np.zeros(n, dtype=bool)
    out[positions] = True
    return out


def _mask(frame: pd.DataFrame, wanted: Mapping[str, str | Iterable[str] | None]) -> np.ndarray:
    """Rows of ``frame`` whose column values are among the wanted ones (``None``: any value)."""
    mask = np.ones(len(frame), dtype=bool)
    for col, values in wanted.items():
        if values is not None:
            allowed = [values] if isinstance(values, str) else list(values)
            mask &= frame[col].isin(allowed).to_numpy(dtype=bool)
    return mask


def _group_bounds(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order grouping ``codes`` (stable) and each group's start in it (``n_groups + 1``)."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    return order, np.concatenate([[0], np.cumsum(counts)])


def _meta_problems(frame: pd.DataFrame, table: str) -> list[str]:
    """Rows whose ``meta`` is not JSON object text (a cheap check: ``{...}``; decoding is lazy)."""
    meta = frame["meta"]
    if not isinstance(meta.dtype, MetaDtype):  # changed after building: encode to check
        meta = _meta_column(meta, table)
    text = meta.array.arrow()
    ok = pc.fill_null(pc.and_(pc.starts_with(text, "{"), pc.ends_with(text, "}")), False)
    bad = ~ok.to_numpy(zero_copy_only=False)
    return [f"{table}.meta row {i} is not a JSON object" for i in np.flatnonzero(bad)]


def _in_order(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``frame`` with its rows in ``order`` (no copy when they already are)."""
    if len(order) == 0 or bool(np.all(order == np.arange(len(order)))):
        return frame
    return frame.take(order).reset_index(drop=True)


def _rows(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start:stop`` as their own table (a view, indexed from 0)."""
    part = frame.iloc[start:stop]
    part.index = pd.RangeIndex(stop - start)
    return part


def _opt_str(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


class Corpus:
    """Dialogues, turns and annotations of one or more corpora in the edudial schema.

    Parameters
    ----------
    dialogues, turns, annotations : pandas.DataFrame, optional
        Tables with at least the schema columns (see the module docstring). Columns are reordered
        and typed; a missing table is empty. Construction does not validate: call
        :meth:`validate`.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> c = Corpus(
    ...     dialogues=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d1"], "split": ["test"],
    ...                             "kind": ["tutoring"], "meta": [{}]}),
    ...     turns=pd.DataFrame({"corpus": ["toy", "toy"], "dialogue_id": ["d1", "d1"],
    ...                         "turn_id": ["d1:0", "d1:1"], "index": [0, 1],
    ...                         "role": ["teacher", "student"], "speaker": ["T", "S"],
    ...                         "text": ["What is 2+2?", "4"], "meta": [{}, {}]}),
    ... ).validate()
    >>> c
    Corpus(toy: 1 dialogues, 2 turns, 0 annotations)
    >>> [d.dialogue_id for d in c]
    ['d1']
    >>> len(c.filter(role="student").turns)
    1
    """

    def __init__(
        self,
        dialogues: pd.DataFrame | None = None,
        turns: pd.DataFrame | None = None,
        annotations: pd.DataFrame | None = None,
    ) -> None:
        self.dialogues = normalise_table(dialogues, "dialogues")
        self.turns = normalise_table(turns, "turns")
        self.annotations = normalise_table(annotations, "annotations")

    @classmethod
    def _typed(
        cls, dialogues: pd.DataFrame, turns: pd.DataFrame, annotations: pd.DataFrame
    ) -> Corpus:
        """A corpus of row subsets of already normalised tables (skips re-typing)."""
        out = cls.__new__(cls)
        out.dialogues = dialogues.reset_index(drop=True)
        out.turns = turns.reset_index(drop=True)
        out.annotations = annotations.reset_index(drop=True)
        return out

    # ------------------------------------------------------------------ basics
    @property
    def names(self) -> list[str]:
        """The corpus names present, in order of first appearance."""
        return list(pd.unique(self.dialogues["corpus"]))

    def __len__(self) -> int:
        return len(self.dialogues)

    def __repr__(self) -> str:
        names = ", ".join(self.names) or "empty"
        return (
            f"Corpus({names}: {len(self.dialogues)} dialogues, {len(self.turns)} turns, "
            f"{len(self.annotations)} annotations)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Corpus):
            return NotImplemented
        return all(
            getattr(self, t).equals(getattr(other, t))
            for t in ("dialogues", "turns", "annotations")
        )

    __hash__ = None  # type: ignore[assignment]

    def to_pandas(self) -> dict[str, pd.DataFrame]:
        """Return the three tables (copies) keyed ``dialogues``, ``turns``, ``annotations``."""
        return {
            "dialogues": self.dialogues.copy(),
            "turns": self.turns.copy(),
            "annotations": self.annotations.copy(),
        }

    # -------------------------------------------------------------- validation
    def validate(self) -> Corpus:
        """Check the schema's rules and return ``self``.

        Checks: ids are unique (``dialogue_id`` and ``turn_id`` per corpus, and they do not
        overlap); every turn's dialogue exists; every dialogue has at least one turn; roles are in
        :data:`ROLES`; ``rater_kind`` is in :data:`RATER_KINDS`; every annotation's ``unit_id``
        exists; ``(unit_id, scheme, rater, run_id)`` is unique.

        Raises
        ------
        SchemaError
            Listing every problem, each naming the offending id.
        """
        problems = self.problems()
        if problems:
            raise SchemaError([message for _, message in problems])
        return self

    def problems(self) -> list[tuple[str, str]]:
        """Every problem :meth:`validate` finds, each with the table it is in.

        Returns
        -------
        list of (table, message)
            ``table`` is ``"dialogues"``, ``"turns"`` or ``"annotations"``; empty if valid.

        Examples
        --------
        >>> import pandas as pd
        >>> from toolkit import Corpus
        >>> Corpus(dialogues=pd.DataFrame({"corpus": ["c"], "dialogue_id": ["d1"],
        ...                                "split": [None], "kind": [None], "meta": [{}]})
        ...        ).problems()
        [('dialogues', 'dialogue c/d1 has no turns')]
        """
        problems: list[tuple[str, str]] = []
        d, t, a = self.dialogues, self.turns, self.annotations
        for col, table in (
            ("dialogue_id", "dialogues"),
            ("turn_id", "turns"),
            ("unit_id", "annotations"),
        ):
            n_missing = int(getattr(self, table)[col].isna().sum())
            if n_missing:
                problems.append((table, f"{col} is missing in {n_missing} row(s)"))

        # Keys are (corpus, id) pairs, encoded as dense integer codes by factorising all the id
        # columns together (vectorised; equality is the same as for the Python values). Messages
        # are built only for offending rows.
        d_key, t_key, t_dlg, a_key, n_keys = _key_codes(
            [d["corpus"], t["corpus"], t["corpus"], a["corpus"]],
            [d["dialogue_id"], t["turn_id"], t["dialogue_id"], a["unit_id"]],
        )
        in_d = np.zeros(n_keys, dtype=bool)
        in_d[d_key] = True
        in_t = np.zeros(n_keys, dtype=bool)
        in_t[t_key] = True
        has_turn = np.zeros(n_keys, dtype=bool)
        has_turn[t_dlg] = True

        def pairs(frame: pd.DataFrame, col: str, rows: np.ndarray) -> list[tuple[Any, Any]]:
            if len(rows) == 0:
                return []
            sub = frame.iloc[rows]
            return list(zip(sub["corpus"].tolist(), sub[col].tolist(), strict=True))

        problems.extend(
            ("dialogues", f"duplicate dialogue_id {c} / {i}")
            for c, i in pairs(d, "dialogue_id", _repeat_rows(d_key))
        )
        problems.extend(
            ("turns", f"duplicate turn_id {c} / {i}")
            for c, i in pairs(t, "turn_id", _repeat_rows(t_key))
        )
        both = np.flatnonzero(in_t[d_key])
        problems.extend(
            ("turns", f"id {c}/{i} is both a dialogue_id and a turn_id")
            for c, i in sorted(dict.fromkeys(pairs(d, "dialogue_id", both)), key=str)
        )
        problems.extend(
            ("turns", f"turn {c}/{i} belongs to an unknown dialogue")
            for c, i in pairs(t, "turn_id", np.flatnonzero(~in_d[t_dlg]))
        )
        problems.extend(
            ("dialogues", f"dialogue {c}/{i} has no turns")
            for c, i in pairs(d, "dialogue_id", np.flatnonzero(~has_turn[d_key]))
        )

        bad_role = ~t["role"].isin(ROLES)
        if bad_role.any():
            for c, i, r in t.loc[bad_role, ["corpus", "turn_id", "role"]].itertuples(False):
                problems.append(
                    ("turns", f"turn {c}/{i} has role {r!r}, expected one of {', '.join(ROLES)}")
                )
        bad_kind = ~a["rater_kind"].isin(RATER_KINDS)
        if bad_kind.any():
            for c, u, k in a.loc[bad_kind, ["corpus", "unit_id", "rater_kind"]].itertuples(False):
                problems.append(
                    (
                        "annotations",
                        f"annotation of {c}/{u} has rater_kind {k!r}, expected one of "
                        f"{', '.join(RATER_KINDS)}",
                    )
                )
        unknown = np.flatnonzero(~(in_t[a_key] | in_d[a_key]))
        if len(unknown):
            sub = a.iloc[unknown]
            problems.extend(
                ("annotations", f"annotation ({s}) refers to unknown unit {c}/{u}")
                for c, u, s in zip(
                    sub["corpus"].tolist(),
                    sub["unit_id"].tolist(),
                    sub["scheme"].tolist(),
                    strict=True,
                )
            )
        run = a["run_id"]  # a missing run_id is the same run as ""
        run_missing = run.isna().to_numpy()
        a_full, n_full = a_key, n_keys
        for values in (a["scheme"], a["rater"]) + (() if run_missing.all() else (run,)):
            if values is run and run_missing.any():
                values = run.fillna("")
            a_full, n_full = _combine(a_full, n_full, *_codes(values))
        repeats = _repeat_rows(a_full)
        if len(repeats):
            sub = a.iloc[repeats]
            problems.extend(
                ("annotations", f"duplicate annotation {c} / {u} / {s} / {r} / {x}")
                for c, u, s, r, x in zip(
                    sub["corpus"].tolist(),
                    sub["unit_id"].tolist(),
                    sub["scheme"].tolist(),
                    sub["rater"].tolist(),
                    sub["run_id"].fillna("").tolist(),
                    strict=True,
                )
            )
        for table in TABLES:
            problems.extend((table, m) for m in _meta_problems(getattr(self, table), table))
        return problems

    # --------------------------------------------------------------- selection
    def filter(
        self,
        *,
        role: str | Iterable[str] | None = None,
        split: str | Iterable[str] | None = None,
        dialogue_id: str | Iterable[str] | None = None,
        corpus: str | Iterable[str] | None = None,
        scheme: str | Iterable[str] | None = None,
    ) -> Corpus:
        """Return a new corpus restricted to the given values (each a value or a list).

        ``role`` keeps matching turns and drops dialogues left without turns. ``scheme`` restricts
        only the annotations. Annotations always follow their units.
        """

        d, t, a = self.dialogues, self.turns, self.annotations
        d_key, t_dlg, t_key, a_key, n_keys = _key_codes(
            [d["corpus"], t["corpus"], t["corpus"], a["corpus"]],
            [d["dialogue_id"], t["dialogue_id"], t["turn_id"], a["unit_id"]],
        )
        d_mask = _mask(d, {"corpus": corpus, "split": split, "dialogue_id": dialogue_id})
        kept = _flags(n_keys, d_key[d_mask])
        t_mask = kept[t_dlg] & _mask(t, {"role": role})
        if role is not None:  # dialogues left without turns go
            d_mask &= _flags(n_keys, t_dlg[t_mask])[d_key]
            kept = _flags(n_keys, d_key[d_mask])
        units = kept | _flags(n_keys, t_key[t_mask])
        a_mask = units[a_key] & _mask(a, {"scheme": scheme})
        return Corpus._typed(d[d_mask], t[t_mask], a[a_mask])

    def dialogue(self, dialogue_id: str, corpus: str | None = None) -> Dialogue:
        """Return one dialogue by id (``corpus`` disambiguates a merged corpus)."""
        sub = self.filter(dialogue_id=dialogue_id, corpus=corpus)
        if len(sub.dialogues) != 1:
            where = f" in corpus {corpus!r}" if corpus else ""
            found = "no" if len(sub.dialogues) == 0 else "more than one"
            raise KeyError(f"{found} dialogue with id {dialogue_id!r}{where}")
        return next(iter(sub))

    def __iter__(self) -> Iterator[Dialogue]:
        """Iterate over dialogues in table order, each with its turns and annotations."""
        d, t, a = self.dialogues, self.turns, self.annotations
        d_key, t_dlg, t_key, a_key, n_keys = _key_codes(
            [d["corpus"], t["corpus"], t["corpus"], a["corpus"]],
            [d["dialogue_id"], t["dialogue_id"], t["turn_id"], a["unit_id"]],
        )
        # Each turn's rows sorted by (dialogue, index) once; a dialogue is then one slice.
        t_order = np.lexsort((t["index"].to_numpy(), t_dlg))
        t_start = np.searchsorted(t_dlg[t_order], np.arange(n_keys + 1))
        dialogue_of = np.full(n_keys + 1, n_keys, dtype=np.int64)  # n_keys: no dialogue
        dialogue_of[t_key] = t_dlg
        dialogue_of[d_key] = d_key
        a_order, a_start = _group_bounds(dialogue_of[a_key], n_keys + 1)
        # One reordering of each table, then every dialogue is a pair of zero-copy slices.
        t_sorted, a_sorted = _in_order(t, t_order), _in_order(a, a_order)
        metas = d["meta"].array
        for i, row in enumerate(
            zip(d["corpus"].tolist(), d["dialogue_id"].tolist(), d["split"], d["kind"], strict=True)
        ):
            k = d_key[i]
            yield Dialogue(
                corpus=str(row[0]),
                dialogue_id=str(row[1]),
                split=_opt_str(row[2]),
                kind=_opt_str(row[3]),
                meta=metas[i],
                turns=_rows(t_sorted, t_start[k], t_start[k + 1]),
                annotations=_rows(a_sorted, a_start[k], a_start[k + 1]),
            )

    def unit_dialogues(self) -> dict[tuple[str, str], str]:
        """Map every unit ``(corpus, unit_id)`` to its dialogue id (used for cluster resampling)."""
        out: dict[tuple[str, str], str] = dict(
            zip(
                zip(self.turns["corpus"], self.turns["turn_id"], strict=True),
                self.turns["dialogue_id"],
                strict=True,
            )
        )
        out.update(
            zip(
                zip(self.dialogues["corpus"], self.dialogues["dialogue_id"], strict=True),
                self.dialogues["dialogue_id"],
                strict=True,
            )
        )
        return out

    # ---------------------------------------------------------------- building
    def with_annotations(self, annotations: pd.DataFrame, *, replace: bool = False) -> Corpus:
        """Return a new corpus with ``annotations`` appended (or replacing the existing ones)."""
        new = normalise_table(annotations, "annotations")
        rows = new if replace else pd.concat([self.annotations, new], ignore_index=True)
        return Corpus(self.dialogues, self.turns, rows)

    @classmethod
    def concat(cls, corpora: Iterable[Corpus]) -> Corpus:
        """Stack several corpora into one (ids stay scoped by the ``corpus`` column)."""
        items = list(corpora)
        if not items:
            return cls()
        return cls(
            *(
                pd.concat([getattr(c, t) for c in items], ignore_index=True)
                for t in ("dialogues", "turns", "annotations")
            )
        )

    # ----------------------------------------------------------------- storage
    def save(self, directory: Any, format: str = "parquet", *, overwrite: bool = False) -> Any:
        """Write the three tables to ``directory``; see :func:`toolkit.io.save_corpus`."""
        from toolkit.io import save_corpus

        return save_corpus(self, directory, format=format, overwrite=overwrite)

    @classmethod
    def read(
        cls,
        directory: Any,
        *,
        columns: Mapping[str, Any] | None = None,
        filters: Mapping[str, Any] | None = None,
        validate: bool = True,
    ) -> Corpus:
        """Read (and check) a corpus written by :meth:`save`; see :func:`toolkit.io.read_corpus`."""
        from toolkit.io import read_corpus

        return read_corpus(directory, columns=columns, filters=filters, validate=validate)

    def to_hf(self) -> datasets.DatasetDict:
        """Return a ``datasets.DatasetDict`` with one split per table; see :func:`toolkit.io.to_hf`.

        ``corpora.from_hf(dataset_dict)`` is the inverse.
        """
        from toolkit.io import to_hf

        return to_hf(self)

    def stats(self) -> Mapping[str, pd.DataFrame]:
        """Corpus statistics as DataFrames; see :func:`toolkit.stats.corpus_stats`."""
        from toolkit.stats import corpus_stats

        return corpus_stats(self)
