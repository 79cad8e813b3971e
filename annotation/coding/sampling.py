"""Reproducible samples of the units a rubric applies to, with inclusion probabilities.

A sample file (JSON, written by :func:`write_sample`, read by :func:`read_sample`) records what
was drawn and how, so that later estimates can weight each unit by ``1 / inclusion_probability``
(the Horvitz-Thompson weight):

.. code-block:: text

    {"format": "edudial-sample", "version": 1,
     "seed": 7,
     "rubric": {"id": "mathdial-moves", "version": "1.0", "sha256": "..."},
     "corpus": {"names": ["mathdial"], "dialogues": 418, "turns": 4883, "sha256": "..."},
     "design": {"method": "stratified",            # or "simple"
                "n": 200, "population": 2570,       # units drawn / units eligible
                "stratify_by": "teacher",           # rater whose labels define the strata
                "stratify_scheme": "mathdial/move",
                "min_per_label": 20,
                "exclude_coded": null,          # scheme whose human-coded units were left out
                "strata": [{"stratum": "focus", "population": 700, "drawn": 55,
                            "inclusion_probability": 0.0786}, ...]},
     "units": [{"corpus": "mathdial", "unit_id": "...", "dialogue_id": "...",
                "stratum": "focus", "inclusion_probability": 0.0786}, ...]}

Field names other tools read: ``units[].corpus``, ``units[].unit_id``, ``units[].stratum``,
``units[].inclusion_probability`` (the probability that this unit was drawn, ``n_h / N_h`` of
its stratum: stratified simple random sampling without replacement; ``n / N`` without strata),
and ``design.strata[]`` with ``population`` (``N_h``) and ``drawn`` (``n_h``). Units of the
stratum ``"(none)"`` had no label by the stratifying rater.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from annotation.coding.units import UnitRef, applicable_units
from annotation.rubric import Rubric
from toolkit.errors import InputError
from toolkit.jsonvalue import plain
from toolkit.schema import Corpus

__all__ = [
    "NO_LABEL",
    "SAMPLE_FORMAT",
    "CorpusIdentity",
    "RubricRef",
    "Sample",
    "SampleDesign",
    "SampleUnit",
    "Stratum",
    "draw_sample",
    "read_sample",
    "write_sample",
]

SAMPLE_FORMAT = "edudial-sample"
_VERSION = 1
#: Stratum of units the stratifying rater did not label.
NO_LABEL = "(none)"


@dataclass(frozen=True)
class RubricRef:
    """Identity of a rubric: id, version and content hash."""

    id: str
    version: str
    sha256: str

    @classmethod
    def of(cls, rubric: Rubric) -> RubricRef:
        """The reference of ``rubric``."""
        return cls(rubric.id, rubric.version, rubric.sha256)

    def matches(self, rubric: Rubric) -> bool:
        """Whether ``rubric`` is this rubric (same id, version and content)."""
        return self == RubricRef.of(rubric)

    def __str__(self) -> str:
        return f"{self.id} {self.version} (sha256 {self.sha256[:12]})"


@dataclass(frozen=True)
class CorpusIdentity:
    """Identity of a corpus: names, sizes and a hash of every turn (ids, roles, texts).

    Annotations are not part of it, so adding labels keeps the identity.
    """

    names: tuple[str, ...]
    dialogues: int
    turns: int
    sha256: str

    @classmethod
    def of(cls, corpus: Corpus) -> CorpusIdentity:
        """The identity of ``corpus``.

        Examples
        --------
        >>> from toolkit.demo import bundled_sample
        >>> ident = CorpusIdentity.of(bundled_sample())
        >>> ident.names, ident.turns
        (('demo',), 60)
        """
        t = corpus.turns
        h = hashlib.sha256()
        for c, tid, role, text in zip(
            t["corpus"].tolist(),
            t["turn_id"].tolist(),
            t["role"].tolist(),
            t["text"].tolist(),
            strict=True,
        ):
            h.update(f"{c}\x1f{tid}\x1f{role}\x1f{text}\x1e".encode())
        return cls(tuple(corpus.names), len(corpus.dialogues), len(t), h.hexdigest())

    def __str__(self) -> str:
        return (
            f"{'+'.join(self.names) or 'empty'} ({self.dialogues} dialogues, {self.turns} turns, "
            f"sha256 {self.sha256[:12]})"
        )


@dataclass(frozen=True)
class SampleUnit:
    """One drawn unit and the probability that it was drawn."""

    corpus: str
    unit_id: str
    dialogue_id: str
    inclusion_probability: float
    stratum: str | None = None

    @property
    def ref(self) -> UnitRef:
        """The unit's :class:`~annotation.coding.units.UnitRef`."""
        return UnitRef(self.corpus, self.unit_id, self.dialogue_id)

    @property
    def weight(self) -> float:
        """The design weight ``1 / inclusion_probability``."""
        return 1.0 / self.inclusion_probability


@dataclass(frozen=True)
class Stratum:
    """One stratum: units eligible (``population``), drawn, and their inclusion probability."""

    stratum: str
    population: int
    drawn: int
    inclusion_probability: float


@dataclass(frozen=True)
class SampleDesign:
    """How a sample was drawn (see the module docstring for the file layout)."""

    method: str
    n: int
    population: int
    stratify_by: str | None = None
    stratify_scheme: str | None = None
    min_per_label: int = 0
    exclude_coded: str | None = None
    strata: tuple[Stratum, ...] = ()


@dataclass(frozen=True)
class Sample:
    """A drawn sample: the units in draw order, the seed, the rubric and the corpus identity."""

    units: tuple[SampleUnit, ...]
    seed: int
    rubric: RubricRef
    corpus: CorpusIdentity
    design: SampleDesign
    notes: tuple[str, ...] = field(default=())

    @property
    def refs(self) -> list[UnitRef]:
        """The units as :class:`~annotation.coding.units.UnitRef`, in sample order."""
        return [u.ref for u in self.units]

    def check(self, corpus: Corpus, rubric: Rubric, *, path: str | None = None) -> None:
        """Raise :class:`InputError` unless the sample was drawn for ``rubric`` from ``corpus``."""
        if not self.rubric.matches(rubric):
            raise InputError(
                f"sample drawn for rubric {self.rubric}, not {RubricRef.of(rubric)}", path=path
            )
        ident = CorpusIdentity.of(corpus)
        if ident.sha256 != self.corpus.sha256:
            raise InputError(f"sample drawn from corpus {self.corpus}, not {ident}", path=path)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of the sample file."""
        d = self.design
        return plain(
            {
                "format": SAMPLE_FORMAT,
                "version": _VERSION,
                "seed": self.seed,
                "rubric": vars(self.rubric),
                "corpus": {**vars(self.corpus), "names": list(self.corpus.names)},
                "design": {**vars(d), "strata": [vars(s) for s in d.strata]},
                "notes": list(self.notes),
                "units": [vars(u) for u in self.units],
            }
        )


def write_sample(sample: Sample, path: str | os.PathLike[str]) -> Path:
    """Write ``sample`` as JSON to ``path`` (atomically: a temporary file, then a rename).

    Examples
    --------
    >>> import tempfile
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> s = draw_sample(bundled_sample(), load_rubric("mathdial-moves"), n=5, seed=7)
    >>> p = write_sample(s, tempfile.mkdtemp() + "/sample.json")
    >>> read_sample(p) == s
    True
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(sample.to_dict(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, p)
    return p


def _need(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d or not isinstance(d[key], kind):
        raise InputError("missing or of the wrong type", field=f"{where}{key}")
    return d[key]


def _unit(u: Any, i: int) -> SampleUnit:
    where = f"units.{i}."
    if not isinstance(u, dict):
        raise InputError("expected an object", field=f"units.{i}")
    p = _need(u, "inclusion_probability", (int, float), where)
    if not 0 < p <= 1:
        raise InputError(f"must lie in (0, 1], got {p}", field=f"{where}inclusion_probability")
    stratum = u.get("stratum")
    return SampleUnit(
        str(_need(u, "corpus", str, where)),
        str(_need(u, "unit_id", str, where)),
        str(_need(u, "dialogue_id", str, where)),
        float(p),
        None if stratum is None else str(stratum),
    )


def _design(d: dict[str, Any]) -> SampleDesign:
    strata = tuple(
        Stratum(
            str(s["stratum"]),
            int(s["population"]),
            int(s["drawn"]),
            float(s["inclusion_probability"]),
        )
        for s in d.get("strata", [])
    )
    return SampleDesign(
        method=str(d["method"]),
        n=int(d["n"]),
        population=int(d["population"]),
        stratify_by=d.get("stratify_by"),
        stratify_scheme=d.get("stratify_scheme"),
        min_per_label=int(d.get("min_per_label") or 0),
        exclude_coded=d.get("exclude_coded"),
        strata=strata,
    )


def read_sample(path: str | os.PathLike[str]) -> Sample:
    """Read a sample file written by :func:`write_sample`.

    Raises
    ------
    InputError
        Not a sample file, or a missing / invalid field (named, with the file).
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("sample file not found", path=p) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=p, line=exc.lineno) from None
    if not isinstance(data, dict) or data.get("format") != SAMPLE_FORMAT:
        raise InputError(f'not an edudial sample file (no "format": "{SAMPLE_FORMAT}")', path=p)
    try:
        rubric = _need(data, "rubric", dict, "")
        corpus = _need(data, "corpus", dict, "")
        return Sample(
            units=tuple(_unit(u, i) for i, u in enumerate(_need(data, "units", list, ""))),
            seed=int(_need(data, "seed", int, "")),
            rubric=RubricRef(str(rubric["id"]), str(rubric["version"]), str(rubric["sha256"])),
            corpus=CorpusIdentity(
                tuple(corpus["names"]),
                int(corpus["dialogues"]),
                int(corpus["turns"]),
                str(corpus["sha256"]),
            ),
            design=_design(_need(data, "design", dict, "")),
            notes=tuple(str(n) for n in data.get("notes", [])),
        )
    except InputError as exc:
        raise InputError(exc.message, path=p, field=exc.field) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"invalid sample file ({type(exc).__name__}: {exc})", path=p) from None


def _allocate(sizes: dict[str, int], n: int, min_per_label: int) -> dict[str, int]:
    """Units drawn per stratum: at least ``min(K, N_h)``, the rest proportional to ``N_h``.

    Largest-remainder rounding, capped at each stratum's size; ties go to the stratum listed
    first.

    Examples
    --------
    >>> _allocate({"a": 90, "b": 8, "c": 2}, 20, 5)
    {'a': 13, 'b': 5, 'c': 2}
    """
    take = {h: min(min_per_label, size) for h, size in sizes.items()}
    if sum(take.values()) > n:
        raise InputError(
            f"--n {n} is too small for --min-per-label {min_per_label} over {len(sizes)} labels "
            f"(needs at least {sum(take.values())})"
        )
    while sum(take.values()) < n:
        room = {h: sizes[h] - take[h] for h in sizes if sizes[h] > take[h]}
        if not room:
            break
        left = n - sum(take.values())
        total = sum(sizes[h] for h in room)
        share = {h: left * sizes[h] / total for h in room}
        add = {h: min(int(share[h]), room[h]) for h in room}
        if not any(add.values()):  # fewer units left than strata with room: largest remainders
            order = sorted(room, key=lambda h: -(share[h] - int(share[h])))
            add = {h: 1 for h in order[:left]}
        for h, k in add.items():
            take[h] += k
    return take


def _strata(
    corpus: Corpus, units: Sequence[UnitRef], rater: str, scheme: str
) -> dict[str, list[UnitRef]]:
    a = corpus.annotations
    sub = a[(a["rater"] == rater).fillna(False) & (a["scheme"] == scheme).fillna(False)]
    if sub.empty:
        raise InputError(f"--stratify-by: rater {rater!r} has no labels in scheme {scheme!r}")
    per_unit = sub.groupby(["corpus", "unit_id"], sort=False)["label"].nunique(dropna=False)
    n_conflicts = int((per_unit > 1).sum())
    if n_conflicts:
        raise InputError(
            f"--stratify-by: rater {rater!r} gave {n_conflicts} unit(s) different labels in "
            "several runs; keep one run first"
        )
    label = dict(
        zip(
            zip(sub["corpus"].tolist(), sub["unit_id"].tolist(), strict=True),
            sub["label"].tolist(),
            strict=True,
        )
    )
    out: dict[str, list[UnitRef]] = {}
    for u in units:
        lab = label.get((u.corpus, u.unit_id))
        key = NO_LABEL if lab is None or not isinstance(lab, str) else lab
        out.setdefault(key, []).append(u)
    return dict(sorted(out.items()))


def _coded(corpus: Corpus, scheme: str) -> set[tuple[str, str]]:
    a = corpus.annotations
    sub = a[((a["scheme"] == scheme) & (a["rater_kind"] == "human")).fillna(False)]
    sub = sub[sub["label"].notna()]
    return set(zip(sub["corpus"].tolist(), sub["unit_id"].tolist(), strict=True))


@dataclass(frozen=True)
class _Options:
    stratify_by: str | None
    scheme: str | None
    min_per_label: int
    exclude_coded: str | None


def draw_sample(
    corpus: Corpus,
    rubric: Rubric,
    *,
    n: int,
    seed: int,
    stratify_by: str | None = None,
    stratify_scheme: str | None = None,
    min_per_label: int = 0,
    exclude_coded: str | None = None,
) -> Sample:
    """Draw ``n`` units the rubric applies to, reproducibly (same inputs and seed, same sample).

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric
        Its unit and ``applies_to`` filter define the eligible units.
    n : int
        Units to draw (all eligible units when fewer).
    seed : int
    stratify_by : str, optional
        A rater (usually a model run) whose labels define strata; units it did not label form
        the stratum ``"(none)"``.
    stratify_scheme : str, optional
        The scheme of those labels (default: the rubric's scheme; required for rubrics with
        several schemes).
    min_per_label : int
        At least this many units per stratum (all of a smaller stratum); the rest is allocated
        proportionally to stratum size.
    exclude_coded : str, optional
        Leave out units that already have a human label in this scheme.

    Returns
    -------
    Sample
        Units sorted by draw order (a seeded random key), each with its inclusion probability.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> s = draw_sample(bundled_sample(), load_rubric("mathdial-moves"), n=10, seed=7,
    ...                 stratify_by="coder_a", min_per_label=2)
    >>> len(s.units), s.design.method, sum(st.drawn for st in s.design.strata)
    (10, 'stratified', 10)
    >>> round(sum(u.weight for u in s.units))  # Horvitz-Thompson: the population size
    33
    """
    if n < 1:
        raise InputError(f"--n must be at least 1, got {n}")
    if min_per_label < 0:
        raise InputError(f"--min-per-label must be 0 or more, got {min_per_label}")
    opts = _Options(stratify_by, stratify_scheme, min_per_label, exclude_coded)
    units = applicable_units(corpus, rubric)
    notes = []
    if exclude_coded is not None:
        done = _coded(corpus, exclude_coded)
        units = [u for u in units if (u.corpus, u.unit_id) not in done]
        notes.append(
            f"{len(done)} units with human labels in {exclude_coded} were not eligible; "
            "inclusion probabilities are relative to the remaining units"
        )
    if not units:
        raise InputError(f"no units left to sample for rubric {rubric.id}")
    groups, scheme = _groups(corpus, rubric, units, opts)
    take = _allocate({h: len(g) for h, g in groups.items()}, min(n, len(units)), min_per_label)
    rng = np.random.default_rng(seed)
    drawn: list[tuple[float, SampleUnit]] = []
    strata = []
    for h, group in groups.items():
        keys = rng.random(len(group))  # one key per unit, strata in sorted order
        p = take[h] / len(group)
        strata.append(Stratum(h, len(group), take[h], p))
        for i in np.argsort(keys, kind="stable")[: take[h]]:
            u = group[int(i)]
            drawn.append(
                (
                    float(keys[i]),
                    SampleUnit(
                        u.corpus, u.unit_id, u.dialogue_id, p, None if stratify_by is None else h
                    ),
                )
            )
    design = SampleDesign(
        method="simple" if stratify_by is None else "stratified",
        n=len(drawn),
        population=len(units),
        stratify_by=stratify_by,
        stratify_scheme=scheme,
        min_per_label=min_per_label,
        exclude_coded=exclude_coded,
        strata=tuple(strata),
    )
    return Sample(
        units=tuple(u for _, u in sorted(drawn, key=lambda x: x[0])),
        seed=seed,
        rubric=RubricRef.of(rubric),
        corpus=CorpusIdentity.of(corpus),
        design=design,
        notes=tuple(notes),
    )


def _groups(
    corpus: Corpus, rubric: Rubric, units: list[UnitRef], opts: _Options
) -> tuple[dict[str, list[UnitRef]], str | None]:
    """The strata (one ``"all"`` group without stratification) and the stratifying scheme."""
    if opts.stratify_by is None:
        if opts.min_per_label:
            raise InputError("--min-per-label needs --stratify-by RATER")
        return {"all": units}, None
    scheme = opts.scheme
    if scheme is None:
        if len(rubric.schemes) != 1:
            raise InputError(
                f"rubric {rubric.id} writes several schemes: choose one with --stratify-scheme "
                f"({', '.join(rubric.schemes[:5])}, ...)"
            )
        scheme = rubric.schemes[0]
    return _strata(corpus, units, opts.stratify_by, scheme), scheme
