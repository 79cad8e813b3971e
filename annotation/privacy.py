"""Before any text leaves the machine: is the corpus de-identified, is the endpoint local?

Classroom transcripts name children. A run that sends a corpus which is not de-identified
(``toolkit.deid.is_deidentified``) to an endpoint that is not on the loopback interface warns
once, naming ``edudial deid``; with ``require_deid`` it is an error raised before anything is
sent or written. The manifest records ``deidentified`` either way.
"""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from toolkit.deid import is_deidentified
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["DeidCheck", "check_deid", "deid_check", "is_loopback"]

#: Endpoint ids of local backends that never leave the machine (annotation.local).
LOCAL_SCHEMES = ("local",)


def is_loopback(endpoint: str) -> bool:
    """Whether ``endpoint`` (a base URL or endpoint id) is on this machine's loopback interface.

    Examples
    --------
    >>> is_loopback("http://127.0.0.1:8766/v1"), is_loopback("http://localhost:8000/v1")
    (True, True)
    >>> is_loopback("http://[::1]:8000/v1"), is_loopback("https://api.openai.com/v1")
    (True, False)
    >>> is_loopback("http://10.0.0.5:8000/v1"), is_loopback("local://llama-cpp/x.gguf@ab")
    (False, True)
    """
    parts = urlsplit(endpoint)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_deidentified(corpus: Corpus) -> bool:
    return bool(is_deidentified(corpus))


@dataclass(frozen=True)
class DeidCheck:
    """The decision for one run: ``deidentified`` corpus, ``loopback`` endpoint."""

    deidentified: bool
    loopback: bool
    endpoint: str

    @property
    def warn(self) -> bool:
        """True when names could leave the machine."""
        return not self.deidentified and not self.loopback

    @property
    def message(self) -> str:
        return (
            f"the corpus is not de-identified and {self.endpoint} is not on this machine: "
            "student and teacher names in the text will be sent; run `edudial deid CORPUS "
            "-o OUT` first (or pass --require-deid to refuse such runs)"
        )


def deid_check(corpus: Corpus, endpoint: str) -> DeidCheck:
    """Decide whether sending ``corpus`` to ``endpoint`` needs a warning (no side effect).

    Examples
    --------
    >>> from toolkit.demo import bundled_sample  # doctest: +SKIP
    >>> deid_check(bundled_sample(), "http://127.0.0.1:8000/v1").warn  # doctest: +SKIP
    False
    """
    return DeidCheck(_is_deidentified(corpus), is_loopback(endpoint), endpoint)


def check_deid(
    corpus: Corpus,
    endpoint: str,
    *,
    require: bool,
    warn: Callable[[str], None] | None = None,
) -> bool:
    """Warn once (or with ``require`` raise :class:`InputError`) before sending; return
    whether the corpus is de-identified (for the manifest)."""
    check = deid_check(corpus, endpoint)
    if check.warn and require:
        raise InputError(
            f"--require-deid: the corpus is not de-identified and {endpoint} is not on this "
            "machine; nothing was sent. Run `edudial deid CORPUS -o OUT` and annotate OUT",
            field="require_deid",
        )
    if check.warn:
        if warn is None:
            warnings.warn(check.message, UserWarning, stacklevel=3)
        else:
            warn(check.message)
    return check.deidentified
