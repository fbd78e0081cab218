"""A small SSE reader over real HTTP, as a browser's EventSource would see the stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    id: str | None
    event: str | None
    data: Any


async def read_events(
    client: httpx.AsyncClient, url: str, *, headers: dict[str, str] | None = None
) -> list[Event]:
    """Every event until the server closes the stream (comments are skipped)."""
    async with client.stream("GET", url, headers=headers or {}) as response:
        return [event async for event in events_of(response)]


async def events_of(response: httpx.Response) -> AsyncIterator[Event]:
    """The events of an open SSE response, each as it arrives (comments are skipped)."""
    assert response.status_code == 200, await response.aread()
    assert response.headers["content-type"].startswith("text/event-stream")
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                yield Event(fields.get("id"), fields.get("event"), json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
