"""The SDK's tests: a fake-provider agent made through the SDK, and reading a stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from orch.client import AsyncOrch, RunEvent
from tests.support.auth import ADMIN_TOKEN


def sdk(url: str) -> AsyncOrch:
    return AsyncOrch(url, ADMIN_TOKEN, timeout=30)


async def scripted_agent(
    orch: AsyncOrch, script: list[dict[str, Any]], *, tools: tuple[str, ...] = ()
) -> str:
    """An agent on the example config's offline scripted provider, made through the SDK, that
    plays `script` (one model turn each); its name."""
    agent = f"sdk_{uuid.uuid4().hex[:8]}"
    body = {"name": agent, "provider": "offline", "tools": list(tools), "script": script}
    await orch.agents.create(body)
    return agent


async def guarded_calculator(orch: AsyncOrch) -> str:
    """A calculator tool behind an approval, made through the SDK; its name."""
    name = f"calc_{uuid.uuid4().hex[:8]}"
    await orch.tools.create({"name": name, "kind": "calculator", "requires_approval": True})
    return name


def call(tool: str, call_id: str, **arguments: Any) -> dict[str, Any]:
    """A script turn that calls `tool`."""
    return {"tool_calls": [{"id": call_id, "name": tool, "arguments": arguments}]}


async def until(events: AsyncIterator[RunEvent], kind: str, seen: list[RunEvent]) -> RunEvent:
    """Read `events` into `seen` up to the first of type `kind`."""
    async for event in events:
        seen.append(event)
        if event.type == kind:
            return event
    raise AssertionError(f"the stream ended without {kind}: {[e.type for e in seen]}")


def offsets(events: list[RunEvent]) -> list[int | None]:
    return [event.offset for event in events]
