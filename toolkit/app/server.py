"""The Flask application: coding pages, adjudication pages and the overview with the live panel.

Pages are rendered on the server (Jinja2, autoescaped); every state change is an HTML form POST
that is committed to the store before the browser is redirected (POST-redirect-GET), so reloading
never repeats an answer and the next page always shows what is stored. A few lines of plain
JavaScript (``static/app.js``) map keys to the page's buttons; the pages work without it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from toolkit.app.questions import Question
from toolkit.app.review import Dispute, PanelRow, disputes, labels_digest, panel
from toolkit.app.security import Guard
from toolkit.app.session import CodingSession
from toolkit.app.units import UnitKey

__all__ = ["create_app"]

_HERE = Path(__file__).parent
#: number keys of the options of one question, in order (then only clicks and Tab)
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)


@dataclass(frozen=True)
class _Choice:
    question: int
    option: int


#: an answer as the pages send it: question and option numbers, ASCII digits only
_CHOICE = re.compile(r"([0-9]{1,4}):([0-9]{1,4})", re.ASCII)

#: one-line notices shown above a fresh page (``?notice=...``)
NOTICES = {
    "changed": "Not saved: a coder changed a label on this unit while the page was open. "
    "This is the unit as it is now; decide again.",
    "gone": "Not saved: the coders now agree on that unit, so it needs no decision. "
    "This is the next one waiting.",
    "moved": "The list of disagreements changed while the page was open (coders are still "
    "working), so the numbers moved; this page is up to date.",
}


def _parse_choice(value: str | None, qs: list[Question]) -> _Choice:
    """``"q:o"`` (indices into the rubric's questions and options); a 400 when it is not one."""
    m = _CHOICE.fullmatch(value or "")
    if m is not None:
        qi, oi = int(m.group(1)), int(m.group(2))
        if qi < len(qs) and oi < len(qs[qi].options):
            return _Choice(qi, oi)
    shown = (value or "")[:20] + ("..." if len(value or "") > 20 else "")
    abort(
        400,
        f"{shown!r} is not an answer of this page: expected the numbers of a question and "
        "one of its options, as in 0:2 (reload the page)",
    )


class _PanelCache:
    """The live panel, recomputed only when the store changed since the last request."""

    def __init__(self, session: CodingSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._version = -1
        self._rows: list[PanelRow] = []

    def rows(self) -> list[PanelRow]:
        s = self._session
        with self._lock:
            if self._version != s.store.version:
                version = s.store.version
                schemes = {q.name: q.scheme for q in s.questions}
                self._rows = panel(s.store.done_answers(), s.rubric, schemes)
                self._version = version
            return self._rows


def _security_headers(resp: BaseResponse) -> BaseResponse:
    resp.headers["Content-Security-Policy"] = _CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # tokens live in URLs: never sent to another site; same-origin POSTs keep a real Origin
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    return resp


class _Views:
    """Route handlers bound to one session (kept in one place so each stays small)."""

    def __init__(self, session: CodingSession, guard: Guard) -> None:
        self.s = session
        self.guard = guard
        self.panel = _PanelCache(session)

    # ------------------------------------------------------------------ helpers
    def link(self, endpoint: str, who: str | None = None, **values: Any) -> str:
        """URL of ``endpoint``, carrying ``who``'s token when tokens are required."""
        if self.guard.token_required and who is not None:
            values["t"] = self.s.tokens[who]
        return url_for(endpoint, **values)

    def asset(self, filename: str, who: str) -> str:
        return self.link("static", who, filename=filename)

    def check_request(self) -> None:
        """Refuse foreign hosts, missing/wrong tokens and cross-site or forged POSTs."""
        if not self.guard.host_ok(request.host):
            abort(403, "this app only answers on the loopback address")
        who = self.identity()
        if not self.guard.allows(who, request.args.get("t")):
            abort(403, "a valid access token is required (use the URL printed at start)")
        if request.method == "POST":
            own = f"{request.scheme}://{request.host}"
            if not self.guard.same_origin(
                request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"), own
            ):
                abort(403, "cross-site request refused")
            if who is None or not self.guard.csrf_ok(who, request.form.get("csrf")):
                abort(403, "missing or wrong CSRF token (reload the page)")

    def identity(self) -> str | None:
        """Whose page is requested: a coder, the adjudicator, or ``None`` (shared assets)."""
        args = request.view_args or {}
        if "coder" in args:
            coder = str(args["coder"])
            if coder not in self.s.order:  # with tokens, even a name's existence is private
                abort(403 if self.guard.token_required else 404, "no such coder")
            return coder
        if request.endpoint == "static":
            return None
        return self.s.adjudicator

    def unit_at(self, coder: str, n: int) -> UnitKey:
        order = self.s.order[coder]
        if not 1 <= n <= len(order):
            abort(404, "no such unit")
        return order[n - 1]

    def goto(self, coder: str, n: int | None) -> BaseResponse:
        if n is None:
            return redirect(self.link("finished", coder, coder=coder), 303)
        return redirect(self.link("unit", coder, coder=coder, n=n), 303)

    def next_after(self, coder: str, n: int) -> BaseResponse:
        pos = self.s.store.next_open(coder, after=n - 1)
        return self.goto(coder, None if pos is None else pos + 1)

    # ------------------------------------------------------------------ coding
    def start(self, coder: str) -> BaseResponse:
        pos = self.s.store.next_open(coder)
        return self.goto(coder, None if pos is None else pos + 1)

    def unit(self, coder: str, n: int) -> str:
        key = self.unit_at(coder, n)
        state = self.s.store.state(coder, key)
        done, total = self.s.store.progress(coder)
        qs = self.s.questions
        active = next((i for i, q in enumerate(qs) if q.name not in state.answers), None)
        return render_template(
            "code.html",
            v=self,
            who=coder,
            coder=coder,
            n=n,
            total=total,
            done=done,
            percent=round(100 * done / total) if total else 100,
            unit=self.s.index.view(key),
            questions=qs,
            state=state,
            active=active,
            mode=self.s.rubric.mode,
            keys=KEYS,
            csrf=self.guard.csrf(coder),
            rubric=self.s.rubric,
        )

    def post_unit(self, coder: str, n: int) -> BaseResponse:
        key = self.unit_at(coder, n)
        if request.form.get("unit") != key[1] or request.form.get("corpus") != key[0]:
            abort(409, "this page is out of date: reload it")
        notes = request.form.get("notes")
        notes = None if notes is None else notes.replace("\r\n", "\n")[:10_000]
        action = request.form.get("action")
        if "answer" in request.form:
            return self.save_answer(coder, n, key, notes)
        store = self.s.store
        if action in ("back", "next"):
            if notes is not None and notes != store.state(coder, key).notes:
                store.save_notes(coder, key, notes)
            step = -1 if action == "back" else 1
            return self.goto(coder, min(max(1, n + step), len(self.s.order[coder])))
        if action == "skip":
            store.skip(coder, key, notes=notes)
            return self.next_after(coder, n)
        if action == "flag":
            store.set_flag(coder, key, not store.state(coder, key).flag, notes=notes)
            return self.goto(coder, n)
        if action == "done":
            return self.finish(coder, n, key, notes)
        if action == "notes":
            store.save_notes(coder, key, notes or "")
            if request.headers.get("X-Requested-With") == "edudial":  # saved as typed: no page
                return Response(status=204)
            return self.goto(coder, n)
        abort(400, "unknown action")

    def save_answer(self, coder: str, n: int, key: UnitKey, notes: str | None) -> BaseResponse:
        qs = self.s.questions
        choice = _parse_choice(request.form.get("answer"), qs)
        q = qs[choice.question]
        multi = self.s.rubric.mode == "multi"
        was_done = self.s.store.state(coder, key).status == "done"
        done = self.s.store.answer(
            coder,
            key,
            q.name,
            q.options[choice.option].label,
            questions=self.s.question_names,
            notes=notes,
            finish=not multi,
        )
        if multi or not done or (was_done and len(qs) > 1):
            return self.goto(coder, n)
        return self.next_after(coder, n)

    def finish(self, coder: str, n: int, key: UnitKey, notes: str | None) -> BaseResponse:
        if self.s.rubric.mode != "multi":
            return self.goto(coder, n)  # the other modes finish when every question is answered
        no = self.s.rubric.yes_no["no"]
        self.s.store.finish(coder, key, {q.name: no for q in self.s.questions}, notes=notes)
        return self.next_after(coder, n)

    def finished(self, coder: str) -> str:
        done, total = self.s.store.progress(coder)  # counted in the store, never assumed
        pos = self.s.store.next_open(coder) if done < total else None
        return render_template(
            "finished.html",
            v=self,
            who=coder,
            coder=coder,
            done=done,
            total=total,
            next_open=None if pos is None else pos + 1,
        )

    # ------------------------------------------------------------------ lead
    def overview(self) -> str:
        lead = self.s.adjudicator
        progress = [(c, *self.s.store.progress(c)) for c in self.s.coders]
        open_disputes = self.open_disputes()
        return render_template(
            "overview.html",
            v=self,
            who=lead,
            lead=lead,
            progress=progress,
            panel=self.panel.rows(),
            n_open=len(open_disputes),
            flagged=self.s.store.flagged(),
            notice=NOTICES.get(request.args.get("notice", "")),
            info=self.s.info,
            rubric=self.s.rubric,
        )

    def all_disputes(self) -> list[Dispute]:
        """Double-coded units the coders differ on, and units whose decision was reopened."""
        return disputes(
            self.s.store.done_answers(), self.s.index.keys, decisions=self.s.store.decisions()
        )

    def open_disputes(self) -> list[Dispute]:
        decided = self.s.store.decisions()
        return [d for d in self.all_disputes() if d.waiting(decided)]

    def dispute_at(self, i: int, notice: str | None = None) -> BaseResponse:
        values = {"notice": notice} if notice else {}
        return redirect(self.link("dispute", self.s.adjudicator, i=i, **values), 303)

    def adjudicate_start(self, notice: str | None = None) -> BaseResponse:
        items = self.all_disputes()
        decided = self.s.store.decisions()
        pending = [i for i, d in enumerate(items, start=1) if d.waiting(decided)]
        if pending:
            return self.dispute_at(pending[0], notice)
        values = {"notice": notice} if notice else {}
        return redirect(self.link("overview", self.s.adjudicator, **values), 303)

    def dispute(self, i: int) -> str | BaseResponse:
        items = self.all_disputes()
        if i > len(items) >= 1:  # the list got shorter since this address was made
            return self.adjudicate_start("moved")
        if not items:  # e.g. the coders now agree on the last one
            return self.adjudicate_start()
        if not 1 <= i <= len(items):
            abort(404, "no such disagreement")
        d = items[i - 1]
        decided = self.s.store.decisions()
        final = d.final(decided)
        earlier = {q: decided[(d.key, q)] for q in d.reopened}
        active = next(
            (
                j
                for j, q in enumerate(self.s.questions)
                if q.name in d.to_decide and q.name not in final
            ),
            None,
        )
        return render_template(
            "adjudicate.html",
            v=self,
            who=self.s.adjudicator,
            i=i,
            total=len(items),
            dispute=d,
            final=final,
            earlier=earlier,
            seen=labels_digest(d.labels),
            notice=NOTICES.get(request.args.get("notice", "")),
            active=active,
            unit=self.s.index.view(d.key),
            questions=self.s.questions,
            keys=KEYS,
            csrf=self.guard.csrf(self.s.adjudicator),
            lead=self.s.adjudicator,
            coders=self.s.coders,
            rubric=self.s.rubric,
        )

    def post_dispute(self, i: int) -> BaseResponse:
        """A key on an adjudication page. Coders keep working meanwhile, so the list may have
        changed since the page was sent: the unit is found by the key the page names, and a
        decision is recorded only for the coder labels the page showed."""
        key = (request.form.get("corpus", ""), request.form.get("unit", ""))
        items = self.all_disputes()
        where = next((j for j, d in enumerate(items, start=1) if d.key == key), None)
        action = request.form.get("action")
        if action in ("back", "next"):
            if not items:
                return self.adjudicate_start()
            here = where if where is not None else min(i, len(items))
            step = -1 if action == "back" else 1
            moved = "moved" if where != i else None
            return self.dispute_at(min(max(1, here + step), len(items)), moved)
        choice = _parse_choice(request.form.get("answer"), self.s.questions)
        if where is None:
            return self.adjudicate_start("gone")
        d = items[where - 1]
        q = self.s.questions[choice.question]
        if q.name not in d.to_decide:
            abort(400, f"question {q.name or 'label'!r} of this unit needs no decision")
        seen = d.labels
        if request.form.get("seen") != labels_digest(seen) or not self.s.store.adjudicate(
            d.key, q.name, q.options[choice.option].label, self.s.adjudicator, seen=seen
        ):
            return self.dispute_at(where, "changed")
        decided = self.s.store.decisions()
        items = self.all_disputes()
        now_at = next((j for j, d in enumerate(items, start=1) if d.key == key), None)
        if now_at is not None and items[now_at - 1].waiting(decided):  # another question of it
            return self.dispute_at(now_at)
        return self.adjudicate_start()


def create_app(session: CodingSession, *, token_required: bool = False) -> Flask:
    """The WSGI app of a coding session.

    Parameters
    ----------
    session : CodingSession
        From :func:`toolkit.app.session.open_session`.
    token_required : bool
        Refuse every request without the caller's token (``?t=...``); set when the server binds
        a non-loopback address.

    Examples
    --------
    >>> import tempfile, os
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.app.session import SessionOptions, open_session
    >>> from toolkit.demo import bundled_sample
    >>> store = os.path.join(tempfile.mkdtemp(), "coding.sqlite")
    >>> s = open_session(bundled_sample(), load_rubric("mathdial-moves"), store,
    ...                  SessionOptions(coders=["ana", "ben"], seed=7))
    >>> client = create_app(s).test_client()
    >>> client.get("/code/ana").status_code
    303
    """
    app = Flask(
        __name__,
        template_folder=str(_HERE / "templates"),
        static_folder=str(_HERE / "static"),
    )
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, TEMPLATES_AUTO_RELOAD=False)
    guard = Guard(session.store.secret(), session.tokens, token_required)
    views = _Views(session, guard)
    app.before_request(views.check_request)
    app.after_request(_security_headers)
    app.add_url_rule("/", "overview", views.overview)
    app.add_url_rule("/code/<coder>", "start", views.start)
    app.add_url_rule("/code/<coder>/<int:n>", "unit", views.unit)
    app.add_url_rule("/code/<coder>/<int:n>", "post_unit", views.post_unit, methods=["POST"])
    app.add_url_rule("/code/<coder>/finished", "finished", views.finished)
    app.add_url_rule("/adjudicate", "adjudicate", views.adjudicate_start)
    app.add_url_rule("/adjudicate/<int:i>", "dispute", views.dispute)
    app.add_url_rule("/adjudicate/<int:i>", "post_dispute", views.post_dispute, methods=["POST"])

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(409)
    def _error(exc: Any) -> Response:
        return Response(
            f"{exc.code} {exc.name}: {exc.description}\n", exc.code, mimetype="text/plain"
        )

    return app
