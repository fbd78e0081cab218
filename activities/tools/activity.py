"""The tool activity: run one tool call and append its result to the transcript.

A result already in the store is returned as it is, so a retried activity never runs the tool a
second time. A tool that fails for good gives the model an error message, and the run goes on.
"""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.heartbeat import heartbeating
from activities.tools.base import ToolContext, ToolError
from activities.tools.registry import execute_tool
from activities.transcript import from_body, to_body
from config_store.transcript import TranscriptStore
from workflows.types import ToolCallInput, ToolOutcome, TranscriptMessage

# How much of a result travels in the workflow history and the events; the transcript has it all.
PREVIEW_CHARS = 2000


class ToolActivities:
    def __init__(self, store: TranscriptStore, context: ToolContext) -> None:
        self._store = store
        self._context = context

    @activity.defn(name="tool_call")
    async def tool_call(self, input: ToolCallInput) -> ToolOutcome:
        stored = await asyncio.to_thread(self._store.get, input.run_id, input.seq)
        if stored is None:
            text, is_error = await self._execute(input)
            message = TranscriptMessage(
                role="tool",
                text=text,
                tool_call_id=input.call.id,
                tool_name=input.call.name,
                is_error=is_error,
            )
            appended = await asyncio.to_thread(
                self._store.append, input.run_id, input.seq, [to_body(message)]
            )
            stored = appended[0]
        message = from_body(stored)
        preview = message.text[:PREVIEW_CHARS]
        return ToolOutcome(
            call_id=input.call.id,
            name=input.call.name,
            ok=not message.is_error,
            preview=preview,
            truncated=len(message.text) > len(preview),
            error=message.text if message.is_error else None,
        )

    async def _execute(self, input: ToolCallInput) -> tuple[str, bool]:
        """(result text, is_error). Raises only to ask Temporal for another attempt."""
        tool = input.tool
        if tool is None:
            return f"error: this agent has no tool named {input.call.name!r}", True
        try:
            work = execute_tool(tool, input.call.arguments, self._context)
            return await heartbeating(work), False
        except ToolError as err:
            return f"error: {err}", True
        except Exception as err:
            if activity.info().attempt < max(1, tool.retry_attempts):
                raise
            activity.logger.warning("tool %s failed on its last attempt", tool.name, exc_info=True)
            return f"error: tool {tool.name!r} failed: {type(err).__name__}: {err}", True
