"""The keys of a run's finished items, kept on disk so a run's memory does not grow with it.

A run of a million items would otherwise hold a million key strings (about 100 MB) for as long
as it runs, and resuming it would build them all again. :class:`DoneKeys` keeps them in a
private temporary SQLite database (deleted when closed): its page cache is bounded, so the
memory stays flat however many items finish. Lookups are exact (no hashing shortcut can skip an
item that was never labelled).

:func:`chosen_blocks` answers the one other whole-run question, which rows survive compaction,
with the same kind of database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

__all__ = ["DoneKeys", "chosen_blocks"]


def _scratch() -> sqlite3.Connection:
    # "" opens a private on-disk database that SQLite deletes on close; nothing here needs
    # to survive a crash (annotations.jsonl is the record), so no journal and no fsync.
    db = sqlite3.connect("", isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    return db


class DoneKeys:
    """A set of item keys on disk: ``in``, ``add``, ``len``.

    Examples
    --------
    >>> done = DoneKeys()
    >>> done.add("mathdial|t:1")
    True
    >>> "mathdial|t:1" in done, "mathdial|t:2" in done, len(done)
    (True, False, 1)
    >>> done.close()
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._db = _scratch()
        self._db.execute("CREATE TABLE done (key TEXT PRIMARY KEY) WITHOUT ROWID")
        self._n = 0
        for key in keys:
            self.add(key)

    def add(self, key: str) -> bool:
        """Add ``key``; whether it was new."""
        added = self._db.execute("INSERT OR IGNORE INTO done VALUES (?)", (key,)).rowcount == 1
        self._n += added
        return added

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        row = self._db.execute("SELECT 1 FROM done WHERE key = ?", (key,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self._n

    def close(self) -> None:
        """Delete the database."""
        self._db.close()


def chosen_blocks(blocks: Iterable[tuple[str, bool]]) -> Iterator[int]:
    """The positions of the blocks to keep, ascending: per key, its last done block, else its last.

    ``blocks`` are ``(item_key, done)`` for each run of consecutive rows of one item and status,
    in file order.

    Examples
    --------
    >>> list(chosen_blocks([("a", False), ("b", True), ("a", True), ("a", False), ("c", False)]))
    [1, 2, 4]
    """
    db = _scratch()
    try:
        db.execute("CREATE TABLE block (pos INTEGER PRIMARY KEY, key TEXT, done INTEGER)")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO block VALUES (?, ?, ?)",
            ((pos, key, int(done)) for pos, (key, done) in enumerate(blocks)),
        )
        db.execute("COMMIT")
        db.execute("CREATE INDEX block_key ON block (key, done, pos)")
        # the last done block of a key if it has one, else its last block
        cursor = db.execute(
            "SELECT max(pos) FROM block AS b WHERE done = 1 OR NOT EXISTS "
            "(SELECT 1 FROM block WHERE key = b.key AND done = 1) GROUP BY key, done "
            "ORDER BY 1"
        )
        for (pos,) in cursor:
            yield int(pos)
    finally:
        db.close()
