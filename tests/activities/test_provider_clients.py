"""The worker's provider clients: one per settings, reused across steps and runs (and so is its
connection), built once and off the event loop, a new one when the settings change, the least
recently used closed beyond the bound, all closed with the pool."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from temporalio.testing import ActivityEnvironment

from activities.llm.activity import LlmActivities
from activities.llm.clients import ClientKey, ProviderClients
from activities.llm.registry import ProviderSettings, SdkClient, new_client
from config_store.db import make_engine, make_session_factory
from config_store.transcript import TranscriptStore
from tests.fakes.provider_server import FakeProviderServer
from tests.support.llm import API_KEY, anthropic_spec, openai_spec, request
from tests.support.provider import ClientBuilds
from workflows.types import AgentSpec, LlmStepInput, ProviderSpec, TranscriptMessage

ENV = {"OPENAI_API_KEY": API_KEY, "ANTHROPIC_API_KEY": API_KEY}


@pytest.fixture
def builds(client_builds: ClientBuilds) -> ClientBuilds:
    return client_builds


@pytest.fixture
def store(sqlite_url: str) -> Iterator[TranscriptStore]:
    engine = make_engine(sqlite_url)
    yield TranscriptStore(make_session_factory(engine))
    engine.dispose()


def provider_of(fake: FakeProviderServer, kind: str) -> ProviderSpec:
    if kind == "anthropic":
        return anthropic_spec(fake.anthropic_base_url)
    return openai_spec(fake.openai_base_url)


async def wait_closed(client: SdkClient) -> None:
    deadline = time.monotonic() + 5
    while not client.is_closed():
        assert time.monotonic() < deadline, "the client was not closed"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_steps_and_runs_on_one_provider_share_one_client_and_connection(
    kind: str, fake_provider: FakeProviderServer, store: TranscriptStore, builds: ClientBuilds
) -> None:
    pool = ProviderClients()
    llm = LlmActivities(store, env=ENV, clients=pool)
    agent = AgentSpec(name="a", version=1, provider=provider_of(fake_provider, kind), model="m")
    env = ActivityEnvironment()
    for run_id in ("run-1", "run-2"):
        first = LlmStepInput(
            run_id=run_id,
            seq=1,
            step=1,
            agent=agent,
            prelude=(TranscriptMessage(role="user", text="hi"),),
        )
        second = replace(
            first, seq=3, step=2, prelude=(TranscriptMessage(role="user", text="and?"),)
        )
        assert (await env.run(llm.llm_step, first)).text
        assert (await env.run(llm.llm_step, second)).text

    assert len(fake_provider.requests) == 4
    assert len(builds.clients) == 1 and len(pool) == 1
    assert fake_provider.connections == 1  # keep-alive: no new connection per step or run
    client = builds.clients[0]
    assert not client.is_closed()  # a step does not close the pooled client
    await pool.close()
    assert client.is_closed()


async def test_a_changed_base_url_key_or_header_gets_a_new_client(
    fake_provider: FakeProviderServer, builds: ClientBuilds
) -> None:
    pool = ProviderClients()
    spec = openai_spec(fake_provider.openai_base_url)
    moved = FakeProviderServer()
    moved.start()
    other_key = {**ENV, "OPENAI_API_KEY": "sk-test-OTHER-key"}
    with_header = replace(spec, headers={"X-Team": "${TEAM}"})
    variants = [
        (spec, ENV),
        (spec, ENV),  # the same settings: the same client
        (replace(spec, base_url=moved.openai_base_url), ENV),
        (spec, other_key),
        (replace(spec, timeout_s=5), ENV),
        (with_header, {**ENV, "TEAM": "red"}),
        (with_header, {**ENV, "TEAM": "blue"}),
        (replace(spec, name="renamed"), ENV),  # the name is not the client's business
    ]
    try:
        for variant, env in variants:
            async with pool.provider(variant, env) as provider:
                await provider.complete(request(variant))
    finally:
        moved.stop()

    assert len(builds.clients) == 6 and len(pool) == 6
    assert len({id(c) for c in builds.clients}) == 6
    assert len(moved.requests) == 1
    sent = [(r.headers["authorization"], r.headers.get("x-team")) for r in fake_provider.requests]
    assert sent[2] == ("Bearer sk-test-OTHER-key", None)
    assert sent[4][1] == "red" and sent[5][1] == "blue"
    await pool.close()
    assert all(c.is_closed() for c in builds.clients)


def test_the_key_of_a_client_holds_no_secret() -> None:
    spec = openai_spec("http://127.0.0.1:1/v1")
    settings = ProviderSettings(
        api_key=API_KEY, headers={"X-Token": "header-SECRET-42"}, secrets=("header-SECRET-42",)
    )
    key = ClientKey.of(spec, settings)
    assert API_KEY not in repr(key) and "header-SECRET-42" not in repr(key)
    assert API_KEY not in repr(settings)
    assert key == ClientKey.of(spec, replace(settings, secrets=()))
    assert key != ClientKey.of(spec, replace(settings, headers={"X-Token": "another"}))


async def test_the_least_recently_used_client_is_closed_beyond_the_bound(
    fake_provider: FakeProviderServer, builds: ClientBuilds
) -> None:
    pool = ProviderClients(max_size=2)
    a, b, c = (openai_spec(fake_provider.openai_base_url, kind="openai") for _ in range(3))
    b = replace(b, timeout_s=30)
    c = replace(c, timeout_s=20)
    for spec in (a, b, a, c):  # a was used after b: b is the least recently used when c comes
        async with pool.provider(spec, ENV):
            pass
    client_a, client_b, client_c = builds.clients
    await wait_closed(client_b)
    assert len(pool) == 2 and not client_a.is_closed() and not client_c.is_closed()
    await pool.close()
    assert client_a.is_closed() and client_c.is_closed()


async def test_an_evicted_client_stays_open_until_its_step_is_done(
    fake_provider: FakeProviderServer, builds: ClientBuilds
) -> None:
    pool = ProviderClients(max_size=1)
    first = openai_spec(fake_provider.openai_base_url)
    second = replace(first, timeout_s=30)
    async with pool.provider(first, ENV) as provider:
        async with pool.provider(second, ENV):  # evicts the first, which is in use
            pass
        await asyncio.sleep(0.05)
        assert not builds.clients[0].is_closed()
        await provider.complete(request(first))  # still works
    await wait_closed(builds.clients[0])
    assert not builds.clients[1].is_closed()
    await pool.close()


async def test_concurrent_first_uses_build_one_client_off_the_event_loop(
    fake_provider: FakeProviderServer, builds: ClientBuilds
) -> None:
    pool = ProviderClients()
    spec = anthropic_spec(fake_provider.anthropic_base_url)

    async def step() -> str:
        async with pool.provider(spec, ENV) as provider:
            return (await provider.complete(request(spec))).text

    answers = await asyncio.gather(*(step() for _ in range(8)))
    assert len(answers) == 8 and all(answers)
    assert len(builds.clients) == 1
    assert builds.threads[0] != threading.get_ident()  # built in a thread, not on the loop
    await pool.close()


async def test_a_failed_build_is_tried_again_and_a_closed_pool_lends_nothing() -> None:
    pool = ProviderClients()
    spec = openai_spec("http://127.0.0.1:1/v1")
    settings = ProviderSettings(api_key=API_KEY, headers={})
    key = ClientKey.of(spec, settings)
    attempts: list[int] = []

    def flaky() -> SdkClient:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("no CA bundle")
        return new_client(spec, settings)

    with pytest.raises(OSError, match="no CA bundle"):
        async with pool.lease(key, flaky):
            pass
    assert len(pool) == 0
    async with pool.lease(key, flaky) as client:
        assert not client.is_closed()
    assert len(attempts) == 2
    await pool.close()
    assert client.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        async with pool.lease(key, flaky):
            pass


async def test_a_scripted_provider_needs_no_client(builds: ClientBuilds) -> None:
    pool = ProviderClients()
    async with pool.provider(ProviderSpec(name="s", kind="scripted"), {}) as provider:
        assert provider is not None
    assert len(pool) == 0 and not builds.clients


async def test_a_step_cancelled_during_the_build_does_not_cancel_it_for_the_others() -> None:
    pool = ProviderClients()
    spec = openai_spec("http://127.0.0.1:1/v1")
    settings = ProviderSettings(api_key=API_KEY, headers={})
    key = ClientKey.of(spec, settings)
    builds: list[int] = []

    def slow() -> SdkClient:
        builds.append(1)
        time.sleep(0.2)
        return new_client(spec, settings)

    async def use() -> SdkClient:
        async with pool.lease(key, slow) as client:
            return client

    cancelled = asyncio.create_task(use())
    waiting = asyncio.create_task(use())
    await asyncio.sleep(0.05)
    cancelled.cancel()
    client = await waiting
    assert cancelled.cancelled() and not client.is_closed() and builds == [1]
    await pool.close()
    assert client.is_closed()
