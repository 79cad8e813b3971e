"""A transparent rules baseline: label units with the spaCy ``Matcher`` patterns of a rubric.

A rubric may declare token ``patterns`` (spaCy ``Matcher`` syntax) per label (per level in
``dimensions`` mode) and a ``rules`` block (``default``, ``precedence``). :func:`annotate_rules`
tokenises the text of every unit the rubric applies to with ``spacy.blank("en")`` (tokenizer only:
no model download), runs one ``Matcher`` over all units with ``nlp.pipe`` and writes the same run
directory and annotation rows as the LLM path (:func:`annotation.annotate`), with rater
``rules@<rubric id>@<version>`` and ``rater_kind = "rule"``. Only the unit's own text is matched
(no context turns, no dialogue meta); a dialogue-level unit is the text of all its turns.

Decisions
---------
* ``single``: the labels whose patterns match compete by ``rules.precedence`` (``order``: declared
  order; ``earliest``: first match in the text; or a priority list); no match gives
  ``rules.default``, else the rules abstain (label NA, ``meta.status = "no_match"``).
* ``binary``/``multi``: each category with patterns is "yes" iff one of its patterns matches;
  ``rules.default`` names a category that is "yes" when no *other* category matches (e.g. ``na``).
  Categories with neither patterns nor that role get no rows (the rules abstain).
* ``dimensions``: per dimension as in ``single`` (levels compete; ``rules.default`` maps dimension
  -> level); a dimension without patterns and without a default gets no rows.

``meta`` of each row: ``status`` (``ok``/``no_match``), ``item_key``, ``matches`` (ids of the
patterns of this decision that matched, in text order), ``decided_by`` (the pattern id that
decided, ``"default"`` or ``None``), ``spans`` (matched text of the deciding pattern) and
``provenance`` (rubric id/version/sha256, backend, spaCy version, precedence).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotation.items import Item, selects_turn
from annotation.manifest import RunIdentity, RunManifest, RunResult, now, versions
from annotation.pricing import Usage
from annotation.rubric import Label, Rubric, RulePattern, load_rubric
from annotation.store import RunStore
from toolkit.errors import InputError
from toolkit.files import open_temp
from toolkit.schema import Corpus

__all__ = ["RuleLabeler", "annotate_rules", "rules_rater"]

BACKEND = "rules"


def rules_rater(rubric: Rubric) -> str:
    """The ``rater`` of rule labels: ``rules@<rubric id>@<version>``."""
    return f"{BACKEND}@{rubric.id}@{rubric.version}"


@dataclass(frozen=True)
class _Pat:
    group: str  # label / category / dimension
    target: str  # label (single), category, or level (dimensions)
    pid: str


@dataclass(frozen=True)
class Decision:
    """One rule decision: the label written for ``scheme`` and why."""

    scheme: str
    label: str | None
    matches: tuple[str, ...]
    decided_by: str | None
    span: str | None
    category: str | None


def _patterns_of(lb: Label) -> list[RulePattern]:
    return list(lb.patterns)


def _unique(ids: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


_FAST_ATTRS = {"LOWER": "LOWER", "ORTH": "ORTH", "TEXT": "ORTH"}


def _fast_values(pattern: list[dict[str, Any]]) -> tuple[str, list[str]] | None:
    """``(token attribute, values)`` when ``pattern`` is one token tested only for string equality
    (or ``IN``) on LOWER/ORTH/TEXT, e.g. ``[{LOWER: {IN: [thanks, thx]}}]``; else ``None``.

    Such patterns match exactly the tokens whose attribute string is one of the values, which a
    dictionary lookup decides much faster than the ``Matcher``'s per-token predicate checks.
    """
    if len(pattern) != 1 or len(pattern[0]) != 1:
        return None
    ((attr, spec),) = pattern[0].items()
    if attr not in _FAST_ATTRS:
        return None
    if isinstance(spec, str):
        return _FAST_ATTRS[attr], [spec]
    if (
        isinstance(spec, dict)
        and list(spec) == ["IN"]
        and isinstance(spec["IN"], list)
        and all(isinstance(v, str) for v in spec["IN"])
    ):
        return _FAST_ATTRS[attr], list(spec["IN"])
    return None


class RuleLabeler:
    """Compile a rubric's patterns into one spaCy ``Matcher`` and label texts with it.

    Single-token patterns that only test string equality on ``LOWER``/``ORTH``/``TEXT`` (e.g.
    ``[{LOWER: {IN: [thanks, thx]}}]``) are decided by a dictionary lookup of each token's
    attribute hash instead (same matches, much faster); ``fast=False`` sends every pattern
    through the ``Matcher``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> lab = RuleLabeler(load_rubric("mathdial-moves"))
    >>> [d.label for d in lab.label_texts(["Why did you add 5 here?"])[0]]
    ['probing']
    """

    def __init__(self, rubric: Rubric, *, fast: bool = True) -> None:
        if not rubric.has_patterns:
            raise InputError(
                f"rubric {rubric.id!r} declares no rule patterns, so the rules "
                "backend cannot label with it (add 'patterns' to its labels; see "
                "docs/annotation.md, 'Rules baseline')",
                field="patterns",
            )
        import spacy
        from spacy.matcher import Matcher

        self.rubric = rubric
        self.nlp = spacy.blank("en")
        self.matcher = Matcher(self.nlp.vocab, validate=True)
        self.spacy_version = spacy.__version__
        self._pats: dict[int, _Pat] = {}
        # single-token string-equality patterns: token attribute -> value hash -> match ids
        self._fast: dict[str, dict[int, list[int]]] = {}
        self.pattern_ids: list[str] = []
        n = 0
        for lb in rubric.labels:
            groups: list[tuple[str, list[RulePattern]]] = (
                [(lv.name, list(lv.patterns)) for lv in lb.levels]
                if rubric.mode == "dimensions"
                else [(lb.name, _patterns_of(lb))]
            )
            for target, pats in groups:
                for j, p in enumerate(pats):
                    default_id = (
                        f"{lb.name}={target}#{j}"
                        if rubric.mode == "dimensions"
                        else f"{target}#{j}"
                    )
                    key = f"edudial-rule-{n}"
                    match_id = self.nlp.vocab.strings.add(key)
                    simple = _fast_values(p.pattern) if fast else None
                    if simple is None:
                        self.matcher.add(key, [p.pattern], greedy="LONGEST")
                    else:
                        table = self._fast.setdefault(simple[0], {})
                        for value in dict.fromkeys(simple[1]):
                            h = self.nlp.vocab.strings.add(value)
                            table.setdefault(h, []).append(match_id)
                    self._pats[match_id] = _Pat(lb.name, target, p.id or default_id)
                    self.pattern_ids.append(p.id or default_id)
                    n += 1
        self._has = {(p.group, p.target) for p in self._pats.values()}
        self.schemes = self._decided_schemes()

    # ------------------------------------------------------------------ decisions
    def _decided_schemes(self) -> list[str]:
        r = self.rubric
        if r.mode == "single":
            return [r.scheme]
        out = []
        dflt = r.rules.default
        for lb in r.labels:
            has = any(g == lb.name for g, _ in self._has)
            if r.mode in ("binary", "multi"):
                decided = has or dflt == lb.name
            else:
                decided = has or (isinstance(dflt, dict) and lb.name in dflt)
            if decided:
                out.append(r.scheme_for(lb.name))
        return out

    def _pick(self, order: list[str], hits: dict[str, list[tuple[int, int, str]]]) -> str | None:
        """The winning target among ``hits`` (target -> [(start, end, pid)])."""
        if not hits:
            return None
        prec = self.rubric.rules.precedence
        rank = {t: i for i, t in enumerate(order)}
        if isinstance(prec, list):
            prio = {t: i for i, t in enumerate(prec)}
            return min(hits, key=lambda t: (prio.get(t, len(prio)), rank.get(t, 0)))
        if prec == "earliest":
            return min(hits, key=lambda t: (hits[t][0][0], rank.get(t, 0)))
        return min(hits, key=lambda t: rank.get(t, 0))

    def _found(self, doc: Any) -> dict[str, dict[str, list[tuple[int, int, str]]]]:
        """group -> target -> [(start, end, pattern id)] of every match in ``doc``."""
        found: dict[str, dict[str, list[tuple[int, int, str]]]] = {}
        matches = list(self.matcher(doc)) if len(self.matcher) else []
        for attr, table in self._fast.items():
            for i, h in enumerate(doc.to_array(attr).tolist()):
                hit = table.get(h)
                if hit:
                    matches += [(m, i, i + 1) for m in hit]
        for match_id, start, end in sorted(matches, key=lambda m: (m[1], m[2])):
            # one pattern can match overlapping spans; each (pattern, start) counts once
            p = self._pats[match_id]
            found.setdefault(p.group, {}).setdefault(p.target, []).append((start, end, p.pid))
        return found

    def _choose(
        self,
        doc: Any,
        scheme: str,
        hits: dict[str, list[tuple[int, int, str]]],
        order: list[str],
        *,
        default: str | None,
        category: str | None,
    ) -> Decision:
        """One label among competing targets (single mode, or one dimension)."""
        allm = _unique(h[2] for h in sorted(h for v in hits.values() for h in v))
        win = self._pick(order, hits)
        if win is not None:
            h = hits[win][0]
            return Decision(scheme, win, allm, h[2], str(doc[h[0] : h[1]].text), category)
        return Decision(scheme, default, allm, "default" if default else None, None, category)

    def _yes_no(
        self, doc: Any, found: dict[str, dict[str, list[tuple[int, int, str]]]]
    ) -> list[Decision]:
        """Binary/multi: each category with patterns is yes iff one matches (or the default)."""
        r = self.rubric
        yes, no = r.yes_no["yes"], r.yes_no["no"]
        dflt = r.rules.default
        other_hit = any(g != dflt and v for g, v in found.items())
        out: list[Decision] = []
        for lb in r.labels:
            scheme = r.scheme_for(lb.name)
            if scheme not in self.schemes:
                continue
            hs = sorted(found.get(lb.name, {}).get(lb.name, []))
            ids = _unique(h[2] for h in hs)
            if hs:
                span = str(doc[hs[0][0] : hs[0][1]].text)
                out.append(Decision(scheme, yes, ids, hs[0][2], span, lb.name))
            elif lb.name == dflt and not other_hit:
                out.append(Decision(scheme, yes, ids, "default", None, lb.name))
            else:
                out.append(Decision(scheme, no, ids, None, None, lb.name))
        return out

    def decide(self, doc: Any) -> list[Decision]:
        """Decisions for one tokenised text (a spaCy ``Doc``)."""
        r = self.rubric
        found = self._found(doc)
        if r.mode == "single":
            hits = {t: v for g in found.values() for t, v in g.items()}
            default = r.rules.default if isinstance(r.rules.default, str) else None
            return [
                self._choose(doc, r.scheme, hits, r.label_names, default=default, category=None)
            ]
        if r.mode in ("binary", "multi"):
            return self._yes_no(doc, found)
        defaults = r.rules.default if isinstance(r.rules.default, dict) else {}
        return [
            self._choose(
                doc,
                r.scheme_for(lb.name),
                found.get(lb.name, {}),
                lb.level_names,
                default=defaults.get(lb.name),
                category=lb.name,
            )
            for lb in r.labels
            if r.scheme_for(lb.name) in self.schemes
        ]

    def label_texts(self, texts: list[str], batch_size: int = 1000) -> list[list[Decision]]:
        """Decisions for each text (tokenised with ``nlp.pipe``)."""
        return [self.decide(doc) for doc in self.nlp.pipe(texts, batch_size=batch_size)]


# ---------------------------------------------------------------------- units
def _units(corpus: Corpus, rubric: Rubric, limit: int | None) -> Iterator[tuple[str, str, str]]:
    """``(corpus, unit_id, text)`` of every unit ``rubric`` labels, in corpus order."""
    dorder = {
        (c, d): i
        for i, (c, d) in enumerate(
            zip(
                corpus.dialogues["corpus"].tolist(),
                corpus.dialogues["dialogue_id"].tolist(),
                strict=True,
            )
        )
    }
    turns = corpus.turns
    rank = [
        dorder.get((c, d), len(dorder))
        for c, d in zip(turns["corpus"].tolist(), turns["dialogue_id"].tolist(), strict=True)
    ]
    turns = turns.assign(_rank=rank).sort_values(["_rank", "index"], kind="stable")
    cols = [turns[c].tolist() for c in ("corpus", "dialogue_id", "turn_id", "role", "text", "meta")]
    done = 0
    if rubric.unit == "dialogue":
        pairs = list(zip(cols[0], cols[1], strict=True))
        for (cname, did), idx in itertools.groupby(range(len(pairs)), key=pairs.__getitem__):
            text = "\n".join(t for t in (cols[4][i] for i in idx) if isinstance(t, str))
            yield str(cname), str(did), text
            done += 1
            if limit is not None and done >= limit:
                return
        return
    for cname, _did, tid, role, text, meta in zip(*cols, strict=True):
        if not selects_turn(rubric, role, meta):
            continue
        yield str(cname), str(tid), text if isinstance(text, str) else ""
        done += 1
        if limit is not None and done >= limit:
            return


def _versions(spacy_version: str) -> dict[str, str]:
    return versions(spacy=spacy_version)


def annotate_rules(
    corpus: Corpus,
    rubric: Rubric | str,
    *,
    out: str | Path | None = None,
    limit: int | None = None,
    force: bool = False,
    batch_size: int = 1000,
) -> RunResult:
    """Label ``corpus`` with the rule patterns of ``rubric`` (offline, deterministic).

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric or str
        A rubric with ``patterns`` (a built-in name, e.g. ``mathdial-moves``, or a YAML path).
    out : path, optional
        Run directory (``annotations.jsonl``, ``manifest.json``); a temporary directory when
        omitted. A rerun rewrites the rows (keeping the run id); a directory holding another run
        (an LLM run, another rubric) is refused unless ``force``.
    limit : int, optional
        Label only the first ``limit`` units.
    force : bool
        Discard a different previous run in ``out``.
    batch_size : int
        Texts per ``nlp.pipe`` batch.

    Returns
    -------
    RunResult
        Same type as :func:`annotation.annotate`; ``usage`` is empty and ``cost`` 0.

    Examples
    --------
    >>> res = annotate_rules(corpus, "mathdial-moves", out="runs/md-rules")  # doctest: +SKIP
    >>> res.annotations.label.value_counts()  # doctest: +SKIP
    """
    rub = load_rubric(rubric)
    if limit is not None and limit < 1:
        raise InputError("limit must be >= 1", field="limit")
    if batch_size < 1:
        raise InputError("batch_size must be >= 1", field="batch_size")
    labeler = RuleLabeler(rub)
    rater = rules_rater(rub)
    started = now()
    t0 = time.perf_counter()
    units = list(_units(corpus, rub, limit))
    decisions = labeler.label_texts([u[2] for u in units], batch_size=batch_size)
    elapsed = time.perf_counter() - t0

    identity = RunIdentity.for_rules(rub, BACKEND)
    out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="edudial-rules-"))
    store = RunStore(out_dir, identity.as_dict(), force=force)
    store.close()
    prov = {
        "rubric_id": rub.id,
        "rubric_version": rub.version,
        "rubric_sha256": rub.sha256,
        "backend": BACKEND,
        "matcher": f"spacy.blank('en') Matcher, spaCy {labeler.spacy_version}",
        "precedence": rub.rules.precedence,
        "context_turns": 0,
    }
    prov_json = ', "provenance": ' + json.dumps(prov, ensure_ascii=False)
    counts: Counter[str] = Counter()
    label_counts: dict[str, Counter[str]] = {s: Counter() for s in labeler.schemes}
    pattern_hits: Counter[str] = Counter()
    deciding: Counter[str] = Counter()
    fd, tmp = open_temp(out_dir, ".annotations.")  # shareable: the umask's mode
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for (cname, uid, _text), decs in zip(units, decisions, strict=True):
                key = Item(cname, uid, "", None, "", 0).key
                for d in decs:
                    status = "ok" if d.label is not None else "no_match"
                    counts[status] += 1
                    label_counts[d.scheme][str(d.label)] += 1
                    pattern_hits.update(set(d.matches))
                    if d.decided_by is not None:
                        deciding[d.decided_by] += 1
                    meta: dict[str, Any] = {
                        "item_key": key if d.category is None else f"{key}{d.category}",
                        "status": status,
                        "matches": list(d.matches),
                        "decided_by": d.decided_by,
                        "span": d.span,
                    }
                    if d.category is not None:
                        meta["category"] = d.category
                    row = {
                        "corpus": cname,
                        "unit_id": uid,
                        "scheme": d.scheme,
                        "label": d.label,
                        "rater": rater,
                        "rater_kind": "rule",
                        "run_id": store.run_id,
                        "meta": meta,
                    }
                    # the provenance is the same on every row: serialised once, spliced in
                    text = json.dumps(row, ensure_ascii=False, allow_nan=False)
                    fh.write(text[:-2] + prov_json + "}}\n")
        os.replace(tmp, store.annotations_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    rows_sha = hashlib.sha256(store.annotations_path.read_bytes()).hexdigest()
    sections = {
        "backend": BACKEND,
        "models_served": {},
        "rules": {
            "precedence": rub.rules.precedence,
            "default": rub.rules.default,
            "patterns": len(labeler.pattern_ids),
            "pattern_hits": dict(sorted(pattern_hits.items())),
            "decided_by": dict(sorted(deciding.items())),
            "abstained_schemes": [s for s in rub.schemes if s not in labeler.schemes],
        },
        "parameters": {"limit": limit, "batch_size": batch_size},
        "units": len(units),
        "items_total": sum(len(d) for d in decisions),
        "counts": dict(counts),
        "label_counts": {s: dict(c) for s, c in label_counts.items()},
        "annotations_sha256": rows_sha,
        "seconds": round(elapsed, 3),
        "usage": Usage().as_dict(),
        "cost_usd": 0.0,
    }
    manifest = RunManifest(
        run_id=store.run_id,
        status="completed",
        identity=identity,
        started=started,
        rubric=rub,
        rater=rater,
        rater_kind="rule",
        model_requested=None,
        versions=_versions(labeler.spacy_version),
        schemes=labeler.schemes,
        sections=sections,
        previous=store.previous,
    ).as_dict()
    store.write_manifest(manifest)
    return RunResult(store.run_id, out_dir, "completed", dict(counts), Usage(), 0.0, manifest)
