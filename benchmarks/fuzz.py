"""Fuzzing the loaders: seeded mutations of small valid inputs; every failure must be clean.

Run from the repository root::

    python benchmarks/fuzz.py                      # 200 cases per target
    python benchmarks/fuzz.py --cases 1000         # the issue's run
    python benchmarks/fuzz.py --only sight --only mathdial_csv --seed 3

For every target (each loader, each transcripts format, ``edudial code import`` of an XLSX
and of a CSV workbook with its manifest) a small valid input is written, then mutated: cut at a
random offset, bytes flipped, a Latin-1 byte inserted, re-encoded as Latin-1 / UTF-16 / with a
BOM, emptied, an unbalanced quote, a CSV cell deleted or added, a record cut inside a quoted
field, a JSON value of the wrong type, a missing key, 100,000-deep JSON, a lone surrogate
escape, an empty JSON list, a damaged ``.xlsx`` zip (cut, a part dropped, a part's XML cut).

Each case runs in a worker process with a timeout (``--timeout``, default 60 s) and is counted
as: **clean** (an ``InputError`` on one line naming the file), **unexpected** (any other
exception, or an ``InputError`` that does not name the file), **hang** (over the timeout),
**accepted** (loaded), and **accepted although corrupt** (a deleted or added cell, a cut
record, an empty input or a lone surrogate that loaded anyway). The table is printed per
target; the examples of unexpected outcomes follow it.

``tests/test_fuzz_loaders.py`` runs the same cases in-process, a few dozen per target.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing as mp
import random
import shutil
import sys
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "fixtures"

#: Mutations whose result is malformed whatever the offsets: a loader must never accept them.
CORRUPT = frozenset(
    {"empty", "delete_cell", "extra_cell", "cut_record", "surrogate", "empty_json", "deep"}
)


# ------------------------------------------------------------------------------ seed inputs
@dataclass(frozen=True)
class Seed:
    """A valid input folder: ``load`` reads ``root``; ``mutate`` is the file the cases change."""

    root: Path
    mutate: Path
    kind: str  # csv, tsv, json, jsonl, xlsx, text


@dataclass(frozen=True)
class Target:
    name: str
    make: Callable[[Path], Seed]
    load: Callable[[Path], Any]
    delimiter: str = ","
    quoted: bool = True  # the format quotes fields ("cut_record" applies)
    #: mutations of :data:`CORRUPT` that may load for this target (an empty metadata object)
    lenient: frozenset[str] = frozenset()

    def corrupt(self, mutation: str) -> bool:
        return mutation in CORRUPT and mutation not in self.lenient


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _csv_text(rows: list[list[Any]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


_CONV = 'Teacher: (probing)Why 9, Zoë?|EOM|Mariana: Because "12 - 3"\nis 9.|EOM|Teacher: (focus)Ok'
_MATHDIAL_COLUMNS = [
    "qid",
    "scenario",
    "question",
    "ground_truth",
    "student_incorrect_solution",
    "student_profile",
    "teacher_described_confusion",
    "self-correctness",
    "self-typical-confusion",
    "self-typical-interactions",
    "conversation",
]


def _mathdial_rows() -> list[list[Any]]:
    return [
        [7 + i, 1 + i, "What is 3 x 4?", "12", "13", "Mariana is a 7th grade student.", "x, y",
         "Yes", 4, 2, _CONV.replace("Ok", f"Ok {i}")]
        for i in range(3)
    ]  # fmt: skip


def _mathdial_jsonl(tmp: Path) -> Seed:
    lines = [json.dumps(dict(zip(_MATHDIAL_COLUMNS, r, strict=True))) for r in _mathdial_rows()]
    f = _write(tmp / "test.jsonl", "\n".join(lines) + "\n")
    return Seed(f, f, "jsonl")


def _mathdial_csv(tmp: Path) -> Seed:
    f = _write(tmp / "test.csv", _csv_text([_MATHDIAL_COLUMNS, *_mathdial_rows()]))
    return Seed(f, f, "csv")


def _sight_rows() -> list[list[Any]]:
    header = ["datasplit", "comment", "video_id", "video_name", "playlist_name", "comment_id"]
    labels = ["annotator_H1_confusion", "annotator_H2_confusion", "annotator_H1_general"]
    rows: list[list[Any]] = [header + labels]
    for i in range(4):
        rows.append(
            ["train", f'Great "lecture" {i}, thanks\nZoë', f"vid{i % 2}", "Lecture 1",
             "MIT 18.06", f"{i}.0", "1.0", "0.0" if i % 2 else "", "1.0"]
        )  # fmt: skip
    return rows


def _sight_sample(tmp: Path) -> Seed:
    f = _write(tmp / "sample_dataset.csv", _csv_text(_sight_rows()))
    return Seed(f, f, "csv")


def _sight_space(tmp: Path) -> Seed:
    f = _write(tmp / "sight_dataset.csv", _csv_text(_sight_rows(), delimiter=" "))
    return Seed(f, f, "csv")


def _sight_meta(tmp: Path) -> Seed:
    _write(tmp / "data/annotations/sample_dataset.csv", _csv_text(_sight_rows()))
    meta = {
        "video_id": "vid0",
        "video_title": "Lecture 1: Zoë's matrices",
        "channel_name": "MIT OpenCourseWare",
        "teaching_environment": "university",
        "playlist_id": "PL1",
        "transcription_model": "whisper",
    }
    _write(tmp / "data/metadata/vid1.json", json.dumps({**meta, "video_id": "vid1"}))
    return Seed(tmp, _write(tmp / "data/metadata/vid0.json", json.dumps(meta, indent=1)), "json")


def _copy_fixture(name: str, tmp: Path) -> Path:
    dest = tmp / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def _ncte(tmp: Path) -> Seed:
    root = _copy_fixture("ncte_uptake", tmp)
    return Seed(root / "uptake_data.csv", root / "uptake_data.csv", "csv")


def _tscc(tmp: Path) -> Seed:
    root = _copy_fixture("tscc", tmp)
    return Seed(root / "lesson001.tsv", root / "lesson001.tsv", "tsv")


def _cima(tmp: Path) -> Seed:
    root = _copy_fixture("cima", tmp)
    return Seed(root, root / "dataset.json", "json")


def _bridge(tmp: Path) -> Seed:
    root = _copy_fixture("bridge", tmp)
    return Seed(root / "dataset" / "train.json", root / "dataset" / "train.json", "json")


def _mrbench(tmp: Path) -> Seed:
    root = _copy_fixture("mrbench", tmp)
    f = root / "MRBench" / "MRBench_V1.json"
    return Seed(f, f, "json")


def _talkmoves(tmp: Path) -> Seed:
    src = FIXTURES / "talkmoves" / "data" / "Subset 1" / "Lesson A_Grade 4.xlsx"
    dest = tmp / "Subset 1" / src.name
    dest.parent.mkdir(parents=True)
    shutil.copy(src, dest)
    return Seed(dest, dest, "xlsx")


_TURNS = [
    ["lesson", "speaker", "text", "start", "move"],
    ["L1", "T", "What is 3 x 4, Zoë?", "00:00:01", "probing"],
    ["L1", "Maya", 'It is "12",\nI think', "00:00:05", ""],
    ["L1", "T", "Yes. Why?", "00:00:09", "focus"],
    ["L2", "Teacher", "Next one.", "00:01:00", "generic"],
]


def _transcripts_table(kind: str) -> Callable[[Path], Seed]:
    def make(tmp: Path) -> Seed:
        if kind == "xlsx":
            import pandas as pd

            f = tmp / "lessons.xlsx"
            pd.DataFrame(_TURNS[1:], columns=_TURNS[0]).to_excel(f, index=False)
            return Seed(f, f, "xlsx")
        if kind == "jsonl":
            rows = [dict(zip(_TURNS[0], r, strict=True)) for r in _TURNS[1:]]
            f = _write(tmp / "lessons.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
            return Seed(f, f, "jsonl")
        sep = "\t" if kind == "tsv" else ","
        f = _write(tmp / f"lessons.{kind}", _csv_text(_TURNS, delimiter=sep))
        return Seed(f, f, kind)

    return make


def _transcripts_vtt(tmp: Path) -> Seed:
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v T>What is 3 x 4, Zoë?\n\n"
        "00:00:05.000 --> 00:00:08.000\nMaya: 12\n\n00:00:09.000 --> 00:00:10.000\nT: Why?\n"
    )
    f = _write(tmp / "lesson.vtt", text)
    return Seed(f, f, "text")


def _transcripts_srt(tmp: Path) -> Seed:
    text = (
        "1\n00:00:01,000 --> 00:00:04,000\nT: What is 3 x 4, Zoë?\n\n"
        "2\n00:00:05,000 --> 00:00:08,000\nMaya: 12\n\n3\n00:00:09,000 --> 00:00:10,000\nT: Why?\n"
    )
    f = _write(tmp / "lesson.srt", text)
    return Seed(f, f, "text")


def _transcripts_txt(tmp: Path) -> Seed:
    f = _write(
        tmp / "lesson.txt", "[00:01] T: What is 3 x 4, Zoë?\nMaya: 12\n  and more\nT: Why?\n"
    )
    return Seed(f, f, "text")


def _workbook(fmt: str) -> Callable[[Path], Seed]:
    def make(tmp: Path) -> Seed:
        from annotation.coding.workbook import export_workbooks
        from annotation.rubric import load_rubric
        from toolkit.demo import bundled_sample

        corpus = bundled_sample()
        corpus = corpus.filter(dialogue_id=corpus.dialogues["dialogue_id"].tolist()[:2])
        kind = "xlsx" if fmt == "xlsx" else "csv"
        (book,) = export_workbooks(
            corpus, load_rubric("mathdial-moves"), ["ana"], tmp / "books", fmt=kind, seed=1
        )
        corpus.save(tmp / "corpus")
        if kind == "csv":
            _fill_csv(book.path)
        if fmt == "manifest":
            return Seed(book.path, book.files[1], "json")
        return Seed(book.path, book.path, "xlsx" if fmt == "xlsx" else "csv")

    return make


def _fill_csv(path: Path) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    col = rows[0].index("label")
    for r in rows[1:3]:
        r[col] = "focus"
    path.write_text(_csv_text(rows), encoding="utf-8")


def _code_import(path: Path) -> Any:
    from annotation.coding import import_workbooks
    from toolkit.io import read_corpus

    corpus = read_corpus(path.parent.parent / "corpus")
    return import_workbooks(corpus, [path])


def _corpora(name: str, **options: Any) -> Callable[[Path], Any]:
    def load(path: Path) -> Any:
        import corpora

        return corpora.load(name, path, **options)

    return load


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("mathdial_jsonl", _mathdial_jsonl, _corpora("mathdial")),
        Target("mathdial_csv", _mathdial_csv, _corpora("mathdial")),
        Target("sight_sample", _sight_sample, _corpora("sight")),
        Target("sight_space", _sight_space, _corpora("sight"), delimiter=" "),
        Target(
            "sight_meta",
            _sight_meta,
            _corpora("sight", transcripts=False),
            lenient=frozenset({"empty_json"}),  # a video's metadata may be {}
        ),
        Target("ncte_uptake", _ncte, _corpora("ncte_uptake")),
        Target("tscc", _tscc, _corpora("tscc"), delimiter="\t", quoted=False),
        Target("cima", _cima, _corpora("cima")),
        Target("bridge", _bridge, _corpora("bridge")),
        Target("mrbench", _mrbench, _corpora("mrbench")),
        Target("talkmoves", _talkmoves, _corpora("talkmoves")),
        Target("transcripts_csv", _transcripts_table("csv"), _corpora("transcripts")),
        Target(
            "transcripts_tsv", _transcripts_table("tsv"), _corpora("transcripts"), delimiter="\t"
        ),
        Target("transcripts_xlsx", _transcripts_table("xlsx"), _corpora("transcripts")),
        Target("transcripts_jsonl", _transcripts_table("jsonl"), _corpora("transcripts")),
        Target("transcripts_vtt", _transcripts_vtt, _corpora("transcripts")),
        Target("transcripts_srt", _transcripts_srt, _corpora("transcripts")),
        Target("transcripts_txt", _transcripts_txt, _corpora("transcripts")),
        Target("code_import_xlsx", _workbook("xlsx"), _code_import),
        Target("code_import_csv", _workbook("csv"), _code_import),
        Target("code_import_manifest", _workbook("manifest"), _code_import),
    ]
}


# ------------------------------------------------------------------------------- mutations
def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, max(len(data), 2))]


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _latin1_byte(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    while at < len(data) and 0x80 <= data[at] < 0xC0:  # not inside a UTF-8 sequence
        at += 1
    return data[:at] + b"\xe9" + data[at:]


def _reencode(encoding: str) -> Callable[[bytes, random.Random], bytes]:
    def mutate(data: bytes, rng: random.Random) -> bytes:
        return data.decode("utf-8").encode(encoding, errors="replace")

    return mutate


def _bom(data: bytes, rng: random.Random) -> bytes:
    return b"\xef\xbb\xbf" + data


def _empty(data: bytes, rng: random.Random) -> bytes:
    return b""


def _quote(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + b'"' + data[at:]


def _records(data: bytes, delimiter: str, quoted: bool) -> list[list[str]]:
    quoting = csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting))


def _rewrite(rows: list[list[str]], delimiter: str, quoted: bool) -> bytes:
    if not quoted:  # (TSCC: no quoting at all, a cell is what lies between two tabs)
        return "".join(delimiter.join(r) + "\n" for r in rows).encode("utf-8")
    return _csv_text(rows, delimiter).encode("utf-8")


def _cells(delete: bool) -> Callable[[bytes, random.Random, Target], bytes]:
    def mutate(data: bytes, rng: random.Random, target: Target) -> bytes:
        rows = _records(data, target.delimiter, target.quoted)
        r = rng.randrange(1, len(rows))
        j = rng.randrange(len(rows[r]))
        if delete:
            del rows[r][j]
        else:
            rows[r].insert(j, "extra")
        return _rewrite(rows, target.delimiter, target.quoted)

    return mutate


def _cut_record(data: bytes, rng: random.Random, target: Target) -> bytes:
    """Cut the file inside a quoted field (after its opening quote, before its closing one)."""
    text = data.decode("utf-8")
    spans, i, start = [], 0, True
    while i < len(text):
        ch = text[i]
        if ch == '"' and start:
            j = i + 1
            while j < len(text):
                if text[j] == '"':
                    if text[j + 1 : j + 2] == '"':
                        j += 2
                        continue
                    break
                j += 1
            spans.append((i, j))
            i, start = j + 1, False
            continue
        start = ch in (target.delimiter, "\n", "\r")
        i += 1
    a, b = rng.choice(spans)
    cuts = [k for k in range(a + 1, b + 1) if text[k - 1] != '"']
    return text[: rng.choice(cuts)].encode("utf-8")


def _json_nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _json_nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _json_nodes(v, (*path, i))
    return out


def _json_edit(edit: str) -> Callable[[bytes, random.Random, Target], bytes]:
    """A change to the parsed JSON (of one line of a JSON Lines file), written back."""

    def mutate(data: bytes, rng: random.Random, target: Target) -> bytes:
        text = data.decode("utf-8")
        lines = text.split("\n")
        if text.lstrip().startswith(("{", "[")) and "\n{" not in text:
            lines = [text]
        k = rng.choice([i for i, line in enumerate(lines) if line.strip()])
        value = json.loads(lines[k])
        lines[k] = _apply(edit, value, rng)
        return "\n".join(lines).encode("utf-8")

    return mutate


def _apply(edit: str, value: Any, rng: random.Random) -> str:
    if edit == "empty_json":
        return "[]" if isinstance(value, list) else "{}"
    nodes = _json_nodes(value)
    if edit == "surrogate":
        strings = [p for p in nodes if p and isinstance(_get(value, p), str)]
        if not strings:
            return json.dumps(value)[:-1] + ', "x": "\\ud800"}'
        p = rng.choice(strings)
        _set(value, p, _get(value, p) + "\ud800")
        return json.dumps(value)
    if edit == "missing_key":
        keyed = [p for p in nodes if p and isinstance(p[-1], str)]
        if keyed:
            p = rng.choice(keyed)
            del _get(value, p[:-1])[p[-1]]
        return json.dumps(value)
    p = rng.choice([n for n in nodes if n] or [()])
    marker = "__DEEP__"
    replacement: Any = (
        marker if edit == "deep" else rng.choice([{"a": 1}, [1, 2], "text", 7, 2.5, None, True])
    )
    value = replacement if not p else _set(value, p, replacement) or value
    out = json.dumps(value)
    if edit == "deep":
        depth = 100_000
        out = out.replace(json.dumps(marker), "[" * depth + "]" * depth, 1)
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        value = value[k]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    _get(value, path[:-1])[path[-1]] = new


def _zip_edit(edit: str) -> Callable[[bytes, random.Random, Target], bytes]:
    def mutate(data: bytes, rng: random.Random, target: Target) -> bytes:
        src = zipfile.ZipFile(io.BytesIO(data))
        names = src.namelist()
        victim = rng.choice(names)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for name in names:
                content = src.read(name)
                if name == victim and edit == "zip_drop_part":
                    continue
                if name == victim and edit == "zip_cut_part":
                    content = content[: rng.randrange(max(len(content), 1))]
                if name == victim and edit == "zip_flip_part":
                    content = _flip(content, rng) if content else content
                dst.writestr(name, content)
        return out.getvalue()

    return mutate


Plain = Callable[[bytes, random.Random], bytes]
Structural = Callable[[bytes, random.Random, Target], bytes]

#: kind -> mutations (name, function); the structural ones also take the target.
_GENERIC: list[tuple[str, Plain]] = [
    ("truncate", _truncate),
    ("flip", _flip),
    ("latin1_byte", _latin1_byte),
    ("latin1", _reencode("latin-1")),
    ("utf16", _reencode("utf-16")),
    ("bom", _bom),
    ("empty", _empty),
    ("quote", _quote),
]
_STRUCTURAL: dict[str, list[tuple[str, Structural]]] = {
    "csv": [
        ("delete_cell", _cells(delete=True)),
        ("extra_cell", _cells(delete=False)),
        ("cut_record", _cut_record),
    ],
    "json": [
        (e, _json_edit(e)) for e in ("wrong_type", "missing_key", "deep", "surrogate", "empty_json")
    ],
    "xlsx": [(e, _zip_edit(e)) for e in ("zip_drop_part", "zip_cut_part", "zip_flip_part")],
}
_STRUCTURAL["tsv"] = _STRUCTURAL["csv"]
_STRUCTURAL["jsonl"] = [m for m in _STRUCTURAL["json"] if m[0] != "empty_json"]


def mutations(target: Target, kind: str) -> list[str]:
    """The names of the mutations that apply to ``target``'s seed of ``kind``."""
    names = [n for n, _ in _GENERIC if kind != "xlsx" or n in ("truncate", "flip", "empty")]
    names += [n for n, _ in _STRUCTURAL.get(kind, [])]
    if not target.quoted:
        names = [n for n in names if n != "cut_record"]
    return names


def mutate(name: str, data: bytes, rng: random.Random, target: Target) -> bytes:
    generic = dict(_GENERIC)
    if name in generic:
        return generic[name](data, rng)
    return dict(_STRUCTURAL["csv"] + _STRUCTURAL["json"] + _STRUCTURAL["xlsx"])[name](
        data, rng, target
    )


# ---------------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Outcome:
    target: str
    case: int
    mutation: str
    status: str  # clean, unexpected, accepted, accepted_corrupt, hang
    detail: str = ""


def case_plan(target: Target, kind: str, n: int, seed: int) -> list[tuple[int, str]]:
    """``(case number, mutation)`` for ``n`` cases: the mutations in turn, offsets from the rng."""
    names = mutations(target, kind)
    return [(i, names[i % len(names)]) for i in range(n)]


def run_case(name: str, case: int, mutation: str, seed: int, workdir: Path) -> Outcome:
    """Write case ``case`` of target ``name`` under ``workdir`` and load it."""
    from toolkit.errors import InputError

    target = TARGETS[name]
    folder = workdir / f"{name}-{case}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    s = target.make(folder)
    rng = random.Random(f"{seed}/{name}/{case}")
    s.mutate.write_bytes(mutate(mutation, s.mutate.read_bytes(), rng, target))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            target.load(s.root)
    except InputError as exc:
        text = str(exc)
        # (the file changed, or the one passed: code import names the workbook for its manifest)
        named = any(str(f) in text or f.name in text for f in (s.mutate, s.root))
        if "\n" in text or not named:
            return Outcome(name, case, mutation, "unexpected", f"InputError: {text[:300]}")
        return Outcome(name, case, mutation, "clean", text[:300])
    except RecursionError as exc:  # (a subclass of RuntimeError: shown as what it is)
        return Outcome(name, case, mutation, "unexpected", f"RecursionError: {exc}"[:300])
    except Exception as exc:  # the point of the harness: anything but InputError is a finding
        return Outcome(name, case, mutation, "unexpected", f"{type(exc).__name__}: {exc}"[:300])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    status = "accepted_corrupt" if target.corrupt(mutation) else "accepted"
    return Outcome(name, case, mutation, status)


def seed_kind(name: str, workdir: Path) -> str:
    folder = workdir / f"{name}-seed"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return TARGETS[name].make(folder).kind
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------- the runner
def _worker(conn: Any, workdir: str) -> None:
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(run_case(*job, Path(workdir)))


class _Worker:
    """A child process that runs cases; killed and replaced when a case hangs."""

    def __init__(self, workdir: Path) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, str(workdir)), daemon=True)
        self.proc.start()

    def run(self, job: tuple[Any, ...], timeout: float) -> Outcome | None:
        self.conn.send(job)
        if self.conn.poll(timeout):
            result: Outcome = self.conn.recv()
            return result
        self.proc.kill()
        self.proc.join()
        return None

    def close(self) -> None:
        if self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(5)


def fuzz(names: list[str], cases: int, seed: int, timeout: float, workdir: Path) -> list[Outcome]:
    outcomes: list[Outcome] = []
    worker = _Worker(workdir)
    try:
        for name in names:
            kind = seed_kind(name, workdir)
            for case, mutation in case_plan(TARGETS[name], kind, cases, seed):
                got = worker.run((name, case, mutation, seed), timeout)
                if got is None:  # a hang: the worker is gone
                    got = Outcome(name, case, mutation, "hang", f"over {timeout:g} s")
                    worker = _Worker(workdir)
                outcomes.append(got)
    finally:
        worker.close()
    return outcomes


STATUSES = ("clean", "unexpected", "hang", "accepted", "accepted_corrupt")


def table(outcomes: list[Outcome], names: list[str]) -> str:
    head = f"{'target':<22}" + "".join(f"{s:>18}" for s in STATUSES)
    lines = [head, "-" * len(head)]
    for name in names:
        counts = Counter(o.status for o in outcomes if o.target == name)
        lines.append(f"{name:<22}" + "".join(f"{counts[s]:>18,}" for s in STATUSES))
    total = Counter(o.status for o in outcomes)
    lines.append(f"{'all':<22}" + "".join(f"{total[s]:>18,}" for s in STATUSES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=200, help="cases per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--only", action="append", choices=sorted(TARGETS), help="target(s)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder")
    args = parser.parse_args(argv)
    names = args.only or list(TARGETS)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="edudial-fuzz-") as tmp:
        workdir = args.workdir or Path(tmp)
        started = time.perf_counter()
        outcomes = fuzz(names, args.cases, args.seed, args.timeout, workdir)
        elapsed = time.perf_counter() - started
    print(f"{args.cases:,} cases per target, seed {args.seed}, {elapsed:,.0f} s")
    print(table(outcomes, names))
    bad = [o for o in outcomes if o.status in ("unexpected", "hang", "accepted_corrupt")]
    shown: Counter[tuple[str, str]] = Counter()
    for o in bad:
        key = (o.target, o.detail.split(":", 1)[0])
        shown[key] += 1
        if shown[key] <= 2:
            print(f"{o.target} #{o.case} {o.mutation}: {o.status}: {o.detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
