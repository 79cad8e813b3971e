"""A content-addressed response cache in SQLite (WAL).

The key is the sha256 of the canonical JSON (sorted keys, compact separators, UTF-8) of the exact
request body plus the endpoint id and the sample index. The API key, timeouts and retry settings
are never part of a key or of a stored value. Only successful HTTP responses are stored, so a rerun
replays them without any request; a request that failed is sent again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

__all__ = ["ResponseCache", "canonical_json", "request_key"]


def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, compact separators, non-ASCII kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(body: dict[str, Any], endpoint: str, sample_idx: int = 0) -> str:
    """Cache key of a request: sha256 over canonical JSON of body, endpoint and sample index.

    Examples
    --------
    >>> a = request_key({"model": "m", "messages": []}, "http://h/v1")
    >>> a == request_key({"messages": [], "model": "m"}, "http://h/v1")
    True
    >>> a == request_key({"model": "m", "messages": []}, "http://other/v1")
    False
    """
    text = canonical_json({"body": body, "endpoint": endpoint, "sample_idx": sample_idx})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS profiles (
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    profile TEXT NOT NULL,
    PRIMARY KEY (endpoint, model)
);
"""


class ResponseCache:
    """SQLite store of raw response bodies keyed by :func:`request_key`.

    Parameters
    ----------
    path : path
        The database file (created). Pass ``":memory:"`` for a throwaway cache.

    Examples
    --------
    >>> c = ResponseCache(":memory:")
    >>> c.put("k", '{"id": 1}'); c.get("k")
    '{"id": 1}'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def get(self, key: str) -> str | None:
        """The stored response text, or ``None``."""
        row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, response: str) -> None:
        """Store a response (committed immediately, so a crash loses nothing written)."""
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)",
            (key, response, time.time()),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def get_profile(self, endpoint: str, model: str) -> dict[str, Any] | None:
        """The capability profile stored for an endpoint and model."""
        row = self._db.execute(
            "SELECT profile FROM profiles WHERE endpoint = ? AND model = ?", (endpoint, model)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put_profile(self, endpoint: str, model: str, profile: dict[str, Any]) -> None:
        """Remember an endpoint's capability profile (so reruns need no probe)."""
        self._db.execute(
            "INSERT OR REPLACE INTO profiles (endpoint, model, profile) VALUES (?, ?, ?)",
            (endpoint, model, canonical_json(profile)),
        )

    def close(self) -> None:
        """Close the database."""
        self._db.close()
