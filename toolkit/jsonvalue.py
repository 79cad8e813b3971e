"""One converter from Python, numpy and pandas values to plain JSON values.

Every JSON document edudial writes (saved corpora, reports, run manifests, source-label meta) goes
through :func:`plain`, so a numpy scalar, a tuple or a NaN is written the same way everywhere.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """Return ``value`` as plain JSON types: dict, list, str, int, float, bool or None.

    numpy scalars become the Python value they hold, arrays and tuples become lists, dict keys
    become strings, NaN and infinities become ``None`` (JSON has neither), dates become ISO
    text, and an object with ``to_dict()`` is converted through it. Other values are returned
    as they are, so a caller that needs strict JSON still learns about them from ``json.dumps``.

    Examples
    --------
    >>> import numpy as np
    >>> plain({"n": np.int64(2), "x": float("nan"), "t": (1, np.float32(0.5)), 3: [np.True_]})
    {'n': 2, 'x': None, 't': [1, 0.5], '3': [True]}
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict())
    return value
