"""The local coding web app (``edudial code serve``): blind double-coding and adjudication.

Coders see one unit at a time with its dialogue context, answer with buttons or number keys, and
every answer is committed to a SQLite store (WAL) at once. The lead sees progress, live agreement
on the overlap and the adjudication pages. Labels leave the app as ordinary annotation rows
(:func:`toolkit.app.export.export_labels`), the same rows the workbook path writes. See
``docs/human-coding.md``.

This is the top layer of edudial: it may import ``annotation`` and ``eval``.
"""

from toolkit.app.questions import Option, Question, questions
from toolkit.app.security import Guard, is_loopback
from toolkit.app.server import create_app
from toolkit.app.session import CodingSession, SessionOptions, assign_units, open_session
from toolkit.app.store import Answer, Store, StoreInfo, UnitState
from toolkit.app.units import UnitIndex

__all__ = [
    "Answer",
    "CodingSession",
    "Guard",
    "Option",
    "Question",
    "SessionOptions",
    "Store",
    "StoreInfo",
    "UnitIndex",
    "UnitState",
    "assign_units",
    "create_app",
    "is_loopback",
    "open_session",
    "questions",
]
