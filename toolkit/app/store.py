"""The app's label store: one SQLite file in WAL mode, written by one process.

Every answer is committed (``synchronous=FULL``) before the browser is sent to the next page, so a
closed tab, a crashed server or ``kill -9`` loses nothing; reopening continues where each coder
stopped. The store also freezes the session: corpus, rubric hash, coding round, each coder's units
in their shuffled order, the coders' URL tokens and the CSRF secret, so a restart shows the same
units in the same order under the same URLs. Because of the tokens, the secret and the labels the
file (and SQLite's ``-wal`` and ``-shm`` files, which take its mode) is readable by its owner only
(0600). Labels leave the store only as ordinary annotation rows (:mod:`toolkit.app.export`).

An adjudication records the coders' labels it decided between: when a coder changes a label
afterwards, the decision no longer holds (:meth:`Store.decisions` keeps both, the app shows the
unit as waiting again and the export writes no gold row for it until the lead decides again).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from toolkit.errors import InputError

__all__ = ["Answer", "Decision", "Store", "StoreInfo", "UnitState"]

UnitKey = tuple[str, str]
#: question -> coder -> label: the finished coders' labels of one unit
UnitLabels = Mapping[str, Mapping[str, str]]
#: owner read/write only: the store holds the URL tokens, the CSRF secret and every label
_PRIVATE = 0o600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coders (
    name TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, lead INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS assignment (
    coder TEXT NOT NULL, pos INTEGER NOT NULL, corpus TEXT NOT NULL, unit_id TEXT NOT NULL,
    PRIMARY KEY (coder, pos), UNIQUE (coder, corpus, unit_id));
CREATE TABLE IF NOT EXISTS unit_state (
    coder TEXT NOT NULL, corpus TEXT NOT NULL, unit_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'skipped', 'done')),
    flag INTEGER NOT NULL DEFAULT 0, notes TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL,
    PRIMARY KEY (coder, corpus, unit_id));
CREATE TABLE IF NOT EXISTS answers (
    coder TEXT NOT NULL, corpus TEXT NOT NULL, unit_id TEXT NOT NULL, question TEXT NOT NULL,
    label TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (coder, corpus, unit_id, question));
CREATE INDEX IF NOT EXISTS unit_state_status ON unit_state (coder, status);
CREATE TABLE IF NOT EXISTS adjudications (
    corpus TEXT NOT NULL, unit_id TEXT NOT NULL, question TEXT NOT NULL, label TEXT NOT NULL,
    adjudicator TEXT NOT NULL, updated TEXT NOT NULL, coders TEXT,
    PRIMARY KEY (corpus, unit_id, question));
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class StoreInfo:
    """The session frozen in the store when it is created."""

    corpus_path: str
    rubric_id: str
    rubric_version: str
    rubric_sha256: str
    round: str
    seed: int
    overlap: float
    sample_path: str | None = None
    adjudicator: str = "lead"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitState:
    """One coder's state of one unit."""

    status: str = "open"
    flag: bool = False
    notes: str = ""
    answers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The lead's final label of one question of a unit, and the coders' labels it decided
    between (``None`` in stores written before these were recorded)."""

    label: str
    adjudicator: str
    coders: Mapping[str, str] | None = None

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Whether the decision still decides between the coders' labels ``labels`` (no coder
        changed, added or withdrew a label since)."""
        return self.coders is None or dict(self.coders) == dict(labels)


@dataclass(frozen=True)
class Answer:
    """One stored answer of a finished unit (a future annotation row)."""

    coder: str
    corpus: str
    unit_id: str
    question: str
    label: str
    flag: bool
    notes: str
    updated: str


class Store:
    """The SQLite store of one coding session (thread-safe; one writer process).

    Parameters
    ----------
    path : str or Path
        The ``.sqlite`` file (created by :meth:`create`).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.sqlite")
    >>> info = StoreInfo("c.corpus", "r", "1", "abc", "round1", 7, 1.0)
    >>> st = Store.create(path, info, {"ana": [("c", "u1"), ("c", "u2")]})
    >>> st.answer("ana", ("c", "u1"), "", "x", questions=[""])
    True
    >>> st.progress("ana")
    (1, 2)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("coding store not found", path=self.path)
        self._lock = threading.RLock()
        _make_private(self.path)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._migrate()
        self._writer_fd: int | None = None
        self._totals: dict[str, int] = {}  # the assignment never changes: count it once
        #: bumped on every write; lets readers cache derived views (the live panel)
        self.version = 0

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        info: StoreInfo,
        assignments: Mapping[str, Sequence[UnitKey]],
    ) -> Store:
        """Create a new store with the session ``info`` and each coder's ordered units."""
        p = Path(path)
        if p.exists():
            raise InputError("a coding store already exists here", path=p)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.creating")
        tmp.unlink(missing_ok=True)
        # created private (an empty file is an empty database): the secrets are never readable
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE))
        db = sqlite3.connect(str(tmp))
        try:
            db.executescript(_SCHEMA)
            values = {**info.__dict__, "secret": secrets.token_hex(32)}
            db.executemany(
                "INSERT INTO info VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()]
            )
            names = [*assignments, info.adjudicator]
            db.executemany(
                "INSERT INTO coders VALUES (?, ?, ?)",
                [(n, secrets.token_urlsafe(18), int(n == info.adjudicator)) for n in names],
            )
            db.executemany(
                "INSERT INTO assignment VALUES (?, ?, ?, ?)",
                [
                    (coder, pos, c, u)
                    for coder, keys in assignments.items()
                    for pos, (c, u) in enumerate(keys)
                ],
            )
            db.commit()
        finally:
            db.close()
        os.replace(tmp, p)  # a half-created store never appears under the real name
        return cls(p)

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self.version += 1

    def _migrate(self) -> None:
        """Add what stores written by earlier versions lack (the decisions' coder labels)."""
        with self._lock:
            cols = {row[1] for row in self._db.execute("PRAGMA table_info(adjudications)")}
            if "coders" not in cols:
                self._db.execute("ALTER TABLE adjudications ADD COLUMN coders TEXT")

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def acquire_writer(self) -> None:
        """Take the store's writer lock (one server per store); refuse when another holds it."""
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, _PRIVATE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(
                "another edudial code serve is already using this store", path=self.path
            ) from None
        self._writer_fd = fd

    def close(self) -> None:
        """Close the database and release the writer lock."""
        with self._lock:
            self._db.close()
        if self._writer_fd is not None:
            os.close(self._writer_fd)
            self._writer_fd = None

    # ------------------------------------------------------------------ session
    def info(self) -> StoreInfo:
        """The session frozen at creation."""
        raw = {k: json.loads(v) for k, v in self._rows("SELECT key, value FROM info")}
        raw.pop("secret", None)
        known = set(StoreInfo.__dataclass_fields__)
        return StoreInfo(**{k: v for k, v in raw.items() if k in known})

    def secret(self) -> str:
        """The per-store secret the CSRF tokens are derived from."""
        (value,) = self._rows("SELECT value FROM info WHERE key = 'secret'")[0]
        return str(json.loads(value))

    def tokens(self) -> dict[str, str]:
        """Coder (and adjudicator) name -> URL token."""
        return {n: t for n, t in self._rows("SELECT name, token FROM coders ORDER BY rowid")}

    def coders(self) -> list[str]:
        """The coders (not the adjudicator), in the order given at creation."""
        return [n for (n,) in self._rows("SELECT name FROM coders WHERE lead = 0 ORDER BY rowid")]

    def assignment(self, coder: str) -> list[UnitKey]:
        """The coder's units in their coding order."""
        rows = self._rows(
            "SELECT corpus, unit_id FROM assignment WHERE coder = ? ORDER BY pos", (coder,)
        )
        return [(str(c), str(u)) for c, u in rows]

    # ------------------------------------------------------------------ reading
    def state(self, coder: str, key: UnitKey) -> UnitState:
        """The coder's answers, status, flag and notes of one unit."""
        head = self._rows(
            "SELECT status, flag, notes FROM unit_state WHERE coder=? AND corpus=? AND unit_id=?",
            (coder, *key),
        )
        answers = self._rows(
            "SELECT question, label FROM answers WHERE coder=? AND corpus=? AND unit_id=?",
            (coder, *key),
        )
        status, flag, notes = head[0] if head else ("open", 0, "")
        return UnitState(status, bool(flag), notes, dict(answers))

    def progress(self, coder: str) -> tuple[int, int]:
        """(units done, units assigned) of a coder."""
        (done,) = self._rows(
            "SELECT count(*) FROM unit_state WHERE coder = ? AND status = 'done'", (coder,)
        )[0]
        if coder not in self._totals:
            (total,) = self._rows("SELECT count(*) FROM assignment WHERE coder = ?", (coder,))[0]
            self._totals[coder] = int(total)
        return int(done), self._totals[coder]

    def next_open(self, coder: str, after: int = -1) -> int | None:
        """Position of the coder's next unit to code: not yet seen or started after ``after``,
        then from the start, then the skipped ones; ``None`` when every unit is done."""
        base = (
            "SELECT a.pos FROM assignment a LEFT JOIN unit_state s ON s.coder = a.coder "
            "AND s.corpus = a.corpus AND s.unit_id = a.unit_id WHERE a.coder = ? AND {cond} "
            "ORDER BY a.pos LIMIT 1"
        )
        fresh = "(s.status IS NULL OR s.status = 'open')"
        for cond, args in (
            (f"a.pos > ? AND {fresh}", (coder, after)),
            (fresh, (coder,)),
            ("a.pos > ? AND s.status = 'skipped'", (coder, after)),
            ("s.status = 'skipped'", (coder,)),
        ):
            rows = self._rows(base.format(cond=cond), args)
            if rows:
                return int(rows[0][0])
        return None

    def done_answers(self) -> list[Answer]:
        """Every answer of every finished unit, in a stable order."""
        rows = self._rows(
            "SELECT a.coder, a.corpus, a.unit_id, a.question, a.label, s.flag, s.notes, a.updated "
            "FROM answers a JOIN unit_state s ON s.coder = a.coder AND s.corpus = a.corpus "
            "AND s.unit_id = a.unit_id WHERE s.status = 'done' "
            "ORDER BY a.coder, a.corpus, a.unit_id, a.question"
        )
        return [Answer(c, k, u, q, lab, bool(f), n, t) for c, k, u, q, lab, f, n, t in rows]

    def flagged(self) -> list[tuple[str, UnitKey, str]]:
        """(coder, unit, notes) of every unit flagged for discussion, by coder."""
        rows = self._rows(
            "SELECT coder, corpus, unit_id, notes FROM unit_state WHERE flag = 1 "
            "ORDER BY coder, corpus, unit_id"
        )
        return [(c, (k, u), n) for c, k, u, n in rows]

    def adjudications(self) -> dict[tuple[UnitKey, str], tuple[str, str]]:
        """((corpus, unit_id), question) -> (label, adjudicator), whether or not the decision
        still holds (see :meth:`decisions`)."""
        return {k: (d.label, d.adjudicator) for k, d in self.decisions().items()}

    def decisions(self) -> dict[tuple[UnitKey, str], Decision]:
        """((corpus, unit_id), question) -> the decision with the coders' labels it decided."""
        rows = self._rows(
            "SELECT corpus, unit_id, question, label, adjudicator, coders FROM adjudications"
        )
        return {
            ((c, u), q): Decision(lab, who, None if seen is None else json.loads(seen))
            for c, u, q, lab, who, seen in rows
        }

    def unit_labels(self, key: UnitKey) -> dict[str, dict[str, str]]:
        """Question -> coder -> label of the coders who finished the unit."""
        with self._lock:
            return self._unit_labels(self._db, key)

    @staticmethod
    def _unit_labels(db: sqlite3.Connection, key: UnitKey) -> dict[str, dict[str, str]]:
        rows = db.execute(
            "SELECT a.question, a.coder, a.label FROM answers a JOIN unit_state s "
            "ON s.coder = a.coder AND s.corpus = a.corpus AND s.unit_id = a.unit_id "
            "WHERE s.status = 'done' AND a.corpus = ? AND a.unit_id = ? ORDER BY a.coder",
            key,
        ).fetchall()
        out: dict[str, dict[str, str]] = {}
        for question, coder, label in rows:
            out.setdefault(question, {})[coder] = label
        return out

    # ------------------------------------------------------------------ writing
    def _touch(self, db: sqlite3.Connection, coder: str, key: UnitKey, notes: str | None) -> None:
        db.execute(
            "INSERT INTO unit_state (coder, corpus, unit_id, status, updated) "
            "VALUES (?, ?, ?, 'open', ?) ON CONFLICT DO NOTHING",
            (coder, *key, _now()),
        )
        if notes is not None:
            db.execute(
                "UPDATE unit_state SET notes = ?, updated = ? "
                "WHERE coder = ? AND corpus = ? AND unit_id = ?",
                (notes, _now(), coder, *key),
            )

    def answer(
        self,
        coder: str,
        key: UnitKey,
        question: str,
        label: str,
        *,
        questions: Sequence[str],
        notes: str | None = None,
        finish: bool = True,
    ) -> bool:
        """Save one answer (replacing the coder's earlier answer to that question).

        The unit becomes done when every question in ``questions`` has an answer and ``finish``.
        Returns whether the unit is done.
        """
        with self._write() as db:
            self._touch(db, coder, key, notes)
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (coder, corpus, unit_id, question) "
                "DO UPDATE SET label = excluded.label, updated = excluded.updated",
                (coder, *key, question, label, _now()),
            )
            have = {
                q
                for (q,) in db.execute(
                    "SELECT question FROM answers WHERE coder=? AND corpus=? AND unit_id=?",
                    (coder, *key),
                )
            }
            done = finish and set(questions) <= have
            if done:
                self._set_status(db, coder, key, "done")
            return done or self._status(db, coder, key) == "done"

    def finish(
        self, coder: str, key: UnitKey, defaults: Mapping[str, str], *, notes: str | None = None
    ) -> None:
        """Mark a unit done, giving each unanswered question its default (multi mode: "no")."""
        with self._write() as db:
            self._touch(db, coder, key, notes)
            for question, label in defaults.items():
                db.execute(
                    "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (coder, *key, question, label, _now()),
                )
            self._set_status(db, coder, key, "done")

    def skip(self, coder: str, key: UnitKey, *, notes: str | None = None) -> None:
        """Mark an unfinished unit skipped (it comes back after the others)."""
        with self._write() as db:
            self._touch(db, coder, key, notes)
            if self._status(db, coder, key) != "done":
                self._set_status(db, coder, key, "skipped")

    def set_flag(self, coder: str, key: UnitKey, flag: bool, *, notes: str | None = None) -> None:
        """Flag (or unflag) a unit for discussion."""
        with self._write() as db:
            self._touch(db, coder, key, notes)
            db.execute(
                "UPDATE unit_state SET flag = ?, updated = ? "
                "WHERE coder = ? AND corpus = ? AND unit_id = ?",
                (int(flag), _now(), coder, *key),
            )

    def save_notes(self, coder: str, key: UnitKey, notes: str) -> None:
        """Save the coder's notes on a unit."""
        with self._write() as db:
            self._touch(db, coder, key, notes)

    def adjudicate(
        self,
        key: UnitKey,
        question: str,
        label: str,
        adjudicator: str,
        *,
        seen: UnitLabels | None = None,
    ) -> bool:
        """Record the final label of one question of a disputed unit, tied to the coders' labels.

        ``seen`` is what the adjudicator was shown (question -> coder -> label): when the coders'
        labels of the unit are no longer exactly these, nothing is written and ``False`` is
        returned, in the same transaction as the check, so a decision never covers a label its
        adjudicator did not see. Returns ``True`` when the decision was recorded.
        """
        with self._write() as db:
            now = self._unit_labels(db, key)
            if seen is not None and now != {q: dict(per) for q, per in seen.items()}:
                return False
            db.execute(
                "INSERT INTO adjudications VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (corpus, unit_id, question) DO UPDATE SET label = excluded.label, "
                "adjudicator = excluded.adjudicator, updated = excluded.updated, "
                "coders = excluded.coders",
                (*key, question, label, adjudicator, _now(), json.dumps(now.get(question, {}))),
            )
            return True

    @staticmethod
    def _status(db: sqlite3.Connection, coder: str, key: UnitKey) -> str:
        row = db.execute(
            "SELECT status FROM unit_state WHERE coder=? AND corpus=? AND unit_id=?",
            (coder, *key),
        ).fetchone()
        return str(row[0]) if row else "open"

    @staticmethod
    def _set_status(db: sqlite3.Connection, coder: str, key: UnitKey, status: str) -> None:
        db.execute(
            "UPDATE unit_state SET status = ?, updated = ? "
            "WHERE coder = ? AND corpus = ? AND unit_id = ?",
            (status, _now(), coder, *key),
        )


def _make_private(path: Path) -> None:
    """Owner-only permissions on a store and its ``-wal``/``-shm`` files (also for stores made
    before the store was created private); a file owned by someone else is left as it is."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, _PRIVATE)
        except OSError:
            pass
