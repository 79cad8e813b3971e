"""A run directory's bookkeeping (annotation.store): done keys on disk, resume scan, compaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annotation.done import DoneKeys, chosen_blocks
from annotation.store import ANNOTATIONS, RunStore, finished_keys


def _row(key: str, status: str, label: str | None = "x", scheme: str = "s") -> dict[str, Any]:
    return {
        "corpus": "c",
        "unit_id": key,
        "scheme": scheme,
        "label": label,
        "rater": "m",
        "rater_kind": "model",
        "run_id": "r",
        "meta": {"item_key": key, "status": status},
    }


def _write(path: Path, rows: list[dict[str, Any]], tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text + tail, encoding="utf-8")


def _read(path: Path) -> list[tuple[str, str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        out.append((rec["meta"]["item_key"], rec["meta"]["status"], rec["scheme"]))
    return out


def test_done_keys_is_an_exact_set_with_a_count() -> None:
    done = DoneKeys(["a", "b", "a"])
    assert len(done) == 2
    assert "a" in done and "b" in done and "c" not in done and 3 not in done
    assert done.add("c") is True and done.add("c") is False
    assert len(done) == 3
    done.close()
    assert len(done) == 3  # the count outlives the database (the manifest reads it)


def test_done_keys_holds_many_keys_exactly() -> None:
    keys = [f"corpus|d{i // 50}:{i % 50}" for i in range(20_000)]
    done = DoneKeys(keys[::2])
    assert len(done) == 10_000
    assert sum(k in done for k in keys) == 10_000
    assert all((k in done) == (i % 2 == 0) for i, k in enumerate(keys[:500]))
    done.close()


def test_chosen_blocks_keeps_the_last_done_block_else_the_last_block() -> None:
    blocks = [
        ("a", False),  # 0 error, later done
        ("b", True),  # 1 done, later an error: the done one stays
        ("a", True),  # 2
        ("b", False),  # 3
        ("c", False),  # 4 errors only: the last one stays
        ("c", False),  # 5
        ("a", True),  # 6 done twice: the last one stays
    ]
    assert list(chosen_blocks(blocks)) == [1, 5, 6]
    assert list(chosen_blocks([])) == []


def test_scan_resumes_done_items_and_cuts_a_partial_line(tmp_path: Path) -> None:
    rows = [_row("a", "ok"), _row("b", "error"), _row("c", "invalid"), _row("a", "ok")]
    _write(tmp_path / ANNOTATIONS, rows, tail='{"corpus": "c", "unit_')
    store = RunStore(tmp_path, {"model": "m"})
    assert len(store.done) == 2 and "a" in store.done and "c" in store.done
    assert "b" not in store.done
    assert store.counts == {"ok": 1, "invalid": 1, "error": 0}
    assert store.stale_errors == 1
    store.close()
    assert (tmp_path / ANNOTATIONS).read_text(encoding="utf-8").endswith("}\n")
    assert len(_read(tmp_path / ANNOTATIONS)) == 4
    keys = finished_keys(tmp_path)
    assert len(keys) == 2 and "a" in keys and "b" not in keys
    keys.close()
    assert len(finished_keys(tmp_path / "nothing-here")) == 0


def test_compact_keeps_one_result_per_item_with_all_its_rows(tmp_path: Path) -> None:
    rows = [
        _row("a", "error", None),
        _row("b", "ok", scheme="s1"),  # b has two rows (a multi-label item)
        _row("b", "ok", scheme="s2"),
        _row("c", "error", None),
        _row("a", "ok"),
        _row("c", "error", None, scheme="again"),
        _row("b", "error", None),
    ]
    _write(tmp_path / ANNOTATIONS, rows)
    store = RunStore(tmp_path, {"model": "m"})
    store.compact()
    store.close()
    assert _read(tmp_path / ANNOTATIONS) == [
        ("b", "ok", "s1"),
        ("b", "ok", "s2"),
        ("a", "ok", "s"),
        ("c", "error", "again"),
    ]
    assert store.counts == {"ok": 2, "invalid": 0, "error": 1}
    assert store.stale_errors == 0
    assert not list(tmp_path.glob(".annotations.*"))  # no temporary file left behind
