"""Writing a tool call's result into the transcript on the tool's behalf: an answer a person
gave, a sub-agent's answer, or why the call was not run."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from workflows.kinds import ToolErrorType
from workflows.types import RecordInput, ToolCall, ToolOutcome, TranscriptMessage

with workflow.unsafe.imports_passed_through():
    from activities.transcript import TranscriptActivities

RECORD_TIMEOUT = timedelta(seconds=30)
# How much of a result travels in ToolOutcome.preview (and the events); the transcript has all.
PREVIEW_CHARS = 2000


async def record(run_id: str, seq: int, call: ToolCall, text: str, *, is_error: bool) -> None:
    message = TranscriptMessage(
        role="tool", text=text, tool_call_id=call.id, tool_name=call.name, is_error=is_error
    )
    await record_messages(run_id, seq, (message,))


async def record_messages(
    run_id: str, first_seq: int, messages: tuple[TranscriptMessage, ...]
) -> None:
    """Write `messages` at `first_seq` on: one `record` activity (an append keeps what is there)."""
    await workflow.execute_activity_method(
        TranscriptActivities.record,
        RecordInput(run_id=run_id, first_seq=first_seq, messages=messages),
        start_to_close_timeout=RECORD_TIMEOUT,
    )


async def record_failure(
    run_id: str, seq: int, call: ToolCall, message: str, error_type: ToolErrorType
) -> ToolOutcome:
    """Write a failed call's result for the model; the outcome saying so."""
    await record(run_id, seq, call, message, is_error=True)
    return ToolOutcome(
        call_id=call.id,
        name=call.name,
        ok=False,
        preview="",
        error=message,
        error_type=error_type,
    )
