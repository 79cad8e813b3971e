"""The run directory: ``annotations.jsonl`` (appended per item), ``manifest.json`` and the cache.

Layout of ``OUT/``::

    annotations.jsonl   one annotation row per line, schema columns (readable by
                        toolkit.io.read_annotations), appended and flushed as each item completes
    manifest.json       run id, rubric and prompt hashes, model, endpoint, parameters, versions,
                        timestamps, usage and cost (rewritten atomically)
    cache.sqlite        the response cache (see annotation.cache)

Rerunning the same command on ``OUT`` skips items already written with status ``ok`` or
``invalid``; items recorded as ``error`` are tried again and their old rows are dropped when the
run ends.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from annotation.done import DoneKeys, chosen_blocks
from toolkit.errors import InputError
from toolkit.files import open_temp

__all__ = ["RunStore", "finished_keys"]

ANNOTATIONS = "annotations.jsonl"
MANIFEST = "manifest.json"
CACHE = "cache.sqlite"
DONE_STATUSES = frozenset({"ok", "invalid"})


def _new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


class RunStore:
    """Open (create or resume) a run directory.

    Parameters
    ----------
    directory : path
    identity : dict
        What must match to resume (rubric hash, prompt template hash, model, endpoint, sampling
        parameters...). A mismatch raises :class:`InputError` naming the field unless ``force``.
    force : bool
        Discard previous results in ``directory`` (the response cache is kept: its keys are
        content-addressed, so entries can never be confused).
    """

    def __init__(
        self, directory: str | os.PathLike[str], identity: dict[str, Any], *, force: bool = False
    ) -> None:
        self.dir = Path(directory)
        if self.dir.exists() and not self.dir.is_dir():
            raise InputError("output exists and is not a directory", path=self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.annotations_path = self.dir / ANNOTATIONS
        self.manifest_path = self.dir / MANIFEST
        self.cache_path = self.dir / CACHE
        old = self.read_manifest()
        if old is not None and force:
            self.annotations_path.unlink(missing_ok=True)
            old = None
        if old is not None:
            prev = old.get("identity", {})
            for key, value in identity.items():
                if key in prev and prev[key] != value:
                    raise InputError(
                        f"{self.dir} holds a run with a different {key} ({prev[key]!r}, now "
                        f"{value!r}); use another output directory or --force to discard it",
                        field=key,
                    )
        self.previous = old
        self.run_id: str = str(old["run_id"]) if old else _new_run_id()
        self.done = DoneKeys()
        self.stale_errors = 0
        self.counts = {"ok": 0, "invalid": 0, "error": 0}
        self._scan()
        self._fh = self.annotations_path.open("a", encoding="utf-8", newline="\n")

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest of a previous run in this directory, if any."""
        if not self.manifest_path.is_file():
            return None
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", path=self.manifest_path) from None
        return data if isinstance(data, dict) else None

    def _scan(self) -> None:
        """Collect done item keys; cut a partial last line left by a killed process."""
        p = self.annotations_path
        if not p.exists():
            return
        with p.open("rb+") as fh:
            data_end = 0
            for size, key, status in _results(fh):
                data_end += size
                if status in DONE_STATUSES and key is not None:
                    if self.done.add(key):
                        self.counts[status] += 1
                else:
                    self.stale_errors += 1
            fh.truncate(data_end)

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Append rows of one item and flush (the OS keeps them even if we are killed)."""
        if not rows:
            return
        text = "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in rows)
        self._fh.write(text)
        self._fh.flush()
        status = rows[0]["meta"]["status"]
        self.counts[status] = self.counts.get(status, 0) + 1
        if status in DONE_STATUSES:
            self.done.add(rows[0]["meta"]["item_key"])

    def compact(self) -> None:
        """Keep one result per item: its last ok/invalid rows, else its last error rows.

        Two passes over the file (which blocks to keep, then copy them), so a run of any size
        compacts in bounded memory.
        """
        self._fh.close()
        p = self.annotations_path
        keep = chosen_blocks((key, status in DONE_STATUSES) for key, status, _ in _blocks(p))
        self.counts = {"ok": 0, "invalid": 0, "error": 0}
        fd, tmp = open_temp(self.dir, ".annotations.")  # shareable: the umask's mode
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            wanted = next(keep, None)
            for pos, (_, status, lines) in enumerate(_blocks(p)):
                if pos != wanted:
                    continue
                self.counts[status] = self.counts.get(status, 0) + 1
                out.writelines(lines)
                wanted = next(keep, None)
        os.replace(tmp, p)
        self.stale_errors = 0
        self._fh = p.open("a", encoding="utf-8", newline="\n")

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json`` atomically."""
        fd, tmp = open_temp(self.dir, ".manifest.")  # shareable: the umask's mode
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(manifest, out, indent=2, ensure_ascii=False, sort_keys=False)
            out.write("\n")
        os.replace(tmp, self.manifest_path)

    def close(self) -> None:
        """Close the annotations file and drop the done keys (their count stays)."""
        if not self._fh.closed:
            self._fh.close()
        self.done.close()


def finished_keys(directory: str | os.PathLike[str]) -> DoneKeys:
    """The keys of the items finished (``ok``/``invalid``) in a run directory, read only."""
    done = DoneKeys()
    path = Path(directory) / ANNOTATIONS
    if path.is_file():
        with path.open("rb") as fh:
            for _, key, status in _results(fh):
                if status in DONE_STATUSES and key is not None:
                    done.add(key)
    return done


def _results(fh: BinaryIO) -> Iterator[tuple[int, str | None, Any]]:
    """``(bytes, item_key, status)`` of each complete line, up to a partial or broken one."""
    for line in fh:
        if not line.endswith(b"\n"):
            return
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            return
        meta = rec.get("meta") or {}
        key = meta.get("item_key")
        yield len(line), None if key is None else str(key), meta.get("status")


def _blocks(path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """``(item_key, status, lines)`` of each run of consecutive rows of one item and status."""
    block: tuple[str, str, list[str]] | None = None
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            meta = json.loads(line).get("meta") or {}
            key, status = str(meta.get("item_key")), str(meta.get("status"))
            if block is not None and block[:2] == (key, status):
                block[2].append(line)
                continue
            if block is not None:
                yield block
            block = (key, status, [line])
    if block is not None:
        yield block
