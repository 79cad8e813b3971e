"""Your own transcripts: tables (CSV, TSV, XLSX, JSONL, Parquet), captions (VTT, SRT), text.

Input: one file or a folder of such files (the format comes from each extension, or ``format``).
Without a dialogue column each file is one dialogue, its id the file's path relative to the folder
without the extension (a single file: its stem).

Options (the same keys in a ``map`` YAML file; flags override it):

* ``text``, ``speaker``, ``dialogue``, ``order``, ``role``, ``start``: column names. When one is
  not given, common names are recognised (text/utterance/sentence/transcript, speaker/
  speaker_name, session/lesson/conversation_id/transcript_id, start/timestamp, else time/begin,
  role); two plausible columns for one field is an error naming both. Without ``order`` turns
  keep the file order.
* ``header_row``: the line / sheet row of the header (else the first row mostly filled with short
  names; a merged title row above it is skipped); a two-level header ("Codes" over "Coder A") is
  joined as ``Codes / Coder A``. ``sep``: the CSV field separator (else sniffed among , ; tab |).
* ``roster``: a CSV with ``name`` and ``role`` columns (as for ``edudial deid``): speakers named
  in it (whole name, or an unambiguous first name) get its role.
* ``teacher``, ``student``: speakers (or role-column values) with that role; ``role_values``:
  role-column value -> role. Else the default patterns (T, Teacher, Tutor, Instructor, Ms./Mr./
  Mrs. X -> teacher; S, S1, SS, Student(s), Class -> student), else ``other``.
* ``code``: ``"COLUMN=SCHEME[@RATER]"`` (a list): a column of human codes -> annotations of the
  turn (rater default: the column name, rater_kind human). A cell with the ``code_sep`` (``;``;
  ``delimiter`` is its deprecated name) makes the column multi-label: one yes/no scheme
  ``SCHEME/<code>`` per code, labels ``1``/``0``.
  ``labels``: ``{SCHEME: [labels]}`` declares the allowed codes. Blank cells are not coded.
* ``sheet`` (XLSX), ``encoding`` (text files; else UTF-8 then cp1252 are tried), ``corpus`` (the
  corpus name, default ``transcripts``), ``kind`` (the dialogues' kind).

Every other column is kept in turn meta, with ``line`` (the source line or sheet row) and
``start``/``end`` in seconds when they parse as times. Rows with empty text are dropped and counted
in dialogue meta ``empty_rows``. Imported transcripts are **not** marked de-identified: run
``edudial deid`` before sending them to a remote model.

>>> import corpora
>>> "transcripts" in corpora.available()
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from corpora.transcripts.build import FilePart, build_file
from corpora.transcripts.codes import multi_label_codes
from corpora.transcripts.formats import (
    EXTENSIONS,
    TABLE_FORMATS,
    RawTable,
    detect_format,
    read_file,
)
from corpora.transcripts.mapping import OPTION_NAMES, Mapping, Options, parse_options, resolve
from corpora.transcripts.roles import RoleSummary, roster_roles, summarise
from toolkit.errors import InputError
from toolkit.schema import ANNOTATION_COLUMNS, DIALOGUE_COLUMNS, TURN_COLUMNS, Corpus

__all__ = ["OPTIONS", "ImportResult", "import_transcripts", "load"]

#: The options :func:`load` takes (checked by :func:`corpora.registry.check_options`).
OPTIONS: tuple[str, ...] = OPTION_NAMES


@dataclass(frozen=True)
class FileReport:
    """How one file was read."""

    path: Path
    format: str
    encoding: str | None
    sheet: str | None
    mapping: Mapping
    head: pd.DataFrame
    warnings: tuple[str, ...] = ()
    header: str | None = None
    sep: str | None = None


@dataclass(frozen=True)
class ImportResult:
    """A validated corpus and how it was made (printed by ``edudial load transcripts``).

    Attributes
    ----------
    corpus : Corpus
        The imported corpus.
    files : list of FileReport
        Per file: format, encoding, the mapping used and its first rows.
    roles : RoleSummary
        Turns and speakers per role.
    empty_rows : int
        Rows dropped for empty text.
    empty_dialogues : list of str
        Dialogues left without any turn (not imported).
    skipped : list of str
        The same dialogues for people: the id (or "rows with no dialogue id") and the rows.
    notes : list of str
        What the user should know about the options (a deprecated option name, a roster that
        names none of the speakers).
    """

    corpus: Corpus
    files: list[FileReport]
    roles: RoleSummary
    empty_rows: int
    empty_dialogues: list[str]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """The mapping used (once per distinct mapping) and the roles, for people."""
        lines: list[str] = []
        groups: dict[tuple[str, ...], list[FileReport]] = {}
        for f in self.files:
            groups.setdefault(tuple(f.mapping.describe()), []).append(f)
        for mapping_lines, files in groups.items():
            first = files[0]
            more = f" and {len(files) - 1} more file(s)" if len(files) > 1 else ""
            sep = first.sep if first.sep not in (None, ",", "\t") else None
            how = ", ".join(
                x
                for x in (
                    first.format,
                    first.encoding,
                    first.sheet and f"sheet {first.sheet!r}",
                    sep and f"separator {sep!r}",
                    first.header,
                )
                if x
            )
            lines.append(f"mapping for {first.path}{more} ({how}):")
            lines.extend(mapping_lines)
        lines.extend(f"warning: {w}" for f in self.files for w in f.warnings)
        lines.extend(f"note: {n}" for n in self.notes)
        lines.append("roles:")
        lines.extend(self.roles.describe())
        if self.empty_rows:
            lines.append(f"dropped {self.empty_rows:,} row(s) with empty text")
        if self.empty_dialogues:
            named = self.skipped or [repr(d) for d in self.empty_dialogues]
            shown = "; ".join(named[:5]) + ("; ..." if len(named) > 5 else "")
            lines.append(f"skipped {len(self.empty_dialogues)} dialogue(s) with no text: {shown}")
        return lines


def discover(path: Path, fmt: str | None) -> list[Path]:
    """The transcript files at ``path``: the file itself, or the folder's files (recursively)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError("no such file or directory", path=path)
    wanted = set(EXTENSIONS) if fmt is None else {e for e, f in EXTENSIONS.items() if f == fmt}
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in wanted
        and not p.name.startswith((".", "~$"))
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not files:
        raise InputError(
            f"no transcript files here (looked for {', '.join(sorted(wanted))})", path=path
        )
    return files


def _file_ids(root: Path, files: Sequence[Path]) -> list[tuple[str, str]]:
    if root.is_file():
        return [(root.stem, root.name)]
    out = []
    for f in files:
        rel = f.relative_to(root)
        out.append((rel.with_suffix("").as_posix(), rel.as_posix()))
    return out


def _read(path: Path, options: Options) -> RawTable:
    return read_file(
        path,
        detect_format(path, options.format),
        encoding=options.encoding,
        sheet=options.sheet,
        sep=options.sep,
        header_row=options.header_row,
    )


def _resolve(table: RawTable, options: Options) -> Mapping:
    fixed = table.format not in TABLE_FORMATS  # captions and text have fixed columns
    return resolve([str(c) for c in table.frame.columns], options, path=table.path, fixed=fixed)


def import_transcripts(path: str | Path, **options: Any) -> ImportResult:
    """Import transcripts at ``path`` (see the module docstring for the options).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "lesson1.txt").write_text("T: What is 3 x 4?\\nMaya: 12\\n")
    >>> result = import_transcripts(folder / "lesson1.txt", student=["Maya"])
    >>> result.corpus.turns[["speaker", "role", "text"]].values.tolist()
    [['T', 'teacher', 'What is 3 x 4?'], ['Maya', 'student', '12']]
    """
    root = Path(path)
    opts = parse_options(options)
    files = discover(root, opts.format)
    tables = [_read(file, opts) for file in files]
    mappings = [_resolve(table, opts) for table in tables]
    multi = multi_label_codes(
        [
            (s.scheme, t.frame[s.column])
            for t, m in zip(tables, mappings, strict=True)
            for s in m.codes
        ],
        delimiter=opts.code_sep,
        labels=opts.labels,
    )
    roster, notes = _roster(opts, options)
    parts = [
        build_file(table, mapping, opts, file_id, source, multi=multi, roster=roster)
        for table, mapping, (file_id, source) in zip(
            tables, mappings, _file_ids(root, files), strict=True
        )
    ]
    reports = [
        FileReport(
            t.path,
            t.format,
            t.encoding,
            t.sheet,
            m,
            t.frame.head(5),
            t.warnings,
            header=t.header_note(),
            sep=t.sep,
        )
        for t, m in zip(tables, mappings, strict=True)
    ]
    corpus = _assemble(parts, files)
    speakers = corpus.turns["speaker"].fillna("").tolist()
    if roster and not any(str(s).strip().lower() in roster for s in speakers):
        notes.append(
            f"no speaker is named in the roster {opts.roster} (its names are matched whole, or "
            "by first name), so it gave no roles"
        )
    return ImportResult(
        corpus=corpus,
        files=reports,
        roles=summarise(speakers, corpus.turns["role"].tolist()),
        empty_rows=sum(p.empty_rows for p in parts),
        empty_dialogues=[d for p in parts for d in p.empty_dialogues],
        skipped=[d for p in parts for d in p.empty_named],
        notes=notes,
    )


def _roster(opts: Options, given: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Speaker -> role from the ``roster`` file, and notes on the options."""
    notes = []
    if given.get("delimiter") is not None:
        notes.append(
            "the option 'delimiter' (--delimiter) is deprecated: it is now 'code_sep' "
            "(--code-sep), several codes in one cell; the field separator is 'sep' (--sep)"
        )
    if opts.roster is None:
        return {}, notes
    from toolkit.deid import read_roster

    pairs = read_roster(opts.roster)
    if not any(role for _, role in pairs):
        notes.append(f"the roster {opts.roster} has no role column, so it gave no roles")
    return roster_roles(pairs), notes


def _assemble(parts: list[FilePart], files: list[Path]) -> Corpus:
    seen: dict[str, Path] = {}
    for part, file in zip(parts, files, strict=True):
        for did in part.dialogues["dialogue_id"]:
            if did in seen:
                raise InputError(
                    f"dialogue {did!r} appears in {seen[did]} and in {file}; give each file its "
                    "own dialogue ids (or leave out the dialogue column)"
                )
            seen[did] = file
    if not seen:
        raise InputError("no turns with text found", path=files[0] if len(files) == 1 else None)

    def frame(blocks: list[dict[str, Any]], names: tuple[str, ...]) -> pd.DataFrame:
        if not blocks:
            return pd.DataFrame({c: [] for c in names})
        if len(blocks) == 1:  # one file: no copy
            return pd.DataFrame({c: blocks[0][c] for c in names})
        return pd.DataFrame(
            {c: pd.concat([pd.Series(b[c]) for b in blocks], ignore_index=True) for c in names}
        )

    corpus = Corpus(
        frame([p.dialogues for p in parts], DIALOGUE_COLUMNS),
        frame([p.turns for p in parts], TURN_COLUMNS),
        frame([a for p in parts for a in p.annotations], ANNOTATION_COLUMNS),
    )
    return corpus.validate()


def load(path: Path, **options: Any) -> Corpus:
    """Load transcripts into a validated :class:`~toolkit.Corpus` (see the module docstring).

    What :meth:`ImportResult.describe` would print as a warning (a file read as cp1252 because
    one byte was not UTF-8) is issued as a :class:`UserWarning`.
    """
    result = import_transcripts(path, **options)
    for report in result.files:
        for note in report.warnings:
            warnings.warn(note, UserWarning, stacklevel=2)
    return result.corpus
