"""Who may call the app, and proof that a POST came from the app's own page.

* Loopback (the default): no token; the ``Host`` header must name the loopback interface, so a
  web page elsewhere cannot reach the app through DNS rebinding.
* Any other address (a lab network): every request needs the caller's token in the URL
  (``?t=...``, printed at start): a coder's token opens only that coder's pages, the adjudicator's
  token the overview and adjudication pages. Without it every request is refused.
* Every state change is a POST carrying a CSRF token derived from the store's secret and the
  caller; a cross-site ``Origin`` or ``Sec-Fetch-Site`` is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Guard", "is_loopback"]

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address to bind) is the loopback interface only.

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    """``127.0.0.1:5000`` -> ``127.0.0.1``; ``[::1]:5000`` -> ``::1``."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


@dataclass(frozen=True)
class Guard:
    """The access rules of one running app.

    Examples
    --------
    >>> g = Guard(secret="s", tokens={"ana": "tok"}, token_required=True)
    >>> g.allows("ana", "tok"), g.allows("ana", "nope"), g.allows("ana", None)
    (True, False, False)
    >>> g.csrf("ana") == g.csrf("ana") != g.csrf("ben")
    True
    """

    secret: str
    tokens: Mapping[str, str]
    token_required: bool

    def allows(self, who: str | None, token: str | None) -> bool:
        """Whether a request for ``who``'s pages carrying ``token`` may proceed."""
        if not self.token_required:
            return True
        if token is None:
            return False
        if who is None:  # shared assets: any valid token
            return any(hmac.compare_digest(token, t) for t in self.tokens.values())
        want = self.tokens.get(who)
        return want is not None and hmac.compare_digest(token, want)

    def host_ok(self, host_header: str) -> bool:
        """Loopback mode accepts only loopback names in ``Host`` (DNS-rebinding defence)."""
        return self.token_required or is_loopback(_hostname(host_header))

    def csrf(self, who: str) -> str:
        """The CSRF token of ``who``'s forms."""
        mac = hmac.new(self.secret.encode(), f"csrf/{who}".encode(), hashlib.sha256)
        return mac.hexdigest()[:40]

    def csrf_ok(self, who: str, sent: str | None) -> bool:
        """Whether ``sent`` is ``who``'s CSRF token."""
        return sent is not None and hmac.compare_digest(sent, self.csrf(who))

    @staticmethod
    def same_origin(origin: str | None, fetch_site: str | None, own_origin: str) -> bool:
        """Browsers send ``Origin`` and ``Sec-Fetch-Site`` on POSTs; both must be ours.

        An opaque ``Origin: null`` is accepted only when the browser vouches for the same origin.

        >>> Guard.same_origin("http://evil.example", None, "http://127.0.0.1:8750")
        False
        >>> Guard.same_origin("null", "same-origin", "http://127.0.0.1:8750")
        True
        """
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return False
        if origin == "null":
            return fetch_site == "same-origin"
        return origin is None or origin == own_origin
