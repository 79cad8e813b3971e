"""Descriptive statistics of a corpus: sizes, talk time, turn lengths, labels and questions.

:func:`corpus_stats` returns plain DataFrames (one per statistic, keyed by name, every one with a
``corpus`` column so merged corpora stay apart); :func:`plot_stats` writes one PNG per statistic.
``Corpus.stats()`` and ``edudial info`` (``--plot DIR``) call these.

Definitions
-----------
* **words**: tokens of spaCy's rule-based English tokenizer (``spacy.blank("en")``) that contain
  at least one letter or digit (punctuation, whitespace and bare symbols such as ``+`` are not
  words; ``2+2`` is the three tokens ``2``, ``+``, ``2``: two words).
* **talk time** per role: the role's share of all turns and of all words.
* **question sentence**: a sentence from spaCy's rule-based ``sentencizer`` whose last
  non-space token is ``?``, or whose first word (lower-cased) is a wh-word (:data:`WH_WORDS`) or
  an auxiliary/modal verb (:data:`AUXILIARIES`). The rule is deliberately simple: it counts
  ``"Do it now."`` as a question and misses declarative questions without ``?`` (``"You got
  twelve"``). A **question turn** has at least one question sentence.

Every text is tokenised once (duplicates, frequent in classroom transcripts, are processed once).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from toolkit.schema import Corpus

__all__ = ["AUXILIARIES", "STATISTICS", "WH_WORDS", "corpus_stats", "plot_stats", "text_features"]

WH_WORDS: frozenset[str] = frozenset(
    {"what", "why", "how", "when", "where", "who", "whom", "whose", "which"}
)
AUXILIARIES: frozenset[str] = frozenset(
    {
        "am",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "don't",
        "doesn't",
        "didn't",
        "haven't",
        "hasn't",
        "hadn't",
        "can't",
        "couldn't",
        "won't",
        "wouldn't",
        "shouldn't",
    }
)
#: Names of the statistics, in the order :func:`corpus_stats` returns them.
STATISTICS: tuple[str, ...] = (
    "tables",
    "kinds",
    "roles",
    "turns_per_dialogue",
    "words_per_turn",
    "questions",
    "schemes",
    "raters",
    "labels",
)
_DESCRIBE = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
_NLP: Any = None


def _nlp() -> Any:
    global _NLP
    if _NLP is None:
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        _NLP = nlp
    return _NLP


def text_features(texts: list[str], *, batch_size: int = 2000) -> pd.DataFrame:
    """Words, sentences and question sentences of each text (see the module docstring).

    Parameters
    ----------
    texts : list of str
        Texts; missing values count as empty.

    Returns
    -------
    DataFrame
        One row per input text with integer columns ``words``, ``sentences``, ``questions``.

    Examples
    --------
    >>> text_features(["What is 3 x 4? Tell me.", "Twelve.", ""]).to_dict("list")
    {'words': [7, 1, 0], 'sentences': [2, 1, 0], 'questions': [1, 0, 0]}
    """
    from spacy.attrs import IS_PUNCT, IS_SPACE, LOWER, ORTH, SENT_START

    clean = ["" if not isinstance(t, str) else t for t in texts]
    uniq = list(dict.fromkeys(clean))
    nlp = _nlp()
    attrs = [ORTH, LOWER, SENT_START, IS_SPACE, IS_PUNCT]
    arrays = [doc.to_array(attrs) for doc in nlp.pipe(uniq, batch_size=batch_size)]
    lens = np.array([len(a) for a in arrays], dtype="int64")
    n_docs = len(uniq)
    if lens.sum() == 0:
        counts = np.zeros((n_docs, 3), dtype="int64")
    else:
        tok = np.concatenate([a for a in arrays if len(a)]).reshape(-1, len(attrs))
        orth, lower = tok[:, 0], tok[:, 1]
        sent_start = tok[:, 2].astype("int64") == 1
        space, punct = tok[:, 3] == 1, tok[:, 4] == 1
        doc_of = np.repeat(np.arange(n_docs), lens)
        # words: tokens with a letter or digit (decided once per distinct string)
        strings = nlp.vocab.strings
        ids, inverse = np.unique(orth, return_inverse=True)
        wordy = np.array([any(ch.isalnum() for ch in strings[int(i)]) for i in ids], dtype=bool)
        words = np.bincount(doc_of, weights=wordy[inverse], minlength=n_docs)
        # sentences: a new one at every sentencizer start and at every document start
        first_tok = np.zeros(len(tok), dtype=bool)
        first_tok[np.cumsum(lens)[lens > 0] - lens[lens > 0]] = True
        sent_id = np.cumsum(sent_start | first_tok) - 1
        keep = np.flatnonzero(~space)  # sentences count only with a non-space token
        sid = sent_id[keep]
        last = keep[np.r_[sid[1:] != sid[:-1], True]] if len(keep) else keep
        sent_ids = sent_id[last]
        q = orth[last] == strings["?"]
        lead = np.flatnonzero(~space & ~punct)
        lid = sent_id[lead]
        first = lead[np.r_[True, lid[1:] != lid[:-1]]] if len(lead) else lead
        qwords = np.array([strings[w] for w in WH_WORDS | AUXILIARIES], dtype="uint64")
        starts_q = np.zeros(int(sent_id[-1]) + 1, dtype=bool)
        starts_q[sent_id[first]] = np.isin(lower[first], qwords)
        q |= starts_q[sent_ids]
        sent_doc = doc_of[last]
        counts = np.column_stack(
            [
                words.astype("int64"),
                np.bincount(sent_doc, minlength=n_docs),
                np.bincount(sent_doc, weights=q, minlength=n_docs).astype("int64"),
            ]
        )
    pos = {t: i for i, t in enumerate(uniq)}
    rows = counts[[pos[t] for t in clean]] if clean else counts[:0]
    return pd.DataFrame(rows.reshape(len(clean), 3), columns=["words", "sentences", "questions"])


def _describe(groups: Any, keys: list[str]) -> pd.DataFrame:
    if groups.ngroups == 0:
        return pd.DataFrame(columns=keys + _DESCRIBE)
    out = groups.describe()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = out.columns.get_level_values(-1)
    out = out.reindex(columns=_DESCRIBE).reset_index()
    out["count"] = out["count"].astype("int64")
    return out[keys + _DESCRIBE]


def corpus_stats(corpus: Corpus) -> dict[str, pd.DataFrame]:
    """Compute descriptive statistics of ``corpus``.

    Returns
    -------
    dict of str -> DataFrame
        Keys in :data:`STATISTICS` order:

        ``tables``  dialogues, turns and annotations per corpus.
        ``kinds``  dialogues per corpus, kind and split.
        ``roles``  talk time: turns and words per role, and each role's share of the corpus's
        turns and words.
        ``turns_per_dialogue``  describe() of the number of turns per dialogue.
        ``words_per_turn``  describe() of words per turn, per role.
        ``questions``  per role: turns, sentences, question sentences, question turns and the
        share of turns that ask a question.
        ``schemes``  annotations, annotated units and distinct labels per scheme, rater and
        rater kind.
        ``raters``  annotations and schemes per rater.
        ``labels``  label counts per scheme and rater, with the share within (scheme, rater).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> c = Corpus(
    ...     dialogues=pd.DataFrame({"corpus": ["toy"], "dialogue_id": ["d"], "split": ["test"],
    ...                             "kind": ["tutoring"], "meta": [{}]}),
    ...     turns=pd.DataFrame({"corpus": ["toy"] * 2, "dialogue_id": ["d"] * 2,
    ...                         "turn_id": ["d:0", "d:1"], "index": [0, 1],
    ...                         "role": ["teacher", "student"], "speaker": ["T", "S"],
    ...                         "text": ["What is 2+2?", "Four."], "meta": [{}, {}]}))
    >>> s = corpus_stats(c)
    >>> s["roles"][["role", "turns", "words"]].to_dict("records")
    [{'role': 'student', 'turns': 1, 'words': 1}, {'role': 'teacher', 'turns': 1, 'words': 4}]
    """
    d, t, a = corpus.dialogues, corpus.turns, corpus.annotations
    out: dict[str, pd.DataFrame] = {}
    names = list(dict.fromkeys([*d["corpus"], *t["corpus"], *a["corpus"]]))
    tables = pd.DataFrame({"corpus": names})
    for table, frame in (("dialogues", d), ("turns", t), ("annotations", a)):
        sizes = frame.groupby("corpus").size()
        tables[table] = [int(sizes.get(n, 0)) for n in names]
    out["tables"] = tables
    out["kinds"] = (
        d.fillna({"kind": "<NA>", "split": "<NA>"})
        .groupby(["corpus", "kind", "split"])
        .size()
        .rename("dialogues")
        .reset_index()
    )

    feats = text_features(t["text"].tolist())
    tf = pd.DataFrame(
        {
            "corpus": t["corpus"].to_numpy(),
            "dialogue_id": t["dialogue_id"].to_numpy(),
            "role": t["role"].to_numpy(),
            "words": feats["words"].to_numpy(),
            "sentences": feats["sentences"].to_numpy(),
            "questions": feats["questions"].to_numpy(),
        }
    )
    tf["question_turn"] = (tf["questions"] > 0).astype("int64")
    roles = (
        tf.groupby(["corpus", "role"])
        .agg(turns=("words", "size"), words=("words", "sum"))
        .reset_index()
    )
    totals = roles.groupby("corpus")[["turns", "words"]].transform("sum")
    roles["turn_share"] = roles["turns"] / totals["turns"].replace(0, np.nan)
    roles["word_share"] = roles["words"] / totals["words"].replace(0, np.nan)
    out["roles"] = roles

    per_dialogue = tf.groupby(["corpus", "dialogue_id"]).size().rename("turns").reset_index()
    out["turns_per_dialogue"] = _describe(per_dialogue.groupby("corpus")["turns"], ["corpus"])
    out["words_per_turn"] = _describe(tf.groupby(["corpus", "role"])["words"], ["corpus", "role"])
    q = (
        tf.groupby(["corpus", "role"])
        .agg(
            turns=("words", "size"),
            sentences=("sentences", "sum"),
            question_sentences=("questions", "sum"),
            question_turns=("question_turn", "sum"),
        )
        .reset_index()
    )
    q["question_turn_share"] = q["question_turns"] / q["turns"].replace(0, np.nan)
    out["questions"] = q

    keys = ["corpus", "scheme", "rater", "rater_kind"]
    out["schemes"] = (
        a.groupby(keys)
        .agg(
            annotations=("label", "size"), units=("unit_id", "nunique"), labels=("label", "nunique")
        )
        .reset_index()
    )
    out["raters"] = (
        a.groupby(["corpus", "rater", "rater_kind"])
        .agg(annotations=("label", "size"), schemes=("scheme", "nunique"))
        .reset_index()
    )
    labels = (
        a.fillna({"label": "<NA>"})
        .groupby(["corpus", "scheme", "rater", "label"])
        .size()
        .rename("count")
        .reset_index()
    )
    labels["share"] = labels["count"] / labels.groupby(["corpus", "scheme", "rater"])[
        "count"
    ].transform("sum")
    out["labels"] = labels
    return {k: out[k] for k in STATISTICS}


def _bar(ax: Any, labels: list[str], values: list[float], title: str, xlabel: str) -> None:
    y = np.arange(len(labels))
    ax.barh(y, values, color="#4C72B0")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)


def _figure(rows: int) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(8, max(2.5, 0.28 * rows + 1.5)), layout="constrained")


def plot_stats(stats: Mapping[str, pd.DataFrame], outdir: str | os.PathLike[str]) -> list[Path]:
    """Write one PNG per statistic of :func:`corpus_stats` to ``outdir``; return the paths.

    Uses matplotlib's object API (no pyplot, no global backend change); empty statistics are
    skipped. ``labels`` shows at most the 12 largest (scheme, rater) groups.

    Examples
    --------
    >>> import tempfile
    >>> from toolkit import Corpus
    >>> plot_stats(corpus_stats(Corpus()), tempfile.mkdtemp())
    []
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110)
        written.append(path)

    def label(frame: pd.DataFrame, cols: list[str]) -> list[str]:
        return [" / ".join(str(v) for v in row) for row in frame[cols].itertuples(index=False)]

    for name, frame in stats.items():
        if frame is None or frame.empty:
            continue
        if name == "tables":
            fig = _figure(len(frame) * 3)
            long = frame.melt(id_vars="corpus", var_name="table", value_name="rows")
            _bar(
                fig.add_subplot(),
                label(long, ["corpus", "table"]),
                list(long["rows"]),
                "Rows per table",
                "rows",
            )
        elif name == "kinds":
            fig = _figure(len(frame))
            _bar(
                fig.add_subplot(),
                label(frame, ["corpus", "kind", "split"]),
                list(frame["dialogues"]),
                "Dialogues by kind and split",
                "dialogues",
            )
        elif name == "roles":
            fig = _figure(len(frame))
            ax1, ax2 = fig.subplots(1, 2, sharey=True)
            names = label(frame, ["corpus", "role"])
            _bar(ax1, names, list(frame["turn_share"]), "Share of turns", "share")
            _bar(ax2, names, list(frame["word_share"]), "Share of words", "share")
            ax2.invert_yaxis()
        elif name in ("turns_per_dialogue", "words_per_turn", "questions"):
            keys = ["corpus"] if name == "turns_per_dialogue" else ["corpus", "role"]
            fig = _figure(len(frame))
            ax = fig.add_subplot()
            names = label(frame, keys)
            if name == "questions":
                _bar(
                    ax,
                    names,
                    list(frame["question_turn_share"].fillna(0)),
                    "Share of turns asking a question",
                    "share",
                )
            else:
                med = frame["50%"].to_numpy(dtype=float)
                err = np.vstack(
                    [med - frame["25%"].to_numpy(float), frame["75%"].to_numpy(float) - med]
                )
                _bar(
                    ax,
                    names,
                    list(med),
                    f"{name.replace('_', ' ')} (median, IQR)",
                    "turns" if name == "turns_per_dialogue" else "words",
                )
                ax.errorbar(med, np.arange(len(med)), xerr=err, fmt="none", ecolor="black")
        elif name in ("schemes", "raters"):
            keys = ["corpus", "scheme", "rater"] if name == "schemes" else ["corpus", "rater"]
            fig = _figure(len(frame))
            _bar(
                fig.add_subplot(),
                label(frame, keys),
                list(frame["annotations"]),
                f"Annotations per {name[:-1]}",
                "annotations",
            )
        elif name == "labels":
            groups = sorted(
                frame.groupby(["corpus", "scheme", "rater"]),
                key=lambda kv: -int(kv[1]["count"].sum()),
            )[:12]
            n = len(groups)
            cols = 2 if n > 1 else 1
            rows = -(-n // cols)
            height = sum(max(len(g), 2) for _, g in groups[::cols])
            from matplotlib.figure import Figure

            fig = Figure(figsize=(11, max(3.0, 0.3 * height + 1.2 * rows)), layout="constrained")
            axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
            for ax, ((c, s, r), g) in zip(axes, groups, strict=False):
                _bar(ax, [str(x) for x in g["label"]], list(g["share"]), f"{c}: {s} ({r})", "share")
            for ax in axes[n:]:
                ax.set_visible(False)
        else:
            continue
        save(fig, name)
    return written
