"""Tool calls the workflow computes itself: a step whose every call is to a quick, pure tool (the
calculator) runs no activity at all.

The answer is a function of the arguments, so computing it again on a replay gives the same; the
calls need no retries, no worker hop and no marker. A step's results are not written by the
workflow (it does no I/O): they travel as the prelude of the next model step, which writes them
before it reads the transcript, or, when the run ends or continues as new before another model
step, one `record` activity writes them (`Run.unwritten`). Behind the `inline-pure-tools`
patch: histories before it ran each call as a local activity (workflows/tool_steps.py).
"""

from __future__ import annotations

from typing import Final

from temporalio import workflow

from workflows import patches
from workflows.arithmetic import ArithmeticProblem, evaluate, format_number
from workflows.kinds import ToolErrorType
from workflows.records import PREVIEW_CHARS
from workflows.types import ToolCall, ToolOutcome, TranscriptMessage

PATCH: Final = patches.INLINE_PURE_TOOLS
TOOL_ERROR: ToolErrorType = "tool_error"


def compute(call: ToolCall) -> tuple[str, ToolErrorType | None]:
    """(result text, error type or None) of a calculator call, as the tool activity gives them.
    Never raises: a workflow task that raised would be retried for ever."""
    expression = call.arguments.get("expression")
    if not isinstance(expression, str):
        return "error: argument 'expression' must be a string", TOOL_ERROR
    try:
        return format_number(evaluate(expression)), None
    except ArithmeticProblem as err:
        return f"error: {err}", TOOL_ERROR
    except Exception as err:  # a fault of ours: the model is told, the run goes on
        if workflow.in_workflow():
            workflow.logger.warning("calculator call %s failed: %r", call.id, err)
        return f"error: tool {call.name!r} failed: {type(err).__name__}: {err}", TOOL_ERROR


def run_inline(call: ToolCall) -> tuple[ToolOutcome, TranscriptMessage]:
    """The call's outcome, and the transcript message that holds its result."""
    text, error_type = compute(call)
    message = TranscriptMessage(
        role="tool",
        text=text,
        tool_call_id=call.id,
        tool_name=call.name,
        is_error=error_type is not None,
    )
    preview = text[:PREVIEW_CHARS]  # of an error too, as the tool activity gives it
    outcome = ToolOutcome(
        call_id=call.id,
        name=call.name,
        ok=error_type is None,
        preview=preview,
        truncated=len(text) > len(preview),
        error=text if error_type is not None else None,
        error_type=error_type,
    )
    return outcome, message
