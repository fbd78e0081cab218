"""Tokens over real HTTP: a run token starts and follows a run, a stream token opens one run's
events without a header, revocation closes both, and no token shows up where it should not."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.runs import events_of
from tests.support.sse import read_events
from tests.support.temporal import serving

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def logged_api(orch_settings: Settings, worker: None) -> AsyncIterator[str]:
    """The app on a free port with uvicorn's access log on and sent to the root logger (so
    caplog sees every line it writes)."""
    async with serving(orch_settings, log_config=None, access_log=True) as url:
        yield url


async def start_demo(http: httpx.AsyncClient, token: str) -> str:
    started = await http.post(
        "/v1/runs",
        json={"agent": "demo", "input": "What is 12*7?"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    return run_id


async def test_run_and_stream_tokens_and_revocation(
    logged_api: str,
    temporal_client: Client,
    seeded: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An earlier uvicorn in this process may have configured its access logger (its own level,
    # no propagation): send this test's lines to caplog whatever it did.
    access_logger = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access_logger, "propagate", True)
    monkeypatch.setattr(access_logger, "disabled", False)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    caplog.set_level(logging.WARNING, logger="httpx")  # the test's own client logs its URLs
    caplog.set_level(logging.INFO)  # last: it sets the capturing handler's level too
    seen: list[str] = []  # response bodies, but those that hand out a token
    async with httpx.AsyncClient(base_url=logged_api, timeout=30) as http:
        made = await http.post("/v1/tokens", json={"name": "ci", "scope": "run"}, headers=AUTH)
        assert made.status_code == 201, made.text
        token, token_id = made.json()["token"], made.json()["id"]
        mine = {"Authorization": f"Bearer {token}"}

        run_id = await start_demo(http, token)
        other_run = await start_demo(http, token)
        issued = await http.post(f"/v1/runs/{run_id}/stream-token", headers=mine)
        assert issued.status_code == 201, issued.text
        stream_token = issued.json()["token"]
        events_url = issued.json()["events_url"]
        assert events_url == f"{logged_api}/v1/runs/{run_id}/events?token={stream_token}"

        # No header: the stream token alone opens this run's events, and only this run's.
        events = await read_events(http, events_url)
        assert events[-1].event == "run.completed"
        seen.append(json.dumps([e.data for e in events]))
        wrong_run = await http.get(f"/v1/runs/{other_run}/events", params={"token": stream_token})
        assert wrong_run.status_code == 401, wrong_run.text
        other_route = await http.get(f"/v1/runs/{run_id}", params={"token": stream_token})
        assert other_route.status_code == 401
        # Without any token the stream is refused before it starts.
        assert (await http.get(f"/v1/runs/{run_id}/events")).status_code == 401
        listed = await http.get("/v1/tokens", headers=AUTH)
        seen.append(listed.text)

        # Revoking the token closes it and every stream token it issued.
        assert (await http.delete(f"/v1/tokens/{token_id}", headers=AUTH)).status_code == 204
        assert (await http.get(f"/v1/runs/{run_id}", headers=mine)).status_code == 401
        revoked = await http.get(events_url)
        assert (revoked.status_code, revoked.json()["error"]) == (401, "unauthorized")
        seen.extend([revoked.text, (await http.get(f"/v1/runs/{run_id}", headers=AUTH)).text])

    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("token=[redacted]" in line for line in access), access
    for run in (run_id, other_run):
        history = (await temporal_client.get_workflow_handle(run).fetch_history()).to_json()
        seen.extend([history, json.dumps(await events_of(temporal_client, run))])
    for secret in (token, stream_token, ADMIN_TOKEN):
        assert secret not in caplog.text
        for text in seen:
            assert secret not in text
