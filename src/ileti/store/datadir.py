"""The installation's data directory, and the private files it keeps there (the secret key
file, the demo key): each written whole, readable by its owner only.

It is ``ILETI_DATA_DIR`` when set; else the directory of the SQLite file the database URL
names (``ileti-data/`` by default); else, on PostgreSQL, ``ileti-data/`` in the working
directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_DATA_DIR = Path("ileti-data")


def data_directory(database_url: str, configured: Path | None = None) -> Path:
    """Where the installation keeps its files: ``ILETI_DATA_DIR``, else the SQLite file's
    directory, else ``ileti-data`` in the working directory."""
    if configured is not None:
        return configured
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).parent
    return DEFAULT_DATA_DIR


def read_private(path: Path) -> str | None:
    """What ``path`` holds, or None when there is no such file."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def keep_private(path: Path, make: str) -> str:
    """What ``path`` holds; ``make`` if there was no such file, which now holds it. Another
    process making it at the same moment: the first one's stays, and both read it."""
    kept = read_private(path)
    if kept is not None:
        return kept
    partial = _written(path, make)
    try:
        # A link is made whole or not at all, and never over an existing file.
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path.read_text().strip()


def replace_private(path: Path, text: str) -> None:
    """``path`` now holds ``text``, whatever it held."""
    os.replace(_written(path, text), path)


def _written(path: Path, text: str) -> Path:
    """A file of its own beside ``path`` holding ``text``, on disk, with mode 0600 (the
    directory made with 0700 if need be)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    return partial
