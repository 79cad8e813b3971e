"""The whole pipeline in one call: load -> annotate -> agreement -> report.

:func:`run_demo` is what ``edudial demo`` runs. With no data it uses the small illustrative sample
bundled with edudial (8 tutoring dialogues written for the package, teacher moves coded by two
coders). With ``data=`` it runs on the real MathDial and SIGHT files (e.g. ``$EDUDIAL_DATA``).
Labels come from the best offline backend installed: the local SmolLM2 model when
``edudial[local]`` is installed, else the spaCy rules baseline. Nothing touches the network.

This module sits in the top layer of ``toolkit`` (with the CLI): it is the one place besides the
CLI that ties ``corpora``, ``annotation`` and ``eval`` together.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InputError
from toolkit.io import read_corpus, save_corpus
from toolkit.schema import Corpus

__all__ = [
    "DEMO_BACKENDS",
    "MARKER",
    "DemoResult",
    "DemoStep",
    "bundled_sample",
    "choose_backend",
    "output_state",
    "run_demo",
]

#: Values of ``edudial demo --backend`` (``auto``: local if installed, else rules).
DEMO_BACKENDS = ("auto", "local", "rules")

#: What the demo annotates: corpus name -> (rubric, human raters or None for rater_kind).
_TASKS: dict[str, tuple[str, list[str] | None]] = {
    "demo": ("mathdial-moves", ["coder_a", "coder_b"]),
    "mathdial": ("mathdial-moves", ["teacher"]),
    "sight": ("sight-feedback", ["H1", "H2"]),
}

Step = Callable[[str], None]

#: The file that marks a folder as the demo's own: a later demo replaces such a folder without
#: ``force``; any other existing folder is the user's and needs ``force``.
MARKER = ".edudial-demo"
_MARK = {"written_by": "edudial demo", "note": "the next `edudial demo` replaces this folder"}


def output_state(out: str | Path) -> str:
    """What ``out`` is to the demo: ``"free"``, ``"demo"`` (an earlier run's) or ``"foreign"``.

    ``free``: missing or an empty folder. ``demo``: a folder holding :data:`MARKER` as the demo
    writes it; a later demo replaces it. Anything else, a symlink included (replacing it would
    delete what it points to), is ``foreign``: the user's, replaced only with ``force``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> output_state(folder / "new"), output_state(folder)
    ('free', 'free')
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> output_state(folder)
    'foreign'
    """
    folder = Path(out)
    if folder.is_symlink():
        return "foreign"
    if not folder.exists():
        return "free"
    if not folder.is_dir():
        return "foreign"
    marker = folder / MARKER
    try:
        if not marker.is_symlink() and json.loads(marker.read_text(encoding="utf-8")) == _MARK:
            return "demo"
    except (OSError, UnicodeDecodeError, ValueError):
        pass  # no marker, or not ours
    return "free" if not any(folder.iterdir()) else "foreign"


def _claim(out: Path, force: bool, say: Step) -> None:
    """Make ``out`` an empty folder marked as the demo's, replacing an earlier demo's output.

    The marker is written first, so even a demo that failed halfway leaves a folder the next
    run recognises and replaces.
    """
    state = output_state(out)
    if state == "foreign" and not force:
        raise InputError(
            "output folder exists and was not written by the demo; pass force=True "
            "(CLI: --force) to replace it, or choose another folder",
            path=out,
        )
    if state == "demo":
        say(f"replacing {out} (written by an earlier demo)")
    if out.is_dir() and not out.is_symlink():
        shutil.rmtree(out)
    elif out.is_symlink() or out.exists():
        out.unlink()
    out.mkdir(parents=True)
    (out / MARKER).write_text(json.dumps(_MARK) + "\n", encoding="utf-8")


def bundled_sample() -> Corpus:
    """The illustrative sample shipped with edudial (not research data).

    Examples
    --------
    >>> from toolkit.demo import bundled_sample
    >>> bundled_sample()
    Corpus(demo: 8 dialogues, 60 turns, 66 annotations)
    """
    path = resources.files("toolkit") / "data" / "demo"
    with resources.as_file(path) as p:
        return read_corpus(p).validate()


def choose_backend(backend: str = "auto") -> str:
    """``local`` when the local model is installed (or asked for), else ``rules``."""
    from annotation.local_server import local_backend_available

    if backend not in DEMO_BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(DEMO_BACKENDS)}")
    if backend == "auto":
        return "local" if local_backend_available() else "rules"
    return backend


@dataclass
class DemoStep:
    """One corpus of the demo: its run and its agreement summary."""

    corpus: str
    rubric: str
    rater: str
    run_dir: Path
    summary: pd.DataFrame


@dataclass
class DemoResult:
    """What :func:`run_demo` wrote and found."""

    out: Path
    backend: str
    steps: list[DemoStep] = field(default_factory=list)
    reports: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """One row per scheme: human-human and human-model kappa with intervals."""
        frames = [s.summary for s in self.steps]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _load(data: Path | None, limit: int | None, say: Step) -> dict[str, Corpus]:
    if data is None:
        say("loading the bundled illustrative sample (8 short tutoring dialogues)")
        return {"demo": bundled_sample()}
    import corpora

    data = Path(data)
    if not data.is_dir():
        raise InputError("--data must be a folder holding mathdial/ and/or sight/", path=data)
    out: dict[str, Corpus] = {}
    if (data / "mathdial").is_dir():
        say(f"loading MathDial from {data / 'mathdial'}")
        md = corpora.load("mathdial", data / "mathdial")
        if limit is not None:
            md = md.filter(dialogue_id=md.dialogues["dialogue_id"].head(limit).tolist())
        out["mathdial"] = md
    if (data / "sight").is_dir():
        say(f"loading SIGHT from {data / 'sight'} (comments only)")
        sight = corpora.load("sight", data / "sight", transcripts=False)
        # Only the comments some human coded can be compared with the humans.
        humans = sight.annotations[sight.annotations["rater"].isin(["H1", "H2"])]
        units = pd.unique(humans["unit_id"])
        if limit is not None:
            units = units[: limit * 10]
        turns = sight.turns[sight.turns["turn_id"].isin(set(units))]
        sight = sight.filter(dialogue_id=pd.unique(turns["dialogue_id"]).tolist())
        keep = sight.turns["turn_id"].isin(set(units))
        sight = Corpus(
            sight.dialogues,
            sight.turns[keep],
            sight.annotations[
                sight.annotations["unit_id"].isin(set(units))
                & sight.annotations["rater"].isin(["H1", "H2"])
            ],
        ).validate()
        out["sight"] = sight
    if not out:
        raise InputError("found neither mathdial/ nor sight/ in this folder", path=data)
    return out


def _annotate(corpus: Corpus, rubric: str, backend: str, run_dir: Path) -> Any:
    if backend == "rules":
        from annotation.rules import annotate_rules

        return annotate_rules(corpus, rubric, out=run_dir)
    from annotation import load_rubric
    from annotation.local import annotate_local

    # SmolLM2 on 2 CPU cores: ask for the label only (no rationale, 16 tokens) and show one
    # previous turn, so the demo takes about a second per item. The variant is versioned
    # "+lean", so its rater name and rubric hash differ from the full rubric's.
    full = load_rubric(rubric)
    lean = full.model_copy(
        update={
            "version": f"{full.version}+lean",
            "output": full.output.model_copy(update={"rationale": False, "max_tokens": 16}),
        }
    )
    return annotate_local(corpus, lean, out=run_dir, context_turns=1)


def _summary(result: Any, corpus_name: str, rater: str) -> pd.DataFrame:
    rows = []
    for s in result.to_dict()["schemes"]:
        hm = (s.get("human_model") or {}).get("by_model", {}).get(rater)
        hh = (s.get("human_model") or {}).get("human_human") or {}
        metric = s["metrics"].get("cohen_kappa") or s["metrics"].get("fleiss_kappa") or {}
        hh_est = hh.get("kappa_mean", metric.get("estimate"))
        hh_ci = hh.get("ci", metric.get("ci"))
        rows.append(
            {
                "corpus": corpus_name,
                "scheme": s["scheme"],
                "units": s["n_units"],
                "human_human_kappa": hh_est,
                "human_human_ci": hh_ci,
                "human_model_kappa": None if hm is None else hm["human_model_kappa"]["estimate"],
                "human_model_ci": None if hm is None else hm["human_model_kappa"].get("ci"),
            }
        )
    return pd.DataFrame(rows)


def run_demo(
    out: str | Path = "demo-out",
    *,
    data: str | Path | None = None,
    limit: int | None = None,
    backend: str = "auto",
    bootstrap: int = 1000,
    seed: int = 0,
    force: bool = False,
    say: Step | None = None,
) -> DemoResult:
    """Run load -> annotate -> agreement -> report and write everything to ``out``.

    Parameters
    ----------
    out : path
        Output folder: ``corpus/`` (human and model labels), ``runs/<corpus>/`` (annotations and
        run manifest), ``report.html``, ``report.md``, ``report.json``.
    data : path, optional
        A folder with ``mathdial/`` and/or ``sight/`` as distributed; default: the bundled sample.
    limit : int, optional
        MathDial dialogues (and 10x as many SIGHT comments) to use.
    backend : {"auto", "local", "rules"}
        ``auto`` picks the local model when installed, else the rules baseline.
    bootstrap, seed : int
        Bootstrap replicates and seed of the intervals.
    force : bool
        Replace ``out`` even if an earlier demo did not write it. A folder the demo wrote (it
        holds :data:`MARKER`) is always replaced, an empty folder is used as it is.
    say : callable, optional
        Receives one line per step (progress).

    Examples
    --------
    >>> import tempfile
    >>> res = run_demo(tempfile.mkdtemp() + "/demo", backend="rules", bootstrap=200)
    >>> sorted(p.name for p in res.reports.values())
    ['report.html', 'report.json', 'report.md']
    """
    import eval

    started = time.perf_counter()
    say = say or (lambda _msg: None)
    out = Path(out)
    chosen = choose_backend(backend)
    _claim(out, force, say)
    corpora_ = _load(Path(data) if data is not None else None, limit, say)
    result = DemoResult(out=out, backend=chosen)
    labelled: list[Corpus] = []
    provenance: list[dict[str, Any]] = []
    results = []
    for name, corpus in corpora_.items():
        rubric, humans = _TASKS[name]
        run_dir = out / "runs" / name
        say(f"annotating {name} with rubric {rubric} ({chosen} backend)")
        run = _annotate(corpus, rubric, chosen, run_dir)
        model_rows = run.annotations
        rater = str(run.manifest.get("rater") or model_rows["rater"].iloc[0])
        both = corpus.with_annotations(model_rows).validate()
        labelled.append(both)
        say(f"computing agreement for {name} (bootstrap B={bootstrap})")
        rub = run.manifest.get("rubric", {})
        order = rub.get("category_order")
        schemes = [s for s in rub.get("schemes", []) if s in set(both.annotations["scheme"])]
        agreement = eval.agreement(
            both,
            schemes or None,
            humans=humans,
            models=[rater],
            bootstrap=bootstrap,
            seed=seed,
            categories=order if order and len(schemes) == 1 else None,
        )
        results.append(agreement)
        summary = _summary(agreement, name, rater)
        result.steps.append(DemoStep(name, rubric, rater, run_dir, summary))
        usage = run.manifest.get("usage", {})
        provenance.append(
            {
                "source": name,
                "rater": rater,
                "backend": chosen,
                "model": ", ".join(run.manifest.get("models_served") or {})
                or run.manifest.get("model_requested"),
                "rubric": f"{rub.get('id')}@{rub.get('version')}",
                "run_id": run.run_id,
                "date": run.manifest.get("updated"),
                "items": run.manifest.get("items_total"),
                "tokens": (usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
                if usage
                else None,
                "cost_usd": run.manifest.get("cost_usd"),
            }
        )
    say("writing the corpus and the reports")
    save_corpus(Corpus.concat(labelled), out / "corpus")
    merged = eval.AgreementResult([s for r in results for s in r.schemes], results[0].conventions)
    for fmt, name in (("html", "report.html"), ("md", "report.md"), ("json", "report.json")):
        path = out / name
        path.write_text(eval.report(merged, format=fmt, provenance=provenance), encoding="utf-8")
        result.reports[fmt] = path
    (out / "demo.json").write_text(
        json.dumps(
            {
                "backend": chosen,
                "data": str(data) if data else "bundled sample",
                "limit": limit,
                "bootstrap": bootstrap,
                "seed": seed,
                "provenance": provenance,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    result.seconds = time.perf_counter() - started
    return result
