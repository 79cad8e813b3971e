"""The ``meta`` column: JSON object text in one Arrow string column, a ``dict`` per row on access.

A corpus of millions of turns cannot afford a Python dict per row: building, saving and reading
them cost seconds per million rows, and memory several times the data. So the ``meta`` column of
every table is a :class:`MetaArray`, a pandas extension array over an Arrow string array of
JSON object text (keys in their order). Saving writes that array as it is; reading wraps the
Arrow column without decoding; filtering and slicing move text. A row is decoded to a ``dict``
only when someone reads it (``frame["meta"].iloc[0]``, iterating, ``.map(...)``), so code written
for a column of dicts keeps working. :func:`meta_values` decodes a whole column at once.

A dict taken out of the column is a fresh copy: changing it does not change the corpus (assign
a new column instead).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype
from pandas.api.indexers import check_array_indexer

from toolkit.errors import SchemaError
from toolkit.jsonvalue import plain

__all__ = ["MetaArray", "MetaDtype", "meta_text", "meta_values"]

_DECODER = json.JSONDecoder()
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_TEXT = pa.large_string()
EMPTY = "{}"


# ------------------------------------------------------------------------- encode / decode
def _decode(text: str, row: int, name: str) -> dict[str, Any]:
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


def _encode(value: dict[str, Any]) -> str | None:
    """JSON text of a dict (keys in order), through ``plain`` if needed; ``None`` if impossible."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError):  # numpy scalars, NaN, tuples...: convert, retry once
        try:
            return _ENCODER.encode(plain(value))
        except (TypeError, ValueError):
            return None


def meta_text(values: Iterable[Any], table: str = "meta") -> list[str]:
    """Encode meta values as the schema stores them: JSON object text, one per row.

    Dicts are encoded keeping their key order (through :func:`toolkit.jsonvalue.plain` when they
    hold numpy values, tuples or NaN, which becomes ``null``); text is kept as it is; a missing
    value is ``"{}"``. The inverse is :func:`meta_values`.

    Raises
    ------
    SchemaError
        Naming every row whose value cannot be written as JSON.

    Examples
    --------
    >>> meta_text([{"b": 1, "a": [1.5, None]}, None, '{"x": 1}'])
    ['{"b": 1, "a": [1.5, null]}', '{}', '{"x": 1}']
    """
    array = values.array if isinstance(values, pd.Series) else values
    if isinstance(array, MetaArray):
        return array.texts()
    texts: list[str] = []
    problems: list[str] = []
    for i, value in enumerate(values.tolist() if isinstance(values, pd.Series) else values):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            text = _encode(value)
            if text is None:
                problems.append(
                    f"{table}.meta row {i} is not plain JSON; use numbers, strings, lists, dicts "
                    "and None"
                )
            texts.append(text or EMPTY)
        else:  # None, NaN, NA and non-dicts: no fields
            texts.append(EMPTY)
    if problems:
        raise SchemaError(problems)
    return texts


def meta_values(values: Iterable[Any]) -> list[dict[str, Any]]:
    """Return a ``meta`` column as one ``dict`` per row, whatever form the rows are stored in.

    This is the one public way to read a whole ``meta`` column: it accepts a ``meta`` column (a
    pandas Series, e.g. ``corpus.turns["meta"]``, or any iterable of its values) holding JSON
    object text, dicts, or missing values, and returns fresh dicts for text (the dicts themselves
    otherwise). A missing value is ``{}``. Code that reads meta should go through it rather than
    assume the storage of the column.

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
    if isinstance(values, (pd.Series, MetaArray)):
        array = values.array if isinstance(values, pd.Series) else values
        if isinstance(array, MetaArray):
            return [{} if t is None else _decode(t, i, name) for i, t in enumerate(array.texts())]
        values = values.tolist()
    out: list[dict[str, Any]] = []
    append = out.append
    for i, value in enumerate(values):
        if isinstance(value, str):
            append(_decode(value, i, name))
        elif isinstance(value, dict):
            append(value)
        else:  # None, NaN, NA: no fields
            append({})
    return out


# --------------------------------------------------------------------- the pandas array
@register_extension_dtype
class MetaDtype(ExtensionDtype):
    """The dtype of a ``meta`` column: JSON object text stored in Arrow, a dict per element."""

    name = "edudial.meta"
    type = dict
    kind = "O"
    na_value = None
    _is_boolean = False

    @classmethod
    def construct_array_type(cls) -> type[MetaArray]:  # type: ignore[valid-type]
        return MetaArray

    def __from_arrow__(self, array: pa.Array | pa.ChunkedArray) -> MetaArray:
        return MetaArray(array)


def _as_text_array(array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array], type=array.type)
    if array.type != _TEXT:
        array = array.cast(_TEXT)
    return array


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


class MetaArray(ExtensionArray):
    """Meta values of a table: JSON object text in Arrow, decoded on element access.

    Examples
    --------
    >>> import pandas as pd
    >>> column = pd.Series(MetaArray._from_sequence([{"b": 2, "a": 1}, {}]))
    >>> column.iloc[0], column.iloc[1]
    ({'b': 2, 'a': 1}, {})
    >>> column.array.texts()
    ['{"b": 2, "a": 1}', '{}']
    >>> column.array.equals(MetaArray._from_sequence([{"a": 1, "b": 2}, {}]))  # values compared
    True
    """

    def __init__(self, data: pa.Array | pa.ChunkedArray) -> None:
        self._data = _as_text_array(data)

    # -- construction
    @classmethod
    def _from_sequence(cls, scalars: Any, *, dtype: Any = None, copy: bool = False) -> MetaArray:
        if isinstance(scalars, MetaArray):
            return MetaArray(scalars._data)
        if isinstance(scalars, (pa.Array, pa.ChunkedArray)):
            return MetaArray(scalars)
        values = list(scalars)
        texts = meta_text(values)
        # Missing stays missing here (pandas fills with it when reshaping, e.g. ``unstack``);
        # tables of a corpus never hold it: ``normalise_table`` makes it ``{}``.
        return MetaArray(
            pa.array(
                [None if _missing(v) else t for v, t in zip(values, texts, strict=True)], _TEXT
            )
        )

    @classmethod
    def _from_scalars(cls, scalars: Any, *, dtype: Any) -> MetaArray:
        """Only dicts make a meta column (``.map`` to anything else gives ordinary values)."""
        if not all(isinstance(v, dict) for v in scalars):
            raise TypeError("not all values are dicts")
        return cls._from_sequence(scalars)

    @classmethod
    def _from_factorized(cls, values: np.ndarray, original: MetaArray) -> MetaArray:
        return MetaArray(pa.array(list(values), type=_TEXT))

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[MetaArray]) -> MetaArray:
        chunks = [c for a in to_concat for c in a._data.chunks]
        return MetaArray(pa.chunked_array(chunks, type=_TEXT))

    # -- the array protocol
    @property
    def dtype(self) -> MetaDtype:
        return MetaDtype()

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            n = len(self)
            i = int(item) + n if item < 0 else int(item)
            if not 0 <= i < n:
                raise IndexError(f"index {item} is out of bounds for a meta column of {n}")
            text = self._data[i].as_py()
            return None if text is None else _decode(text, i, "meta")
        if isinstance(item, tuple) and len(item) == 1:  # pandas may pass (slice,)
            item = item[0]
        if isinstance(item, slice):
            return MetaArray(self._data[item])
        key = check_array_indexer(self, item)
        if key.dtype == bool:
            return MetaArray(self._data.filter(pa.array(key)))
        return self.take(key)

    def __iter__(self) -> Iterator[dict[str, Any] | None]:
        for i, text in enumerate(self.texts()):
            yield None if text is None else _decode(text, i, "meta")

    def __arrow_array__(self, type: Any = None) -> pa.ChunkedArray:
        return self._data if type is None or type == _TEXT else self._data.cast(type)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.empty(len(self), dtype=object)
        out[:] = list(self)
        return out

    def isna(self) -> np.ndarray:
        """Missing rows (only after reshaping; a corpus table's row without fields is ``{}``)."""
        return self._data.is_null().to_numpy(zero_copy_only=False)

    def filled(self) -> MetaArray:
        """This array with missing rows as ``{}``."""
        return MetaArray(pc.fill_null(self._data, EMPTY)) if self._data.null_count else self

    def copy(self) -> MetaArray:
        return MetaArray(self._data)  # Arrow arrays are immutable: sharing is a copy

    def take(self, indices: Any, *, allow_fill: bool = False, fill_value: Any = None) -> MetaArray:
        idx = np.asarray(indices, dtype=np.int64)
        n = len(self)
        fill = allow_fill & (idx == -1) if allow_fill else np.zeros(len(idx), dtype=bool)
        if allow_fill and (idx < -1).any():
            raise ValueError("invalid take index: only -1 may mark a missing row")
        if not allow_fill:
            idx = np.where(idx < 0, idx + n, idx)
        if ((idx >= n) | ((idx < 0) & ~fill)).any():
            raise IndexError("take index out of bounds for a meta column")
        if n == 0:
            return MetaArray(pa.nulls(len(idx), _TEXT))
        taken = self._data.take(pa.array(np.where(fill, 0, idx)))
        if fill.any():
            fill_text = None if _missing(fill_value) else meta_text([fill_value])[0]
            taken = pc.if_else(pa.array(fill), pa.scalar(fill_text, _TEXT), taken)
        return MetaArray(taken)

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        dtype = pd.api.types.pandas_dtype(dtype)
        if isinstance(dtype, MetaDtype):
            return self.copy() if copy else self
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            return self.__array__()
        if pd.api.types.is_string_dtype(dtype):
            return pd.array(self.texts(), dtype=dtype)
        return super().astype(dtype, copy=copy)

    def equals(self, other: object) -> bool:
        """Equal values row by row (text compared first; rows whose text differs are decoded)."""
        if not isinstance(other, MetaArray) or len(other) != len(self):
            return False
        if not np.array_equal(self.isna(), other.isna()):
            return False
        same = pc.fill_null(pc.equal(self._data, other._data), True)  # both missing: equal
        rows = np.flatnonzero(~same.to_numpy(zero_copy_only=False))
        return all(self[int(i)] == other[int(i)] for i in rows)

    def __eq__(self, other: object) -> Any:
        if isinstance(other, pd.Series | pd.Index | pd.DataFrame):
            return NotImplemented
        if isinstance(other, MetaArray):
            return np.array([a == b for a, b in zip(self, other, strict=True)], dtype=bool)
        return np.array([v == other for v in self], dtype=bool)

    def __setitem__(self, key: Any, value: Any) -> None:
        texts = np.array(self.texts(), dtype=object)
        key = check_array_indexer(self, key)
        if isinstance(value, dict) or value is None or isinstance(value, str):
            texts[key] = meta_text([value])[0]
        else:
            texts[key] = meta_text(list(value))
        self._data = _as_text_array(pa.array(list(texts), type=_TEXT))

    def _values_for_factorize(self) -> tuple[np.ndarray, Any]:
        return np.array(self.texts(), dtype=object), None

    def _values_for_argsort(self) -> np.ndarray:
        return np.array(self.texts(), dtype=object)

    def _formatter(self, boxed: bool = False) -> Any:
        return repr

    # -- ours
    def texts(self) -> list[str]:
        """The rows' JSON text (what Parquet stores), without decoding."""
        texts: list[str] = self._data.to_pylist()
        return texts

    def arrow(self) -> pa.ChunkedArray:
        """The Arrow array of JSON text, shared (not copied)."""
        return self._data
