"""Writing output files atomically, with the permissions their content calls for.

Shareable outputs (reports, run manifests, annotation rows, corpora) are created like any file the
user writes: mode 0666 less the user's umask (0644 with the usual 022, 0660 or 0600 where the lab
set a stricter one). Secrets (the name -> pseudonym map of ``edudial deid --keep-map``, tokens)
are created 0600 whatever the umask. ``tempfile.mkstemp`` creates every file 0600, so a file
written through it and renamed into place would be owner-only however shareable it is: use
:func:`open_temp` instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["PRIVATE", "SHARED", "open_temp", "temp_dir", "write_text_atomic"]

#: Mode of secrets: owner read and write only, whatever the umask.
PRIVATE = 0o600
#: Mode asked for shareable files; the kernel takes the umask off.
SHARED = 0o666

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def open_temp(
    directory: str | os.PathLike[str], prefix: str, *, private: bool = False, suffix: str = ".tmp"
) -> tuple[int, str]:
    """Create a new, uniquely named file in ``directory``: ``(descriptor, path)`` as ``mkstemp``.

    The file is 0600 when ``private``, else 0666 less the umask.

    Examples
    --------
    >>> import tempfile
    >>> fd, name = open_temp(tempfile.mkdtemp(), ".report.", private=True)
    >>> oct(os.stat(name).st_mode & 0o777), os.close(fd)
    ('0o600', None)
    """
    for _ in range(100):
        name = os.path.join(os.fspath(directory), f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            fd = os.open(name, _FLAGS, PRIVATE if private else SHARED)
        except FileExistsError:
            continue
        if private:  # an ACL default could have widened it
            os.chmod(name, PRIVATE)
        return fd, name
    raise FileExistsError(f"no free temporary name in {directory}")  # pragma: no cover


def temp_dir(parent: str | os.PathLike[str], prefix: str, *, private: bool = False) -> Path:
    """Create a new, uniquely named folder in ``parent`` (to be renamed into place when full).

    0777 less the umask, unlike ``tempfile.mkdtemp`` (always 0700); 0700 when ``private``.

    Examples
    --------
    >>> import tempfile
    >>> folder = temp_dir(tempfile.mkdtemp(), ".corpus.", private=True)
    >>> oct(os.stat(folder).st_mode & 0o777)
    '0o700'
    """
    for _ in range(100):
        name = Path(parent) / f"{prefix}{secrets.token_hex(6)}"
        try:
            name.mkdir(mode=0o700 if private else 0o777)
        except FileExistsError:
            continue
        return name
    raise FileExistsError(f"no free temporary name in {parent}")  # pragma: no cover


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, private: bool = False, newline: str | None = "\n"
) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file renamed into place.

    ``path`` is never half-written; ``private`` makes it 0600 (see the module docstring).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = open_temp(target.parent, f".{target.name}.", private=private)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
