"""The app and the workbook path give the same units, order and annotation rows."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import eval as agreement_stats
from annotation.coding import export_workbooks, import_workbooks
from annotation.rubric import load_rubric
from tests.app_support import form_fields, small_corpus, write_rubric
from toolkit.app import SessionOptions, create_app, open_session
from toolkit.app.export import export_labels
from toolkit.app.store import Store
from toolkit.errors import InputError
from toolkit.io import read_corpus

CODERS = ["ana", "ben"]
PROVENANCE = {"source", "file", "file_sha256", "where"}  # where the label was given


def _setup(tmp_path: Path):
    corpus, rubric = small_corpus(), load_rubric(write_rubric(tmp_path))
    export_workbooks(
        corpus, rubric, CODERS, tmp_path / "wb", overlap=0.5, seed=11, round="r2", fmt="csv"
    )
    session = open_session(
        corpus,
        rubric,
        tmp_path / "lab.sqlite",
        SessionOptions(coders=CODERS, overlap=0.5, seed=11, round="r2"),
    )
    return corpus, rubric, session


def _sheet(tmp_path: Path, coder: str) -> list[dict[str, str]]:
    with (tmp_path / "wb" / f"{coder}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_coder_gets_the_workbooks_units_in_the_workbooks_order(tmp_path: Path) -> None:
    _, _, s = _setup(tmp_path)
    for coder in CODERS:
        assert [r["unit_id"] for r in _sheet(tmp_path, coder)] == [u for _, u in s.order[coder]]
    shared = set(s.order["ana"]) & set(s.order["ben"])
    assert len(shared) == 12 and len(s.order["ana"]) == 18  # 24 units, overlap 0.5


def _label_of(coder: str, unit: str, labels: list[str]) -> str:
    k = int(unit[1:4]) + (coder == "ben" and unit.endswith(":0") and int(unit[1:4]) % 3 == 0)
    return labels[k % len(labels)]


def test_app_rows_are_the_imported_workbook_rows(tmp_path: Path) -> None:
    corpus, rubric, s = _setup(tmp_path)
    labels = rubric.label_names
    client = create_app(s).test_client()
    for coder in CODERS:  # code every unit in the app, through HTTP
        rows = _sheet(tmp_path, coder)
        for n, (_, unit) in enumerate(s.order[coder], start=1):
            page = client.get(f"/code/{coder}/{n}").get_data(as_text=True)
            label = _label_of(coder, unit, labels)
            data = {**form_fields(page), "answer": f"0:{labels.index(label)}"}
            data["notes"] = "hm" if n == 3 else ""
            assert client.post(f"/code/{coder}/{n}", data=data).status_code == 303
            rows[n - 1]["label"] = label  # ...and fill the workbook the same way
            rows[n - 1]["notes"] = "hm" if n == 3 else ""
        with (tmp_path / "wb" / f"{coder}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    from_books = import_workbooks(corpus, [tmp_path / "wb" / f"{c}.csv" for c in CODERS]).corpus
    from_app = export_labels(corpus, s.store, rubric).corpus

    def human(c) -> pd.DataFrame:
        a = c.annotations
        a = a[a["rater"].isin(CODERS)].sort_values(["rater", "unit_id"]).reset_index(drop=True)
        return a.assign(
            meta=[{k: v for k, v in m.items() if k not in PROVENANCE} for m in a["meta"]]
        )

    app_rows, book_rows = human(from_app), human(from_books)
    assert len(app_rows) == 36
    pd.testing.assert_frame_equal(app_rows, book_rows)
    assert {m["source"] for m in from_app.annotations["meta"] if "source" in m} >= {"app"}


def test_adjudicated_rows_and_the_path_into_irr(tmp_path: Path) -> None:
    corpus, rubric, s = _setup(tmp_path)
    labels = rubric.label_names
    client = create_app(s).test_client()
    for coder in CODERS:
        for n, (_, unit) in enumerate(s.order[coder], start=1):
            page = client.get(f"/code/{coder}/{n}").get_data(as_text=True)
            pick = labels.index(_label_of(coder, unit, labels))
            client.post(f"/code/{coder}/{n}", data={**form_fields(page), "answer": f"0:{pick}"})
    disputed = set()
    while "/adjudicate/" in (loc := client.get("/adjudicate").location):
        fields = form_fields(client.get(loc).get_data(as_text=True))
        disputed.add(fields["unit"])
        client.post(loc, data={**fields, "answer": "0:3"})
    shared = {u for _, u in set(s.order["ana"]) & set(s.order["ben"])}
    want_disputed = {
        u for u in shared if _label_of("ana", u, labels) != _label_of("ben", u, labels)
    }
    assert disputed == want_disputed and disputed

    out = tmp_path / "coded.corpus"
    from toolkit.cli.code_serve import export_labels_cmd

    args = [str(tmp_path / "lab.sqlite"), "-o", str(out), "--rubric", str(write_rubric(tmp_path))]
    corpus.save(tmp_path / "toy.corpus")
    res = CliRunner().invoke(export_labels_cmd, [*args, "--corpus", str(tmp_path / "toy.corpus")])
    assert res.exit_code == 0, res.output
    a = read_corpus(out).annotations
    gold = a[a["rater"] == "adjudicated"].set_index("unit_id")
    every = {u for c in CODERS for _, u in s.order[c]}
    assert set(gold.index) == every  # decided, agreed and single-coder units: a whole gold set
    for unit, row in gold.iterrows():
        basis = row["meta"]["basis"]
        if unit in disputed:
            assert (basis, row["label"]) == ("decided", labels[3])
        else:
            assert basis == ("agreed" if unit in shared else "single_coder")
            assert row["label"] == _label_of(
                "ana" if unit in {u for _, u in s.order["ana"]} else "ben", unit, labels
            )
    # into eval as `edudial irr` reads it: kappa on the 12 shared units, by hand
    humans = a[a["rater"].isin(CODERS)]
    res_irr = agreement_stats.agreement(humans, humans=CODERS, bootstrap=0, cluster=None)
    pairs = [(_label_of("ana", u, labels), _label_of("ben", u, labels)) for u in shared]
    po = sum(x == y for x, y in pairs) / len(pairs)
    pe = sum(
        (sum(x == lab for x, _ in pairs) / len(pairs))
        * (sum(y == lab for _, y in pairs) / len(pairs))
        for lab in labels
    )
    kappa = res_irr["mathdial/move"].metrics["cohen_kappa"].estimate
    assert abs(kappa - (po - pe) / (1 - pe)) < 1e-9


def test_serve_and_export_labels_are_offered_under_edudial_code() -> None:
    from toolkit.cli import cli

    for sub in ("serve", "export-labels"):
        res = CliRunner().invoke(cli, ["code", sub, "--help"])
        assert res.exit_code == 0, res.output
        assert f"edudial code {sub}" in res.output.split("Example", 1)[-1]


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["code", "export-labels", str(tmp_path / "none.sqlite"), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("error: ") and "coding store not found" in err
    corpus_dir = small_corpus().save(tmp_path / "toy.corpus")
    args = ["code", "serve", str(corpus_dir), "--rubric", str(write_rubric(tmp_path))]
    with pytest.raises(SystemExit):
        main([*args, "--store", str(tmp_path / "s.sqlite")])  # a new store needs coders
    assert "needs coders" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists() and not (tmp_path / "o").exists()


def test_one_server_per_store(tmp_path: Path) -> None:
    _, _, s = _setup(tmp_path)
    s.store.acquire_writer()
    other = Store(s.store.path)
    with pytest.raises(InputError, match="already using this store"):
        other.acquire_writer()
    s.store.close()
    other.acquire_writer()  # released with the first server
    other.close()


@pytest.mark.realdata
def test_an_mrbench_page_shows_the_workbooks_context_and_no_other_candidate(
    data_dir: Path, tmp_path: Path
) -> None:
    """Candidates are alternatives (``context.exclude_meta``): a page shows the history only."""
    import corpora
    from annotation.coding import coding_units
    from tests.conftest import corpus_path

    full = corpora.load("mrbench", corpus_path(data_dir, "mrbench"), releases=["dev"])
    corpus = full.filter(dialogue_id=full.dialogues["dialogue_id"].tolist()[:4])
    rubric = load_rubric("mrbench-pedagogy")
    s = open_session(corpus, rubric, tmp_path / "lab.sqlite", SessionOptions(coders=["ana"]))
    client = create_app(s).test_client()
    units = {(u.corpus, u.unit_id): u for u in coding_units(corpus, rubric)}
    candidates = corpus.turns[corpus.turns["meta"].map(lambda m: m.get("candidate") is True)]
    assert len(units) == len(candidates) >= 8
    for n, key in enumerate(s.order["ana"], start=1):
        page = html.unescape(client.get(f"/code/ana/{n}").get_data(as_text=True))
        unit = units[key]
        assert unit.before and all(t.text in page for t in unit.before + unit.target)
        others = candidates[
            (candidates["dialogue_id"] == unit.dialogue_id) & (candidates["turn_id"] != key[1])
        ]
        assert len(others) >= 1
        assert not any(text in page for text in others["text"] if text not in unit.target[0].text)
