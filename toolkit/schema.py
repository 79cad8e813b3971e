"""The one schema every edudial corpus is normalised into.

A :class:`Corpus` holds three pandas tables:

``dialogues``
    ``corpus, dialogue_id, split, kind, meta``
``turns``
    ``corpus, dialogue_id, turn_id, index, role, speaker, text, meta``
``annotations`` (long format, one row per unit x scheme x rater)
    ``corpus, unit_id, scheme, label, rater, rater_kind, run_id, meta``

``meta`` holds a plain ``dict`` per row with source-specific fields (JSON types only: numbers stay
numbers, missing is ``None``). Every other column is a string column, except ``turns.index`` (int64,
0-based position in the dialogue). Missing strings are ``NA``. ``unit_id`` names a ``turn_id`` or a
``dialogue_id`` of the same corpus; turn ids and dialogue ids never overlap within a corpus.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit.errors import SchemaError

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
    "meta_values",
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


def _normalise(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """Return ``frame`` with exactly the schema columns first, typed; extra columns kept after."""
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
            metas = out[col].tolist()
            if metas and set(map(type, metas)) != {dict}:
                out[col] = pd.Series(
                    [m if isinstance(m, dict) else {} for m in metas], index=out.index, dtype=object
                )
        elif col in _INT_COLUMNS:
            try:
                out[col] = out[col].astype("int64")
            except (TypeError, ValueError) as exc:
                raise SchemaError([f"{table}.{col} must be integers ({exc})"]) from None
        elif out[col].dtype != "str":
            out[col] = out[col].astype("str")
    return out


_DECODER = json.JSONDecoder()


def meta_values(values: Iterable[Any]) -> list[dict[str, Any]]:
    """Return a ``meta`` column as one ``dict`` per row, whatever form the rows are stored in.

    This is the one public way to read ``meta``: it accepts a ``meta`` column (a pandas Series,
    e.g. ``corpus.turns["meta"]``, or any iterable of its values) holding JSON object text, dicts,
    or missing values, and returns fresh dicts for text (the dicts themselves otherwise). A
    missing value is ``{}``. Code that reads meta should go through it rather than assume the
    storage of the column.

    Parameters
    ----------
    values : pandas.Series or iterable
        The ``meta`` column of a ``dialogues``, ``turns`` or ``annotations`` table.

    Returns
    -------
    list of dict
        One dict per row, in order.

    Raises
    ------
    SchemaError
        If a row holds text that is not a JSON object (naming the row and the column).

    Examples
    --------
    >>> import pandas as pd
    >>> meta_values(pd.Series(['{"grade": 7}', None, {"ok": True}], name="meta"))
    [{'grade': 7}, {}, {'ok': True}]
    """
    name = str(getattr(values, "name", None) or "meta")
    out: list[dict[str, Any]] = []
    append = out.append
    for i, value in enumerate(values.tolist() if isinstance(values, pd.Series) else values):
        if isinstance(value, str):
            append(_decode_meta(value, i, name))
        elif isinstance(value, dict):
            append(value)
        else:  # None, NaN, NA: no fields
            append({})
    return out


def _decode_meta(text: str, row: int, name: str) -> dict[str, Any]:
    """One row's JSON object text as a dict (``raw_decode`` skips json.loads' per-call checks)."""
    try:
        value, end = _DECODER.raw_decode(text)
        if end != len(text):
            value = json.loads(text)  # trailing whitespace is fine, anything else raises
    except json.JSONDecodeError as exc:
        raise SchemaError([f"{name} row {row}: not JSON ({exc.msg})"]) from None
    if not isinstance(value, dict):
        raise SchemaError([f"{name} row {row}: expected a JSON object, got {text[:40]!r}"])
    return value


@dataclass(frozen=True)
class Dialogue:
    """One dialogue with its turns and the annotations of its units (a read-only view).

    Attributes
    ----------
    corpus, dialogue_id, split, kind : str
        As in the ``dialogues`` table.
    meta : dict
        Source-specific dialogue fields.
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
        self.dialogues = _normalise(dialogues, "dialogues")
        self.turns = _normalise(turns, "turns")
        self.annotations = _normalise(annotations, "annotations")

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
        problems: list[str] = []
        d, t, a = self.dialogues, self.turns, self.annotations
        for col, frame in (("dialogue_id", d), ("turn_id", t), ("unit_id", a)):
            n_missing = int(frame[col].isna().sum())
            if n_missing:
                problems.append(f"{col} is missing in {n_missing} row(s)")

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
            f"duplicate dialogue_id {c} / {i}"
            for c, i in pairs(d, "dialogue_id", _repeat_rows(d_key))
        )
        problems.extend(
            f"duplicate turn_id {c} / {i}" for c, i in pairs(t, "turn_id", _repeat_rows(t_key))
        )
        both = np.flatnonzero(in_t[d_key])
        problems.extend(
            f"id {c}/{i} is both a dialogue_id and a turn_id"
            for c, i in sorted(dict.fromkeys(pairs(d, "dialogue_id", both)), key=str)
        )
        problems.extend(
            f"turn {c}/{i} belongs to an unknown dialogue"
            for c, i in pairs(t, "turn_id", np.flatnonzero(~in_d[t_dlg]))
        )
        problems.extend(
            f"dialogue {c}/{i} has no turns"
            for c, i in pairs(d, "dialogue_id", np.flatnonzero(~has_turn[d_key]))
        )

        bad_role = ~t["role"].isin(ROLES)
        if bad_role.any():
            for c, i, r in t.loc[bad_role, ["corpus", "turn_id", "role"]].itertuples(False):
                problems.append(f"turn {c}/{i} has role {r!r}, expected one of {', '.join(ROLES)}")
        bad_kind = ~a["rater_kind"].isin(RATER_KINDS)
        if bad_kind.any():
            for c, u, k in a.loc[bad_kind, ["corpus", "unit_id", "rater_kind"]].itertuples(False):
                problems.append(
                    f"annotation of {c}/{u} has rater_kind {k!r}, expected one of "
                    f"{', '.join(RATER_KINDS)}"
                )
        unknown = np.flatnonzero(~(in_t[a_key] | in_d[a_key]))
        if len(unknown):
            sub = a.iloc[unknown]
            problems.extend(
                f"annotation ({s}) refers to unknown unit {c}/{u}"
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
                f"duplicate annotation {c} / {u} / {s} / {r} / {x}"
                for c, u, s, r, x in zip(
                    sub["corpus"].tolist(),
                    sub["unit_id"].tolist(),
                    sub["scheme"].tolist(),
                    sub["rater"].tolist(),
                    sub["run_id"].fillna("").tolist(),
                    strict=True,
                )
            )
        if problems:
            raise SchemaError(problems)
        return self

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

        def _values(v: str | Iterable[str]) -> list[str]:
            return [v] if isinstance(v, str) else list(v)

        d, t, a = self.dialogues, self.turns, self.annotations
        if corpus is not None:
            d = d[d["corpus"].isin(_values(corpus))]
        if split is not None:
            d = d[d["split"].isin(_values(split))]
        if dialogue_id is not None:
            d = d[d["dialogue_id"].isin(_values(dialogue_id))]
        d_keys = pd.MultiIndex.from_frame(d[["corpus", "dialogue_id"]])
        t = t[pd.MultiIndex.from_frame(t[["corpus", "dialogue_id"]]).isin(d_keys)]
        if role is not None:
            t = t[t["role"].isin(_values(role))]
            kept = pd.MultiIndex.from_frame(t[["corpus", "dialogue_id"]])
            d = d[pd.MultiIndex.from_frame(d[["corpus", "dialogue_id"]]).isin(kept)]
            d_keys = pd.MultiIndex.from_frame(d[["corpus", "dialogue_id"]])
        if scheme is not None:
            a = a[a["scheme"].isin(_values(scheme))]
        a_keys = pd.MultiIndex.from_frame(a[["corpus", "unit_id"]])
        t_keys = pd.MultiIndex.from_frame(t[["corpus", "turn_id"]])
        a = a[a_keys.isin(t_keys) | a_keys.isin(d_keys)]
        return Corpus(d, t, a)

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
        turns_by = dict(tuple(self.turns.groupby(["corpus", "dialogue_id"], sort=False)))
        unit_dialogue = self.unit_dialogues()
        ann = self.annotations.assign(
            _dlg=pd.MultiIndex.from_frame(self.annotations[["corpus", "unit_id"]]).map(
                lambda k: unit_dialogue.get(k)
            )
        )
        ann_by = dict(tuple(ann.groupby(["corpus", "_dlg"], sort=False)))
        empty_t = self.turns.iloc[0:0]
        empty_a = self.annotations.iloc[0:0]
        for row in self.dialogues.itertuples(index=False):
            key = (row.corpus, row.dialogue_id)
            turns = turns_by.get(key, empty_t).sort_values("index")
            anns = ann_by.get(key)
            yield Dialogue(
                corpus=str(row.corpus),
                dialogue_id=str(row.dialogue_id),
                split=_opt_str(row.split),
                kind=_opt_str(row.kind),
                meta=row.meta if isinstance(row.meta, dict) else {},
                turns=turns.reset_index(drop=True),
                annotations=(empty_a if anns is None else anns.drop(columns="_dlg")).reset_index(
                    drop=True
                ),
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
        new = _normalise(annotations, "annotations")
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
    def read(cls, directory: Any) -> Corpus:
        """Read a corpus written by :meth:`save` (format detected from the files)."""
        from toolkit.io import read_corpus

        return read_corpus(directory)

    def to_hf(self) -> datasets.DatasetDict:
        """Return a ``datasets.DatasetDict`` with one split per table (``meta`` as JSON text)."""
        from toolkit.io import to_hf

        return to_hf(self)

    def stats(self) -> Mapping[str, pd.DataFrame]:
        """Corpus statistics as DataFrames; see :func:`toolkit.stats.corpus_stats`."""
        from toolkit.stats import corpus_stats

        return corpus_stats(self)
