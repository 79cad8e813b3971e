"""A methods paragraph per scheme: text a researcher can paste into a paper and edit.

The paragraph says what was coded (the scheme, its categories and level of measurement), by
whom (how many human coders; each model rater with its model name), how many units from how
many dialogues, the coefficient to quote (:func:`eval.headline.recommend`) with its interval and
the interval's method, the codebook (rubric name, version and SHA-256) and, for model labels,
the model and the hash of the prompt template, when the annotations record them, and the version
of edudial that computed it.

Everything beyond the typed agreement result comes from the annotations frame itself (``eval``
never reads the annotation package): the dialogue of each unit (a corpus, or a ``dialogue_id``
column) and the provenance the rows carry in ``meta``:

* human coders' rows (coding workbooks, the coding app): ``rubric``, ``rubric_version``,
  ``rubric_sha256``;
* model rows (LLM, local and Batch API runs): ``provenance.model``, ``provenance.rubric_id``,
  ``provenance.rubric_version``, ``provenance.prompt_template_sha256``.

The caller may add the codebook it was given (``edudial irr --rubric``) as a :class:`Codebook`.

* :func:`study` -- the :class:`Study` (per-scheme :class:`SchemeFacts`, software version);
* :func:`methods_paragraph` -- one scheme's paragraph;
* :func:`methods_text` -- every scheme's paragraph, separated by blank lines.

Examples
--------
>>> import pandas as pd, eval
>>> a = pd.DataFrame({"unit_id": [f"u{i}" for i in range(8) for _ in "XY"], "scheme": "s",
...                   "rater": list("XY") * 8, "rater_kind": "human",
...                   "dialogue_id": [f"d{i // 4}" for i in range(8) for _ in "XY"],
...                   "label": list("1100101011001010")})
>>> res = eval.agreement(a, bootstrap=0)
>>> text = methods_paragraph(res["s"], study(res, a).facts("s"))
>>> "Two human coders (X, Y) coded 8 units from two dialogues" in text
True
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from eval.paper import apa, apa_interval, metric_label
from eval.result import AgreementResult, SchemeResult
from toolkit.meta import meta_values

__all__ = [
    "Codebook",
    "ModelRater",
    "SchemeFacts",
    "Study",
    "methods_paragraph",
    "methods_text",
    "software_version",
    "study",
]

_SOURCES = {
    "declared": "declared in the codebook",
    "binary": "yes/no codes",
    "observed-numeric": "the numeric labels observed (unused levels could not count)",
    "observed": "the labels observed (no codebook order was declared)",
}
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class Codebook:
    """A codebook (rubric) as the labels record it: its name, version and content hash."""

    name: str
    version: str | None = None
    sha256: str | None = None

    def describe(self) -> str:
        """``mathdial-moves, version 1.0 (SHA-256 ...)``.

        >>> Codebook("moves", "1.0", "ab12").describe()
        'moves, version 1.0 (SHA-256 ab12)'
        """
        text = self.name
        if self.version:
            text += f", version {self.version}"
        if self.sha256:
            text += f" (SHA-256 {self.sha256})"
        return text


@dataclass(frozen=True)
class ModelRater:
    """A model (or rules) rater: its rater name, the model it ran and its prompt template hash."""

    rater: str
    model: str | None = None
    prompt_sha256: str | None = None
    kind: str = "model"

    def describe(self) -> str:
        """``gpt-4o-mini (rater gpt-4o-mini@moves@1.0; prompt template SHA-256 ...)``."""
        if self.kind == "rule":
            return f"the rules baseline {self.rater}"
        details = [f"rater {self.rater}"] if self.model and self.model != self.rater else []
        if self.prompt_sha256:
            details.append(f"prompt template SHA-256 {self.prompt_sha256}")
        name = self.model or self.rater
        return name + (f" ({'; '.join(details)})" if details else "")


@dataclass(frozen=True)
class SchemeFacts:
    """What the annotations say about one scheme beyond the agreement result.

    Attributes
    ----------
    scheme : str
    n_dialogues : int or None
        Dialogues of the scheme's units (``None`` when the dialogue of some unit is unknown).
    codebooks : tuple of Codebook
        The distinct codebooks recorded in the rows (and the one the caller gave).
    models : tuple of ModelRater
        The scheme's model raters, in the result's order.
    """

    scheme: str
    n_dialogues: int | None = None
    codebooks: tuple[Codebook, ...] = ()
    models: tuple[ModelRater, ...] = ()


def software_version() -> str:
    """edudial's package version (``toolkit.__version__`` when it is not installed)."""
    try:
        return importlib.metadata.version("edudial")
    except importlib.metadata.PackageNotFoundError:
        from toolkit import __version__

        return __version__


@dataclass(frozen=True)
class Study:
    """The facts of every scheme and the software version, for :func:`methods_text`."""

    schemes: Mapping[str, SchemeFacts] = field(default_factory=dict)
    software: str = field(default_factory=software_version)

    def facts(self, scheme: str) -> SchemeFacts:
        """The facts of ``scheme`` (empty facts when none were gathered)."""
        return self.schemes.get(scheme) or SchemeFacts(scheme)


# ------------------------------------------------------------------ reading the annotations
def _frame(annotations: Any) -> tuple[pd.DataFrame, Mapping[Any, Any] | None]:
    """The annotations frame and, for a corpus, its unit -> dialogue map."""
    if hasattr(annotations, "annotations") and hasattr(annotations, "unit_dialogues"):
        return annotations.annotations, annotations.unit_dialogues()
    return annotations, None


def _rated(frame: pd.DataFrame, scheme: str, raters: Sequence[str]) -> pd.DataFrame:
    """The scheme's rows with a label by one of ``raters``."""
    sub = frame[frame["scheme"] == scheme]
    label = sub["label"]
    has = label.notna() & (label.astype(str).str.strip() != "")
    return sub[has & sub["rater"].astype(str).isin(list(raters))]


def _n_dialogues(rows: pd.DataFrame, units: Mapping[Any, Any] | None) -> int | None:
    """Distinct dialogues of the units in ``rows`` (``None`` if one of them is unknown)."""
    if units is not None:
        corpora = rows["corpus"] if "corpus" in rows.columns else pd.Series("", index=rows.index)
        keys = zip(corpora.astype(str), rows["unit_id"].astype(str), strict=True)
        found = [units.get(k) for k in set(keys)]
    elif "dialogue_id" in rows.columns:
        found = rows["dialogue_id"].tolist()
    else:
        return None
    if not found or any(d is None or (isinstance(d, float) and d != d) for d in found):
        return None
    return len({str(d) for d in found})


def _first_metas(rows: pd.DataFrame) -> list[tuple[str, str, dict[str, Any]]]:
    """(rater, rater_kind, meta) of the first row of each rater's run (provenance is per run)."""
    if "meta" not in rows.columns or rows.empty:
        return []
    keys = [c for c in ("rater", "run_id") if c in rows.columns]
    firsts = rows.drop_duplicates(subset=keys)
    kinds = (
        firsts["rater_kind"].astype(str).tolist()
        if "rater_kind" in firsts.columns
        else [""] * len(firsts)
    )
    metas = meta_values(firsts["meta"])
    return list(zip(firsts["rater"].astype(str).tolist(), kinds, metas, strict=True))


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _codebook_of(meta: Mapping[str, Any]) -> Codebook | None:
    prov = meta.get("provenance")
    if isinstance(prov, Mapping) and _text(prov.get("rubric_id")):
        return Codebook(
            str(prov["rubric_id"]),
            _text(prov.get("rubric_version")),
            _text(prov.get("rubric_sha256")),
        )
    if _text(meta.get("rubric")):
        return Codebook(
            str(meta["rubric"]), _text(meta.get("rubric_version")), _text(meta.get("rubric_sha256"))
        )
    return None


def _merge(recorded: Iterable[Codebook], given: Codebook | None) -> tuple[Codebook, ...]:
    """Distinct codebooks (recorded, then the given one).

    Model rows record a rubric's name and version but not its hash; such a record is the same
    codebook as a hashed one of that name and version (from coders' rows or the caller).
    """
    books = [*recorded, *([given] if given is not None else [])]
    hashed = {(c.name, c.version) for c in books if c.sha256}
    out: list[Codebook] = []
    for c in books:
        if c.sha256 is None and (c.name, c.version) in hashed:
            continue
        if c not in out:
            out.append(c)
    return tuple(out)


def _model_rater(rater: str, metas: list[tuple[str, str, dict[str, Any]]]) -> ModelRater:
    kind, model, prompt = "model", None, None
    for who, k, meta in metas:
        if who != rater:
            continue
        kind = k if k in ("model", "rule") else kind
        prov = meta.get("provenance")
        if isinstance(prov, Mapping):
            model = model or _text(prov.get("model"))
            prompt = prompt or _text(prov.get("prompt_template_sha256"))
    if model is None and "@" in rater:
        model = rater.split("@", 1)[0]  # model raters are named model@rubric@version
    return ModelRater(rater, model, prompt, kind)


def scheme_facts(
    scheme: SchemeResult, annotations: Any, *, codebook: Codebook | None = None
) -> SchemeFacts:
    """The :class:`SchemeFacts` of one scheme, read from its annotation rows.

    Parameters
    ----------
    scheme : SchemeResult
        The scheme's agreement result (its raters say which rows count).
    annotations : pandas.DataFrame or toolkit.Corpus
        The annotations :func:`eval.agreement` analysed.
    codebook : Codebook, optional
        The codebook the caller used (``edudial irr --rubric``), added to the recorded ones.
    """
    frame, units = _frame(annotations)
    rated = _rated(frame, scheme.scheme, scheme.conventions.metrics_raters)
    everyone = _rated(frame, scheme.scheme, scheme.raters)
    metas = _first_metas(everyone)
    recorded = [c for c in (_codebook_of(m) for _, _, m in metas) if c is not None]
    return SchemeFacts(
        scheme=scheme.scheme,
        n_dialogues=_n_dialogues(rated, units),
        codebooks=_merge(recorded, codebook),
        models=tuple(_model_rater(m, metas) for m in scheme.models),
    )


def study(
    result: AgreementResult | SchemeResult,
    annotations: Any = None,
    *,
    codebook: Codebook | None = None,
) -> Study:
    """The :class:`Study` of a result: per-scheme facts from ``annotations`` (when given).

    Without annotations only the software version and the given codebook are known.
    """
    schemes = [result] if isinstance(result, SchemeResult) else result.schemes
    if annotations is None:
        facts = {s.scheme: SchemeFacts(s.scheme, codebooks=_merge([], codebook)) for s in schemes}
    else:
        facts = {s.scheme: scheme_facts(s, annotations, codebook=codebook) for s in schemes}
    return Study(facts)


# ------------------------------------------------------------------ the text
def _count(n: int, noun: str) -> str:
    word = _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)
    return f"{word} {noun}{'' if n == 1 else 's'}"


def _what(s: SchemeResult) -> str:
    source = _SOURCES.get(s.conventions.categories_source, s.conventions.categories_source)
    return (
        f"We assessed the reliability of the coding scheme {s.scheme!r}: "
        f"{len(s.categories)} categories ({', '.join(s.categories)}; {source}), analysed at "
        f"the {s.level} level of measurement."
    )


def _units(s: SchemeResult, facts: SchemeFacts) -> str:
    if facts.n_dialogues is None:
        return f"{s.n_units} units (the dialogue of each unit was not recorded)"
    return f"{s.n_units} units from {_count(facts.n_dialogues, 'dialogue')}"


def _who(s: SchemeResult, facts: SchemeFacts) -> str:
    raters = s.humans or s.conventions.metrics_raters
    noun = "human coder" if s.humans else "rater"
    who = f"{_count(len(raters), noun)} ({', '.join(raters)}) coded {_units(s, facts)}."
    who = who[0].upper() + who[1:]
    models = facts.models or tuple(_model_rater(m, []) for m in s.models)
    if models:
        listed = "; ".join(m.describe() for m in models)
        who += (
            f" The labels of {_count(len(models), 'model rater')} were compared with theirs: "
            f"{listed}."
        )
    if len(s.humans) == 1 and s.models:
        who += " With a single human coder, the coefficients below use every rater."
    return who


def _codebook(facts: SchemeFacts) -> str | None:
    books = facts.codebooks
    if not books:
        return None
    if len(books) == 1:
        return f"Coding followed the codebook {books[0].describe()}."
    listed = "; ".join(b.describe() for b in books)
    return f"The labels record more than one codebook: {listed}."


def _coefficient(s: SchemeResult) -> str | None:
    h = s.headline
    m = s.metrics.get(h.metric)
    if m is None:
        return None
    level = f"{100 * s.conventions.confidence:g}%"
    ci = m.ci or (None, None)
    text = (
        f"We report {h.label}: {apa(m.estimate)}, {level} CI {apa_interval(*ci)}, "
        f"n = {m.n} units. The interval is the {m.ci_method or 'undefined'}"
    )
    chosen = next((i for k, i in m.intervals.items() if k == "default"), None)
    if chosen is not None and chosen.n_clusters:
        text += f" (over {chosen.n_clusters} dialogues)"
    text += f". {h.reason}"
    beside = [
        f"{metric_label(k, s.metrics[k])}: {apa(s.metrics[k].estimate)}, {level} CI "
        f"{apa_interval(*(s.metrics[k].ci or (None, None)))}"
        for k in h.also
        if k in s.metrics and s.metrics[k].ci is not None
    ]
    if beside:
        text += " Beside it: " + "; ".join(beside) + "."
    return text


def _human_model(s: SchemeResult, facts: SchemeFacts) -> list[str]:
    if s.human_model is None:
        return []
    names = {m.rater: m.model or m.rater for m in facts.models}
    level = f"{100 * s.conventions.confidence:g}%"
    out = []
    hh = s.human_model.human_human
    for model, c in s.human_model.by_model.items():
        k = c.human_model_kappa
        sentence = (
            f"{names.get(model, model)} agreed with the human coders at a mean Cohen's kappa of "
            f"{apa(k.estimate)}, {level} CI {apa_interval(*(k.ci or (None, None)))}"
        )
        if len(s.humans) >= 2:
            sentence += f" (the human coders among themselves: {apa(hh.kappa_mean)})"
        out.append(sentence + ".")
    return out


def methods_paragraph(
    scheme: SchemeResult, facts: SchemeFacts | None = None, *, software: str | None = None
) -> str:
    """One scheme's methods paragraph (plain text, one paragraph).

    Parameters
    ----------
    scheme : SchemeResult
        One scheme of :func:`eval.agreement`.
    facts : SchemeFacts, optional
        From :func:`scheme_facts` (dialogues, codebooks, models); without it the paragraph says
        what the result alone knows.
    software : str, optional
        The edudial version to name (default: :func:`software_version`).

    Returns
    -------
    str
        Sentences naming the scheme, categories, level, coders, units and dialogues, the
        coefficient with its interval and the interval's method, the codebook, the models and
        the software version.

    Examples
    --------
    >>> import pandas as pd, eval
    >>> a = pd.DataFrame({"unit_id": list("aabbccdd"), "scheme": "s", "rater": list("XYXYXYXY"),
    ...                   "label": list("11001010")})
    >>> text = methods_paragraph(eval.agreement(a, bootstrap=0)["s"], software="0.1.0")
    >>> print(text[text.index("Two raters"):][:30])
    Two raters (X, Y) coded 4 unit
    >>> "We report Cohen's kappa: .20" in text, text.endswith("edudial 0.1.0.")
    (True, True)
    """
    facts = facts or SchemeFacts(scheme.scheme)
    parts = [_what(scheme), _who(scheme, facts)]
    parts += [p for p in (_codebook(facts), _coefficient(scheme)) if p is not None]
    parts += _human_model(scheme, facts)
    parts.append(f"Agreement was computed with edudial {software or software_version()}.")
    return " ".join(parts)


def methods_text(result: AgreementResult | SchemeResult, study: Study | None = None) -> str:
    """Every scheme's :func:`methods_paragraph`, separated by blank lines."""
    facts = study or Study()
    schemes = [result] if isinstance(result, SchemeResult) else result.schemes
    paragraphs = [
        methods_paragraph(s, facts.facts(s.scheme), software=facts.software) for s in schemes
    ]
    return "\n\n".join(paragraphs) + "\n"
