"""Matplotlib figures for the HTML report (Agg backend, returned as base64 PNG strings)."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["confusion_png", "forest_png", "human_model_png"]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _ok(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def forest_png(rows: list[dict[str, Any]], title: str) -> str:
    """Dot-and-whisker plot: ``rows`` of ``{"label", "estimate", "ci"}`` (CI may be None)."""
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(rows) + 1.2))
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
    return _png(fig)


def human_model_png(rows: list[dict[str, Any]]) -> str:
    """Side-by-side bars: human-human vs human-model kappa per scheme/model with CI whiskers."""
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(rows) + 2), 3.6))
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
    ax.set_xticklabels([r["label"] for r in rows], rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("Cohen's kappa")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_ylim(min(0, *[r["hm"] for r in rows if _ok(r.get("hm"))] or [0]) - 0.05, 1.05)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Human-human vs human-model agreement (95% intervals)", fontsize=10)
    return _png(fig)


def confusion_png(
    counts: list[list[int]], categories: list[str], rows: str, cols: str, title: str
) -> str:
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
    return _png(fig)
