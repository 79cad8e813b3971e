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
import tempfile
import time
from pathlib import Path
from typing import Any

from toolkit.errors import InputError

__all__ = ["RunStore"]

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
        self.done: set[str] = set()
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
            for line in fh:
                if not line.endswith(b"\n"):
                    break
                data_end += len(line)
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    break
                meta = rec.get("meta") or {}
                status = meta.get("status")
                key = meta.get("item_key")
                if status in DONE_STATUSES and key is not None:
                    if key not in self.done:
                        self.done.add(key)
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
        """Keep one result per item: its last ok/invalid rows, else its last error rows."""
        self._fh.close()
        p = self.annotations_path
        blocks: list[tuple[str, str, list[str]]] = []  # (item_key, status, lines)
        with p.open("r", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                meta = json.loads(line).get("meta") or {}
                key, status = str(meta.get("item_key")), str(meta.get("status"))
                if blocks and blocks[-1][0] == key and blocks[-1][1] == status:
                    blocks[-1][2].append(line)
                else:
                    blocks.append((key, status, [line]))
        chosen: dict[str, int] = {}
        for i, (key, status, _) in enumerate(blocks):
            prev = chosen.get(key)
            if prev is None or status in DONE_STATUSES or blocks[prev][1] not in DONE_STATUSES:
                chosen[key] = i
        keep = sorted(chosen.values())
        self.counts = {"ok": 0, "invalid": 0, "error": 0}
        fd, tmp = tempfile.mkstemp(prefix=".annotations.", dir=self.dir)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for i in keep:
                _, status, lines = blocks[i]
                self.counts[status] = self.counts.get(status, 0) + 1
                out.writelines(lines)
        os.replace(tmp, p)
        self.stale_errors = 0
        self._fh = p.open("a", encoding="utf-8", newline="\n")

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json`` atomically."""
        fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=self.dir)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(manifest, out, indent=2, ensure_ascii=False, sort_keys=False)
            out.write("\n")
        os.replace(tmp, self.manifest_path)

    def close(self) -> None:
        """Close the annotations file."""
        if not self._fh.closed:
            self._fh.close()
