"""Matplotlib figures of the report (Agg backend).

``*_figure`` build a :class:`matplotlib.figure.Figure` (the charts with constrained layout, so
titles, legends and rotated tick labels stay inside it); ``*_png`` return it as a base64 PNG
for the HTML report; :func:`save_figure` writes it as PNG and SVG files (``edudial irr --plots``).
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = [
    "FILE_FORMATS",
    "confusion_figure",
    "confusion_png",
    "forest_figure",
    "forest_png",
    "human_model_figure",
    "human_model_png",
    "save_figure",
]

#: The file formats :func:`save_figure` writes.
FILE_FORMATS: tuple[str, ...] = ("png", "svg")
_DPI = 110
_WRAP = 22  # characters per line of a bar chart's tick label


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``fig`` as ``stem.png`` and ``stem.svg`` (:data:`FILE_FORMATS`) and close it.

    Returns the paths written. The SVG keeps its text as text (``svg.fonttype = none``), so a
    journal's editor can restyle the labels.
    """
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    try:
        for fmt in FILE_FORMATS:
            path = stem.with_name(f"{stem.name}.{fmt}")
            with plt.rc_context({"svg.fonttype": "none"}):
                fig.savefig(path, format=fmt, dpi=_DPI, bbox_inches="tight")
            paths.append(path)
    finally:
        plt.close(fig)
    return paths


def _ok(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def forest_png(rows: list[dict[str, Any]], title: str) -> str:
    """:func:`forest_figure` as a base64 PNG."""
    return _png(forest_figure(rows, title))


def forest_figure(rows: list[dict[str, Any]], title: str) -> Figure:
    """Dot-and-whisker plot: ``rows`` of ``{"label", "estimate", "ci"}`` (CI may be None)."""
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(rows) + 1.2), layout="constrained")
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        if _ok(r.get("estimate")):
            ci = r.get("ci")
            if ci and _ok(ci[0]) and _ok(ci[1]):
                ax.plot(ci, [y, y], color="tab:blue", lw=2)
            ax.plot(r["estimate"], y, "o", color="tab:blue")
    for x in (0.2, 0.4, 0.6, 0.8):
        ax.axvline(x, color="0.85", lw=0.8, zorder=0)
    for x, name in (
        (0.1, "slight"),
        (0.3, "fair"),
        (0.5, "moderate"),
        (0.7, "substantial"),
        (0.9, "almost\nperfect"),
    ):
        ax.text(
            x,
            1.01,
            name,
            fontsize=7,
            color="0.45",
            ha="center",
            va="bottom",
            transform=ax.get_xaxis_transform(),
        )
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["label"] for r in reversed(rows)], fontsize=8)
    ax.set_xlim(
        min(-0.2, *[r["ci"][0] for r in rows if r.get("ci") and _ok(r["ci"][0])] or [0]) - 0.02,
        1.02,
    )
    ax.set_xlabel("coefficient (dot) with 95% interval (line)")
    ax.set_title(title, fontsize=10, pad=26)
    return fig


def human_model_png(rows: list[dict[str, Any]]) -> str:
    """:func:`human_model_figure` as a base64 PNG."""
    return _png(human_model_figure(rows))


def human_model_figure(rows: list[dict[str, Any]]) -> Figure:
    """Side-by-side bars: human-human vs human-model kappa per scheme/model with CI whiskers.

    The legend sits outside the axes, right of the data area (inside it, it covered the bars
    near 1); tick labels are wrapped and rotated, and constrained layout keeps them inside.
    """
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(rows) + 3), 4.0), layout="constrained")
    width = 0.38
    for i, r in enumerate(rows):
        for off, key, color, lab in (
            (-width / 2, "hh", "tab:gray", "human-human"),
            (width / 2, "hm", "tab:orange", "human-model"),
        ):
            est, ci = r.get(key), r.get(key + "_ci")
            if est is None or not _ok(est):
                continue
            err = None
            if ci and _ok(ci[0]) and _ok(ci[1]):
                err = [[max(est - ci[0], 0)], [max(ci[1] - est, 0)]]
            ax.bar(
                i + off, est, width, color=color, yerr=err, capsize=3, label=lab if i == 0 else None
            )
    ax.set_xticks(range(len(rows)))
    labels = [textwrap.fill(str(r["label"]), _WRAP) for r in rows]
    ax.set_xticklabels(labels, rotation=40, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_ylabel("Cohen's kappa")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_ylim(min(0, *[r["hm"] for r in rows if _ok(r.get("hm"))] or [0]) - 0.05, 1.05)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.set_title("Human-human vs human-model agreement (95% intervals)", fontsize=10)
    return fig


def confusion_png(
    counts: list[list[int]], categories: list[str], rows: str, cols: str, title: str
) -> str:
    """:func:`confusion_figure` as a base64 PNG."""
    return _png(confusion_figure(counts, categories, rows, cols, title))


def confusion_figure(
    counts: list[list[int]], categories: list[str], rows: str, cols: str, title: str
) -> Figure:
    """Heatmap of a confusion matrix with counts in the cells."""
    q = len(categories)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * q, 0.8 + 0.55 * q))
    ax.imshow(counts, cmap="Blues")
    top = max((max(r) for r in counts), default=0)
    for i in range(q):
        for j in range(q):
            v = counts[i][j]
            ax.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if top and v > 0.6 * top else "black",
            )
    ax.set_xticks(range(q))
    ax.set_yticks(range(q))
    ax.set_xticklabels(categories, fontsize=7, rotation=45, ha="right")
    ax.set_yticklabels(categories, fontsize=7)
    ax.set_xlabel(cols, fontsize=8)
    ax.set_ylabel(rows, fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig
