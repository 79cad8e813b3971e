"""The report's figures, rendered for real: nothing overlaps the data, nothing runs off."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from eval.plots import confusion_figure, forest_figure, human_model_figure, save_figure

LONG = "a_scheme_with_a_long_name/category / gpt-4o-mini-2024-07-18@mathdial-moves@1.0"


def _rows(labels: list[str], hm: float = 0.97) -> list[dict[str, object]]:
    return [
        {"label": lab, "hh": 0.95, "hh_ci": (0.85, 1.0), "hm": hm, "hm_ci": (0.9, 1.0)}
        for lab in labels
    ]


def _drawn(fig: Figure) -> object:
    fig.canvas.draw()
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


def _inside(box: Bbox, fig: Figure) -> bool:
    frame = fig.bbox
    return bool(
        box.x0 >= frame.x0 - 0.5
        and box.y0 >= frame.y0 - 0.5
        and box.x1 <= frame.x1 + 0.5
        and box.y1 <= frame.y1 + 0.5
    )


@pytest.mark.parametrize(
    "labels",
    [
        ["sight/confusion / openaichat_v8"],
        [LONG, "short", LONG + " again"],
        [f"sight/category_{i} / model_{i}" for i in range(12)],
    ],
)
def test_bar_chart_legend_clear_of_the_bars_and_labels_inside(labels: list[str]) -> None:
    fig = human_model_figure(_rows(labels))  # bars reach 0.97-1.0: where the old legend sat
    renderer = _drawn(fig)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    legend_box = legend.get_window_extent(renderer)
    data_area = ax.get_window_extent(renderer)  # the axes patch: where bars and whiskers are
    assert not legend_box.overlaps(data_area), (legend_box, data_area)
    assert _inside(legend_box, fig)
    ticks = [t for t in ax.get_xticklabels() if t.get_text()]
    assert len(ticks) == len(labels)
    for tick in ticks:
        assert _inside(tick.get_window_extent(renderer), fig), tick.get_text()
    assert _inside(ax.title.get_window_extent(renderer), fig)
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["human-human", "human-model"]


def test_bar_chart_without_bars_has_no_legend() -> None:
    fig = human_model_figure([{"label": "s / m", "hh": None, "hm": float("nan")}])
    _drawn(fig)
    assert fig.axes[0].get_legend() is None


def test_forest_and_confusion_labels_inside() -> None:
    rows = [{"label": LONG, "estimate": 0.4, "ci": (0.1, 0.7)}, {"label": "x", "estimate": 0.9}]
    fig = forest_figure(rows, "agreement per scheme")
    renderer = _drawn(fig)
    for tick in fig.axes[0].get_yticklabels():
        assert _inside(tick.get_window_extent(renderer), fig), tick.get_text()
    heat = confusion_figure([[3, 1], [0, 4]], ["no", "yes"], "H1", "H2", "H1 vs H2")
    renderer = _drawn(heat)
    counts = [t.get_text() for t in heat.axes[0].texts]
    assert counts == ["3", "1", "0", "4"]


def test_save_figure_writes_png_and_svg_with_text_as_text(tmp_path: Path) -> None:
    paths = save_figure(human_model_figure(_rows(["sight/setup / m1"])), tmp_path / "sub" / "hm")
    assert [p.name for p in paths] == ["hm.png", "hm.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ElementTree.parse(paths[1]).getroot()
    text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "human-model" in text and "sight/setup / m1" in text  # editable labels, not paths
