"""What `orch up` prints when it is ready: the sign-in link carries the token in its fragment."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.settings import Settings
from orch.serve import ready_lines

TOKEN = "orch_5f0c2a9e1b_secretsecretsecret"


def test_the_web_app_link_signs_the_local_admin_in() -> None:
    lines = ready_lines(Settings(api_port=8123), TOKEN)
    (link,) = [line.split()[-1] for line in lines if line.startswith("Web app")]
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost:8123", "/ui/sign-in")
    # In the fragment, which a browser does not send: the token stays out of access logs.
    assert parts.query == "" and parts.fragment == f"token={TOKEN}"
    assert sum(TOKEN in line for line in lines) == 1
    assert lines[-1] == "Ready. Ctrl-C stops everything."


def test_a_specific_bind_address_is_in_the_link() -> None:
    lines = ready_lines(Settings(api_host="10.0.0.5", api_port=9000), TOKEN)
    assert f"Web app          http://10.0.0.5:9000/ui/sign-in#token={TOKEN}" in lines


def test_without_a_local_token_the_link_has_none() -> None:
    lines = ready_lines(Settings(orch_admin_token="x" * 32), None)
    assert "Web app          http://localhost:8000/ui/" in lines
    off = ready_lines(Settings(api_auth="off"), None)
    assert any(line.startswith("Auth             off") for line in off)
