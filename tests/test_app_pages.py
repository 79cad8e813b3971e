"""The coding app through Flask's test client: pages, modes, blindness, security, adjudication."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from markupsafe import escape

from annotation.rubric import load_rubric, parse_rubric
from tests.app_support import XSS, form_fields, small_corpus
from toolkit.app import SessionOptions, create_app, open_session
from toolkit.errors import InputError


def _session(tmp_path: Path, rubric=None, coders=("ana", "ben"), **kw):
    rub = rubric or load_rubric("mathdial-moves")
    opts = SessionOptions(coders=list(coders), seed=kw.pop("seed", 7), **kw)
    return open_session(small_corpus(), rub, tmp_path / "coding.sqlite", opts)


def _page(client, url: str, **kw):
    resp = client.get(url, **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def _buttons(page: str) -> list[str]:
    """Texts of the answer buttons (without their key hints)."""
    found = re.findall(r'<button type="submit" name="answer"[^>]*>(.*?)</button>', page, re.S)
    return [re.sub(r"<kbd>.*?</kbd>", "", b).strip() for b in found]


def _answer(client, coder: str, n: int, answer: str, **extra: str):
    page = _page(client, f"/code/{coder}/{n}")
    data = {**form_fields(page), "answer": answer, **extra}
    return client.post(f"/code/{coder}/{n}", data=data)


def test_coding_flow_saves_each_label_and_continues_after_reopening(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    assert client.get("/code/ana").location.endswith("/code/ana/1")
    for n in (1, 2, 3):
        resp = _answer(client, "ana", n, f"0:{n % 4}", notes=f"note {n}")
        assert resp.status_code == 303 and resp.location.endswith(f"/code/ana/{n + 1}")
    labels = s.rubric.label_names
    for n in (1, 2, 3):
        st = s.store.state("ana", s.order["ana"][n - 1])
        assert (st.status, st.answers, st.notes) == ("done", {"": labels[n % 4]}, f"note {n}")
    s.store.close()
    again = _session(tmp_path)  # a restarted server on the same store
    client = create_app(again).test_client()
    assert client.get("/code/ana").location.endswith("/code/ana/4")
    page = _page(client, "/code/ana/4")
    assert 'value="3"' in page and "3/24 coded" in page  # the progress bar and its text


def test_target_turn_roles_and_context_are_shown(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    n = s.order["ana"].index(("toy", "d001:2")) + 1
    page = _page(client, f"/code/ana/{n}")
    assert 'class="turn target role-teacher"' in page and "teacher turn 2 of d001" in page
    assert 'class="turn role-student"' in page and "student turn 1 of d001" in page
    assert "What is 1 + 1?" in page  # the rubric's context.meta field
    assert _buttons(page) == [lb.title or lb.name for lb in s.rubric.labels]
    for label in s.rubric.labels:  # the codebook's definitions
        assert label.definition.strip()[:60] in html.unescape(page)


def test_a_script_turn_and_a_script_note_show_as_text(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    n = s.order["ana"].index(("toy", "d000:2")) + 1  # its context holds the XSS student turn
    _answer(client, "ana", n, "0:0", notes=XSS)
    page = _page(client, f"/code/ana/{n}")
    assert "<script>document.title" not in page and "<img src=x" not in page
    assert page.count(str(escape(XSS))) == 2  # the turn and the note, as text
    assert page.count("<script") == 1  # only the app's own script tag
    assert "script-src 'self'" in client.get(f"/code/ana/{n}").headers["Content-Security-Policy"]


def test_blind_a_coder_never_sees_another_coders_or_a_source_label(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    key = s.order["ben"][0]
    _answer(client, "ben", 1, "0:2", notes="ben's secret note")
    n = s.order["ana"].index(key) + 1
    page = _page(client, f"/code/ana/{n}")
    assert "ben&#39;s secret note" not in page and "ben's secret note" not in page
    assert 'aria-pressed="true"' not in page  # nothing pre-selected: not ben's, not the source's
    assert "ben" not in re.sub(r"<[^>]+>", " ", page).split()  # ana's page never names ben


def test_each_coder_has_a_seeded_order(tmp_path: Path) -> None:
    s = _session(tmp_path / "a", seed=3)
    again = _session(tmp_path / "b", seed=3)
    other = _session(tmp_path / "c", seed=4)
    assert s.order == again.order != other.order
    assert s.order["ana"] != s.order["ben"] and sorted(s.order["ana"]) == sorted(s.order["ben"])


def test_back_skip_flag_and_forward(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    _answer(client, "ana", 1, "0:0")
    fields = form_fields(_page(client, "/code/ana/2"))
    resp = client.post("/code/ana/2", data={**fields, "action": "skip"})
    assert resp.location.endswith("/code/ana/3")
    fields = form_fields(_page(client, "/code/ana/3"))
    assert client.post("/code/ana/3", data={**fields, "action": "flag"}).location.endswith("/3")
    assert s.store.state("ana", s.order["ana"][2]).flag
    overview = _page(client, "/")
    assert f"{s.order['ana'][2][1]}</td>" in overview  # the lead sees the flagged unit
    assert client.post("/code/ana/3", data={**fields, "action": "back"}).location.endswith("/2")
    assert s.store.state("ana", s.order["ana"][1]).status == "skipped"
    # the skipped unit comes back once every other unit is done
    for n in range(3, 25):
        _answer(client, "ana", n, "0:1")
    assert client.get("/code/ana").location.endswith("/code/ana/2")
    _answer(client, "ana", 2, "0:3")
    assert client.get("/code/ana").location.endswith("/code/ana/finished")
    assert "All 24 units are coded" in _page(client, "/code/ana/finished")


BINARY = """
id: toy-binary
version: "1"
description: Does the turn praise or ask?
scheme: toy/{category}
mode: binary
applies_to: {roles: [teacher]}
labels:
  - {name: praise, definition: The turn praises the student.}
  - {name: question, definition: The turn asks something.}
"""


def _rubric(text: str, **changes: str):
    import yaml

    data = yaml.safe_load(text)
    data.update(changes)
    return parse_rubric(data)


def test_binary_mode_asks_yes_or_no_per_category(tmp_path: Path) -> None:
    s = _session(tmp_path, _rubric(BINARY))
    client = create_app(s).test_client()
    page = _page(client, "/code/ana/1")
    assert page.count('data-yn="y"') == 2 and "mode-binary" in page
    assert _answer(client, "ana", 1, "0:0").location.endswith("/code/ana/1")  # one more to go
    assert _answer(client, "ana", 1, "1:1").location.endswith("/code/ana/2")
    assert s.store.state("ana", s.order["ana"][0]).answers == {"praise": "1", "question": "0"}


def test_multi_mode_toggles_then_saves_unticked_as_no(tmp_path: Path) -> None:
    s = _session(tmp_path, _rubric(BINARY, mode="multi"))
    client = create_app(s).test_client()
    assert _answer(client, "ana", 1, "1:0").location.endswith("/code/ana/1")
    assert s.store.state("ana", s.order["ana"][0]).status == "open"
    fields = form_fields(_page(client, "/code/ana/1"))
    assert client.post("/code/ana/1", data={**fields, "action": "done"}).location.endswith("/2")
    st = s.store.state("ana", s.order["ana"][0])
    assert (st.status, st.answers) == ("done", {"question": "1", "praise": "0"})


def test_dimensions_and_ordered_scale_modes(tmp_path: Path) -> None:
    dims = _rubric(
        BINARY,
        mode="dimensions",
        labels=[
            {"name": "tone", "definition": "Tone.", "levels": ["Offensive", "Neutral", "Kind"]},
            {"name": "help", "definition": "Helpful?", "levels": ["No", "Yes"]},
        ],
        ordered=True,
    )
    s = _session(tmp_path / "dims", dims)
    client = create_app(s).test_client()
    page = _page(client, "/code/ana/1")
    assert 'class="options scale"' in page and _buttons(page)[:3] == [
        "Offensive",
        "Neutral",
        "Kind",
    ]
    _answer(client, "ana", 1, "0:2")
    assert _answer(client, "ana", 1, "1:0").location.endswith("/code/ana/2")
    assert s.store.state("ana", s.order["ana"][0]).answers == {"tone": "Kind", "help": "No"}
    scale = _rubric(
        BINARY, mode="single", scheme="toy/quality", labels=[], scale={"min": 1, "max": 5}
    )
    s2 = _session(tmp_path / "scale", scale)
    page = _page(create_app(s2).test_client(), "/code/ana/1")
    assert page.count('data-key="') == 5 and 'class="options scale"' in page


@pytest.mark.parametrize(
    "change",
    [
        {"csrf": None},
        {"csrf": "0" * 40},
        {"csrf": "ben"},
        {"headers": {"Origin": "http://evil.example"}},
        {"headers": {"Sec-Fetch-Site": "cross-site"}},
    ],
)
def test_posts_without_the_pages_csrf_token_or_from_another_site_are_refused(
    tmp_path: Path, change: dict
) -> None:
    s = _session(tmp_path)
    app = create_app(s)
    client = app.test_client()
    fields = form_fields(_page(client, "/code/ana/1"))
    if "csrf" in change:
        if change["csrf"] is None:
            del fields["csrf"]
        elif change["csrf"] == "ben":  # a token valid for another coder
            fields["csrf"] = form_fields(_page(client, "/code/ben/1"))["csrf"]
        else:
            fields["csrf"] = change["csrf"]
    resp = client.post(
        "/code/ana/1", data={**fields, "answer": "0:0"}, headers=change.get("headers", {})
    )
    assert resp.status_code == 403
    assert s.store.progress("ana") == (0, 24) and s.store.done_answers() == []


def test_state_changes_need_post(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    fields = form_fields(_page(client, "/code/ana/1"))
    assert client.get("/code/ana/1", query_string={**fields, "answer": "0:0"}).status_code == 200
    assert s.store.done_answers() == []


def test_tokens_when_bound_beyond_loopback(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s, token_required=True).test_client()
    tok = s.tokens
    for url in (
        "/",
        "/code/ana",
        "/code/ana/1",
        "/adjudicate",
        "/static/app.js",
        "/nope",
        "/code/x",
    ):
        assert client.get(url).status_code == 403, url
    assert client.get("/code/ana/1", query_string={"t": tok["ben"]}).status_code == 403
    assert client.get("/", query_string={"t": tok["ana"]}).status_code == 403  # lead page
    page = _page(client, "/code/ana/1", query_string={"t": tok["ana"]})
    assert f"t={tok['ana']}" in page  # forms and assets carry the token
    assert client.get("/static/app.js", query_string={"t": tok["ana"]}).status_code == 200
    assert client.get("/", query_string={"t": tok["lead"]}).status_code == 200


def test_loopback_mode_refuses_foreign_host_headers(tmp_path: Path) -> None:
    client = create_app(_session(tmp_path)).test_client()
    assert client.get("/code/ana/1", headers={"Host": "evil.example"}).status_code == 403
    assert client.get("/code/ana/1", headers={"Host": "localhost:8750"}).status_code == 200


def test_a_stale_page_cannot_label_another_unit(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    fields = form_fields(_page(client, "/code/ana/1"))
    resp = client.post("/code/ana/2", data={**fields, "answer": "0:0"})
    assert resp.status_code == 409 and s.store.done_answers() == []
    assert client.post("/code/ana/1", data={**fields, "answer": "0:9"}).status_code == 400


def test_reopening_with_another_rubric_or_coders_is_refused(tmp_path: Path) -> None:
    _session(tmp_path).store.close()
    with pytest.raises(InputError, match="belongs to another session"):
        _session(tmp_path, coders=("ana", "cy"))
    with pytest.raises(InputError, match="rubric"):
        _session(tmp_path, _rubric(BINARY))
    with pytest.raises(InputError, match="distinct"):
        _session(tmp_path / "new", coders=("ana", "ana"))


def _code_all(client, s, coder: str, pick) -> None:
    for n, key in enumerate(s.order[coder], start=1):
        _answer(client, coder, n, f"0:{pick(key)}")


def test_adjudication_and_the_live_panel(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    labels = s.rubric.label_names
    units = s.index.keys
    disagree = set(units[:5])
    _code_all(client, s, "ana", lambda k: units.index(k) % 4)
    _code_all(client, s, "ben", lambda k: (units.index(k) + (k in disagree)) % 4)
    overview = _page(client, "/")
    assert "5 unit(s) waiting for a decision" in overview
    # Cohen's kappa by hand: 24 units, 19 agree; both coders' marginals are 6 per label
    po, pe = 19 / 24, 4 * (6 / 24) ** 2
    assert f"{(po - pe) / (1 - pe):.3f}" in overview and "cohen_kappa" in overview
    first = client.get("/adjudicate").location
    page = _page(client, first)
    assert "ana</span>: <b>" in page and "ben</span>: <b>" in page
    n_done = 0
    while "/adjudicate/" in (loc := client.get("/adjudicate").location):
        page = _page(client, loc)
        fields = form_fields(page)
        key = ("toy", fields["unit"])
        assert key in disagree
        client.post(loc, data={**fields, "answer": "0:3"})
        n_done += 1
    assert n_done == 5
    assert s.store.adjudications() == {(k, ""): (labels[3], "lead") for k in disagree}


def _waiting(overview: str) -> int:
    """The number of units the overview says are waiting for adjudication."""
    m = re.search(r"(\d+) unit\(s\)", overview)
    assert m, overview
    return int(m.group(1))


def _pos(s, coder: str, key) -> int:
    return s.order[coder].index(key) + 1


def test_a_decision_reopens_when_a_coder_changes_a_label_it_decided_between(
    tmp_path: Path,
) -> None:
    from toolkit.app.export import export_labels

    s = _session(tmp_path)
    client = create_app(s).test_client()
    pick = {lab: f"0:{i}" for i, lab in enumerate(s.rubric.label_names)}
    x = s.order["ana"][0]
    _answer(client, "ana", _pos(s, "ana", x), pick["focus"])
    _answer(client, "ben", _pos(s, "ben", x), pick["probing"])
    assert _waiting(_page(client, "/")) == 1
    loc = client.get("/adjudicate").location
    client.post(loc, data={**form_fields(_page(client, loc)), "answer": pick["telling"]})
    assert _waiting(_page(client, "/")) == 0
    _answer(client, "ana", _pos(s, "ana", x), pick["probing"])  # ana changes her mind
    assert _waiting(_page(client, "/")) == 1  # the decision no longer decides anything
    res = export_labels(small_corpus(), s.store, s.rubric)
    gold = res.corpus.annotations
    gold = gold[(gold["rater"] == "adjudicated") & (gold["unit_id"] == x[1])]
    assert [m["basis"] for m in gold["meta"]] == []  # not gold until the lead decides again
    assert [d.unit_id for d in res.undecided] == [x[1]]
    # the lead sees the coders' labels now and the earlier decision; deciding again closes it
    loc = client.get("/adjudicate").location
    page = _page(client, loc)
    assert "ana</span>: <b>probing" in page and "ben</span>: <b>probing" in page
    assert "telling" in page and "changed" in page
    client.post(loc, data={**form_fields(page), "answer": pick["probing"]})
    assert _waiting(_page(client, "/")) == 0
    gold = export_labels(small_corpus(), s.store, s.rubric).corpus.annotations
    (meta,) = gold[(gold["rater"] == "adjudicated") & (gold["unit_id"] == x[1])]["meta"]
    assert meta["basis"] == "decided" and meta["coders"] == {"ana": "probing", "ben": "probing"}


def test_a_decision_is_not_saved_when_the_labels_changed_while_the_page_was_open(
    tmp_path: Path,
) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    x = s.order["ana"][0]
    _answer(client, "ana", _pos(s, "ana", x), "0:0")
    _answer(client, "ben", _pos(s, "ben", x), "0:1")
    loc = client.get("/adjudicate").location
    fields = form_fields(_page(client, loc))  # the lead reads ana: focus, ben: probing ...
    _answer(client, "ben", _pos(s, "ben", x), "0:2")  # ... while ben changes to telling
    resp = client.post(loc, data={**fields, "answer": "0:3"})
    assert resp.status_code == 303 and s.store.adjudications() == {}
    page = _page(client, resp.location)  # the fresh page, with a one-line notice
    assert 'class="notice"' in page and "ben</span>: <b>telling" in page
    _answer(client, "ben", _pos(s, "ben", x), "0:0")  # now ben agrees with ana
    resp = client.get(loc)  # the old address: nothing to decide, not a 404
    assert resp.status_code == 303 and resp.location.endswith("/")
    resp = client.post(loc, data={**form_fields(page), "answer": "0:3"})
    assert resp.status_code == 303 and s.store.adjudications() == {}
    assert 'class="notice"' in _page(client, resp.location)  # "the coders now agree"


def test_the_leads_next_key_while_coders_work_shows_the_fresh_page(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    units = s.index.keys
    late, early = units[-1], units[0]  # disputes are listed in corpus order
    for key, (a, b) in ((late, ("0:0", "0:1")),):
        _answer(client, "ana", _pos(s, "ana", key), a)
        _answer(client, "ben", _pos(s, "ben", key), b)
    loc = client.get("/adjudicate").location
    fields = form_fields(_page(client, loc))
    assert fields["unit"] == late[1]
    # meanwhile the coders finish a unit listed before it: disagreement 1 is another unit now
    _answer(client, "ana", _pos(s, "ana", early), "0:0")
    _answer(client, "ben", _pos(s, "ben", early), "0:2")
    resp = client.post(loc, data={**fields, "action": "next"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert _page(client, resp.location)
    resp = client.post(loc, data={**fields, "answer": "0:3"})  # the lead's key on the old page
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert s.store.adjudications() == {(late, ""): ("generic", "lead")}  # what the lead saw
    page = _page(client, resp.location)
    assert form_fields(page)["unit"] == early[1]  # the one still waiting


@pytest.mark.parametrize(
    "answer",
    ["0:²", "²:0", "0:" + "9" * 5000, "0:-1", "0:1:2", " 0:1"],
    ids=["superscript", "superscript-question", "5000-digits", "negative", "three", "space"],
)
def test_a_malformed_answer_is_a_400_with_a_message(tmp_path: Path, answer: str) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    resp = _answer(client, "ana", 1, answer)
    assert resp.status_code == 400
    assert "not an answer of this page" in resp.get_data(as_text=True)
    _answer(client, "ana", 1, "0:0")
    _answer(client, "ben", _pos(s, "ben", s.order["ana"][0]), "0:1")
    loc = client.get("/adjudicate").location
    resp = client.post(loc, data={**form_fields(_page(client, loc)), "answer": answer})
    assert resp.status_code == 400 and s.store.adjudications() == {}


def test_the_finished_page_counts_from_the_store(tmp_path: Path) -> None:
    s = _session(tmp_path)
    client = create_app(s).test_client()
    _answer(client, "ana", 1, "0:0")
    page = _page(client, "/code/ana/finished")
    assert "All 24 units are coded" not in page
    assert "1 of 24 units" in page and "/code/ana/2" in page  # where to continue


def test_the_store_is_private_to_its_owner(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)  # the usual umask, under which files are created world-readable
    try:
        s = _session(tmp_path)
        s.store.acquire_writer()
        _answer(create_app(s).test_client(), "ana", 1, "0:0")
    finally:
        os.umask(old)
    path = s.store.path
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.lock")]
    modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    assert modes == {f.name: 0o600 for f in files}
    s.store.close()


def test_a_store_from_before_decisions_recorded_the_coders_labels_still_opens(
    tmp_path: Path,
) -> None:
    import sqlite3

    s = _session(tmp_path)
    x = s.order["ana"][0]
    s.store.answer("ana", x, "", "focus", questions=[""])
    s.store.answer("ben", x, "", "probing", questions=[""])
    s.store.close()
    with sqlite3.connect(s.store.path) as db:  # the adjudications table as it used to be
        db.execute("DROP TABLE adjudications")
        db.execute(
            "CREATE TABLE adjudications (corpus TEXT NOT NULL, unit_id TEXT NOT NULL, "
            "question TEXT NOT NULL, label TEXT NOT NULL, adjudicator TEXT NOT NULL, "
            "updated TEXT NOT NULL, PRIMARY KEY (corpus, unit_id, question))"
        )
        db.execute("INSERT INTO adjudications VALUES (?, ?, '', 'telling', 'lead', 'then')", x)
    again = _session(tmp_path)
    (decision,) = again.store.decisions().values()
    assert decision.coders is None and decision.holds({"ana": "focus", "ben": "probing"})
    assert _waiting(_page(create_app(again).test_client(), "/")) == 0
    assert again.store.adjudicate(x, "", "probing", "lead", seen={"": {"ana": "focus"}}) is False
    assert again.store.adjudicate(x, "", "probing", "lead")
    assert again.store.decisions()[(x, "")].coders == {"ana": "focus", "ben": "probing"}
