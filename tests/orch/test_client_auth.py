"""Where the SDK finds the API and its token, and what it says when it has none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from orch.client import AsyncOrch, Orch, OrchApiError, OrchConnectionError
from orch.client._config import DEFAULT_URL
from tests.support.auth import ADMIN_TOKEN
from tests.support.temporal import free_port

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ORCH_URL, ORCH_TOKEN or LOCAL_TOKEN_FILE, in an empty folder; the folder."""
    for name in ("ORCH_URL", "ORCH_TOKEN", "LOCAL_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _whoami() -> tuple[str, str, str]:
    with Orch() as orch:
        me = orch.whoami()
        return orch.url, me.token_id, me.scope


async def test_with_nothing_given_it_is_localhost_and_no_token(bare: Path) -> None:
    with Orch() as orch:
        assert orch.url == DEFAULT_URL and orch.token is None


async def test_orch_url_and_orch_token_from_the_environment(
    api_url: str, bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The files orch up writes lose to the environment.
    (bare / ".orch").mkdir()
    (bare / ".orch" / "api-url").write_text(f"http://127.0.0.1:{free_port()}\n")
    (bare / ".orch" / "admin-token").write_text("orch_not_this_one\n")
    monkeypatch.setenv("ORCH_URL", api_url + "/")
    monkeypatch.setenv("ORCH_TOKEN", ADMIN_TOKEN)
    url, token_id, scope = await asyncio.to_thread(_whoami)
    assert (url, token_id, scope) == (api_url, "env", "admin")


async def test_the_url_and_token_orch_up_wrote_in_dot_orch(api_url: str, bare: Path) -> None:
    (bare / ".orch").mkdir(mode=0o700)
    (bare / ".orch" / "api-url").write_text(api_url + "\n")
    (bare / ".orch" / "admin-token").write_text(ADMIN_TOKEN + "\n")
    assert await asyncio.to_thread(_whoami) == (api_url, "env", "admin")
    async with AsyncOrch() as orch:
        assert orch.url == api_url and (await orch.whoami()).token_id == "env"


async def test_local_token_file_moves_both_files(
    api_url: str, bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (bare / "state").mkdir()
    (bare / "state" / "api-url").write_text(api_url)
    (bare / "state" / "token").write_text(ADMIN_TOKEN)
    monkeypatch.setenv("LOCAL_TOKEN_FILE", str(bare / "state" / "token"))
    assert await asyncio.to_thread(_whoami) == (api_url, "env", "admin")


async def test_no_token_is_a_401_that_says_how_to_get_one(api_url: str, bare: Path) -> None:
    async with AsyncOrch(api_url) as orch:
        assert orch.token is None
        with pytest.raises(OrchApiError) as refused:
            await orch.list_runs()
    err = refused.value
    assert err.status == 401 and err.code == "unauthorized"
    assert "ORCH_TOKEN" in str(err) and "orch up" in str(err)
    async with AsyncOrch(api_url, "orch_wrong_token") as orch:
        with pytest.raises(OrchApiError) as wrong:
            await orch.whoami()
    assert wrong.value.status == 401 and "ORCH_TOKEN" not in str(wrong.value)
    # The events stream too: refused at once, not retried.
    async with AsyncOrch(api_url) as orch:
        with pytest.raises(OrchApiError) as stream:
            async with asyncio.timeout(10):
                [e async for e in orch.events("run-x")]
    assert stream.value.status == 401


async def test_an_api_nobody_answers_is_a_connection_error_naming_it(bare: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Orch(url, "t") as orch, pytest.raises(OrchConnectionError) as sync_err:
        orch.get_run("run-x")
    assert url in str(sync_err.value) and sync_err.value.url == url
    async with AsyncOrch(url, "t") as aorch:
        with pytest.raises(OrchConnectionError) as async_err:
            await aorch.start_run("demo", "hi")
    assert url in str(async_err.value)


async def test_tokens_made_and_revoked_through_the_sdk(api_url: str) -> None:
    async with AsyncOrch(api_url, ADMIN_TOKEN) as admin:
        made = await admin.create_token("sdk-reader", "read")
        assert made.scope == "read" and made.token
        async with AsyncOrch(api_url, made.token) as reader:
            me = await reader.whoami()
            assert (me.token_id, me.scope) == (made.id, "read")
            with pytest.raises(OrchApiError) as scope:
                await reader.start_run("demo", "hi")
            assert scope.value.status == 403 and scope.value.code == "insufficient_scope"
            assert made.id in [t.id for t in await admin.list_tokens()]
            await admin.revoke_token(made.id)
            with pytest.raises(OrchApiError) as revoked:
                await reader.whoami()
            assert revoked.value.status == 401
