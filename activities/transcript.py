"""The run transcript lives outside the workflow history, in the transcript store.

This module converts transcript messages to and from the JSON bodies the store keeps, and holds
the one activity that appends messages on the workflow's behalf (a tool that timed out, say).
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity

from config_store.transcript import TranscriptStore
from workflows.kinds import ROLES, parse
from workflows.types import RecordInput, ToolCall, TranscriptMessage, Usage


def to_body(
    message: TranscriptMessage, *, usage: Usage | None = None, model: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {"role": message.role, "text": message.text}
    if message.tool_calls:
        body["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        body["tool_call_id"] = message.tool_call_id
    if message.tool_name is not None:
        body["tool_name"] = message.tool_name
    if message.is_error:
        body["is_error"] = True
    if usage is not None:
        body["usage"] = {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "cost_usd": usage.cost_usd,
        }
    if model:
        body["model"] = model
    return body


def from_body(body: dict[str, Any]) -> TranscriptMessage:
    return TranscriptMessage(
        role=parse(ROLES, body["role"], "transcript role"),
        text=str(body.get("text", "")),
        tool_calls=tuple(
            ToolCall(id=str(c["id"]), name=str(c["name"]), arguments=dict(c.get("arguments", {})))
            for c in body.get("tool_calls", [])
        ),
        tool_call_id=body.get("tool_call_id"),
        tool_name=body.get("tool_name"),
        is_error=bool(body.get("is_error", False)),
    )


class TranscriptActivities:
    def __init__(self, store: TranscriptStore) -> None:
        self._store = store

    @activity.defn(name="transcript_record")
    async def record(self, input: RecordInput) -> None:
        """Append messages at fixed positions; a position already written keeps its message."""
        bodies = [to_body(m) for m in input.messages]
        await asyncio.to_thread(self._store.append, input.run_id, input.first_seq, bodies)
