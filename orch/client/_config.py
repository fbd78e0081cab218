"""Where the SDK finds the API and its token when it is not told."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_URL = "http://localhost:8000"
# Settings.local_token_file's default (core/settings.py): where `orch up` keeps its admin token.
LOCAL_TOKEN_FILE = Path(".orch/admin-token")
# Next to it, `orch up` writes the URL its API listens on (one line).
API_URL_NAME = "api-url"


def _read(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return text or None


def local_token_file() -> Path:
    """LOCAL_TOKEN_FILE as `orch up` reads it (the setting), else its default."""
    configured = os.environ.get("LOCAL_TOKEN_FILE")
    return Path(configured) if configured else LOCAL_TOKEN_FILE


def default_url() -> str:
    """ORCH_URL, else the URL `orch up` wrote next to its token file, else localhost:8000."""
    url = os.environ.get("ORCH_URL") or _read(local_token_file().parent / API_URL_NAME)
    return (url or DEFAULT_URL).rstrip("/")


def default_token() -> str | None:
    """ORCH_TOKEN, else the admin token `orch up` keeps (LOCAL_TOKEN_FILE), else None."""
    return os.environ.get("ORCH_TOKEN") or _read(local_token_file())
