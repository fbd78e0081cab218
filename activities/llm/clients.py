"""The worker's provider SDK clients: one per client settings, shared by every step and run.

Building an `AsyncOpenAI` / `AsyncAnthropic` client costs about 18 ms of blocking work (its HTTP
client sets up a TLS context), and a client per step would also open a new connection to the
provider per step. So the worker keeps its clients in a `ProviderClients` pool:

- keyed by what the constructor takes (`ClientKey`): the provider kind, base URL and timeout,
  and a SHA-256 digest of the API key and the resolved headers (the key holds no secret, and a
  changed key or header gives another client);
- the first use of a key builds its client in a thread (`asyncio.to_thread`), never on the event
  loop; concurrent first uses of one key wait for the same build;
- at most `max_size` clients (least recently used first out): an evicted client is closed once
  the steps using it are done;
- closed when the worker stops (`worker_plugin()`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from activities.llm.base import ModelProvider
from activities.llm.registry import (
    ProviderSettings,
    SdkClient,
    new_client,
    provider_for,
    provider_settings,
)
from activities.llm.scripted import ScriptedProvider
from activities.worker_owned import ClosedWithWorker
from workflows.types import ProviderSpec

log = logging.getLogger(__name__)

DEFAULT_MAX_CLIENTS = 64


@dataclass(frozen=True)
class ClientKey:
    """What makes two SDK clients differ. `credentials` is a digest, never a secret."""

    kind: str
    base_url: str | None
    timeout_s: float
    credentials: str  # SHA-256 of the API key and the resolved headers

    @classmethod
    def of(cls, spec: ProviderSpec, settings: ProviderSettings) -> ClientKey:
        material = json.dumps([settings.api_key, sorted(settings.headers.items())])
        return cls(
            kind=spec.kind,
            base_url=spec.base_url,
            timeout_s=spec.timeout_s,
            credentials=hashlib.sha256(material.encode()).hexdigest(),
        )


class _Entry:
    """One client: its build (in a thread), how many steps hold it, whether it left the pool."""

    def __init__(self, build: asyncio.Task[SdkClient]) -> None:
        self.build = build
        self.leases = 0
        self.evicted = False
        self.retired = False  # its close is under way


class ProviderClients(ClosedWithWorker):
    """A pool of provider SDK clients, for one worker (one event loop)."""

    plugin_name = "orch.provider_clients"

    def __init__(self, max_size: int = DEFAULT_MAX_CLIENTS) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._entries: OrderedDict[ClientKey, _Entry] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def provider(
        self, spec: ProviderSpec, env: Mapping[str, str]
    ) -> AsyncIterator[ModelProvider]:
        """The provider for `spec` over the pooled client of its settings, for one step.

        Raises what `registry.build_provider` raises when the spec cannot work."""
        if spec.kind == "scripted":
            yield ScriptedProvider()
            return
        settings = provider_settings(spec, env)
        key = ClientKey.of(spec, settings)
        async with self.lease(key, partial(new_client, spec, settings)) as client:
            yield provider_for(spec, settings, client)

    @asynccontextmanager
    async def lease(
        self, key: ClientKey, build: Callable[[], SdkClient]
    ) -> AsyncIterator[SdkClient]:
        """The client of `key`, built by `build()` in a thread if the pool has none; it stays
        open at least until the block is left."""
        entry = self._checkout(key, build)
        try:
            # Shielded: a step cancelled while the client is built does not cancel the build
            # other steps may wait for.
            yield await asyncio.shield(entry.build)
        finally:
            entry.leases -= 1
            if entry.evicted and entry.leases == 0:
                self._retire(entry)

    def _checkout(self, key: ClientKey, build: Callable[[], SdkClient]) -> _Entry:
        """The entry of `key`, leased (no await: two first uses cannot both build)."""
        if self._closed:
            raise RuntimeError("the worker's provider clients are closed (the worker is stopping)")
        entry = self._entries.get(key)
        if entry is None:
            task = asyncio.create_task(asyncio.to_thread(build), name=f"provider-client-{key.kind}")
            entry = _Entry(task)
            task.add_done_callback(partial(self._built, key, entry))
            self._entries[key] = entry
            log.debug("new %s provider client for %s", key.kind, key.base_url or "its default URL")
        else:
            self._entries.move_to_end(key)
        entry.leases += 1
        while len(self._entries) > self.max_size:
            _, oldest = self._entries.popitem(last=False)
            oldest.evicted = True
            if oldest.leases == 0:
                self._retire(oldest)
        return entry

    def _built(self, key: ClientKey, entry: _Entry, task: asyncio.Task[SdkClient]) -> None:
        """A failed build leaves the pool: the next use tries again."""
        if task.cancelled() or task.exception() is not None:
            if self._entries.get(key) is entry:
                del self._entries[key]

    def _retire(self, entry: _Entry) -> None:
        """Close the entry's client (once built), in a task `close()` waits for."""
        if entry.retired:
            return
        entry.retired = True
        task = asyncio.create_task(_close(entry), name="provider-client-close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        """Close every client (the worker has stopped: no step uses them any more)."""
        self._closed = True
        entries = list(self._entries.values())
        self._entries.clear()
        for entry in entries:
            entry.evicted = True
            self._retire(entry)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _close(entry: _Entry) -> None:
    try:
        client = await asyncio.shield(entry.build)
    except Exception:  # the build failed: there is nothing to close
        return
    await client.close()
