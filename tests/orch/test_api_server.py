"""The API's uvicorn parses HTTP with httptools (C), not the pure-Python h11 (orch/serve.py)."""

from __future__ import annotations

from pathlib import Path

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import Settings
from orch.serve import _api_server


def test_the_api_parses_requests_with_httptools(tmp_path: Path) -> None:
    server = _api_server(Settings(database_url=f"sqlite:///{tmp_path}/orch.db", log_file=None))
    server.config.load()
    assert server.config.http_protocol_class is HttpToolsProtocol
