"""A small SSE reader over real HTTP, as a browser's EventSource would see the stream."""

from __future__ import annotations

import json
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
    events: list[Event] = []
    async with client.stream("GET", url, headers=headers or {}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields:
                    events.append(
                        Event(fields.get("id"), fields.get("event"), json.loads(fields["data"]))
                    )
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
    return events
