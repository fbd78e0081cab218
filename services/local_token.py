"""The local admin token of `orch up`: made on first start, kept in a file only its owner reads.

When ORCH_ADMIN_TOKEN is not set and auth is on, `orch up` needs a token to print for the person
at the terminal. It keeps one in LOCAL_TOKEN_FILE (default `.orch/admin-token`, mode 0600, in a
0700 folder) and makes a new one (an `api_tokens` row named `local-admin`) when the file is
missing or its token no longer works (a fresh database, or revoked).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from config_store.tokens import create_token, find_active

LOCAL_TOKEN_NAME = "local-admin"


def read_local_token(path: Path) -> str | None:
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        return None
    return token or None


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, replacing it in one step."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(partial, 0o600)  # whatever the umask or an earlier file said
    os.replace(partial, path)


def ensure_local_admin(factory: sessionmaker[Session], path: Path) -> tuple[str, bool]:
    """The local admin token, and whether it was made just now."""
    token = read_local_token(path)
    with factory() as session:
        if token is not None and find_active(session, token) is not None:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return token, False
        made = create_token(session, LOCAL_TOKEN_NAME, "admin")
        _write_private(path, made.token)
        session.commit()  # after the file: a token nobody has is never kept
        return made.token, True
