"""The tool activity: run one tool call and append its result to the transcript.

A result already in the store is returned as it is, so a retry after the result was stored
never runs the tool again. A retry after a worker stopped *during* the call (before its result
was stored) does run an idempotent tool again. A non-idempotent tool (`ToolSpec.idempotent`
false) writes a row of the call ledger before it calls (config_store/call_ledger.py); a retry
that finds that row unfinished does not call, and the model gets `outcome_unknown`. Such a tool
is retried only after a failure that the service cannot have acted on (no connection, a 429).
When the workflow will ask a person about an unknown outcome (`ToolCallInput.ask_on_unknown`,
the tool's `on_unknown_outcome: ask`), that result is returned without being stored; once a
person approved, the call comes back with `retry_unknown`, reopens its ledger row once and calls.

A tool that fails for good gives the model an error message, and the run goes on (unless the
agent's `on_tool_error` says otherwise: the workflow decides). The secrets the tool used are
redacted from its result before it is stored, logged or returned.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace
from datetime import timedelta
from typing import Final

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.llm.prefixes import TranscriptPrefixes
from activities.metrics import CallMetrics
from activities.specs import AgentSpecs
from activities.tools.base import InvalidArguments, ToolContext, ToolError
from activities.tools.net import UpstreamUnavailable
from activities.tools.registry import IMPLEMENTATIONS, execute_tool
from activities.tools.secrets import redact, secret_values
from activities.transcript import from_body, to_body
from config_store import call_ledger
from config_store.transcript import TranscriptStore
from workflows.kinds import PURE_TOOL_KINDS, TOOL_ERROR_TYPES, ToolErrorType, member
from workflows.types import ToolCallInput, ToolOutcome, ToolSpec, TranscriptMessage

# How much of a result travels in the workflow history and the events; the transcript has it all.
PREVIEW_CHARS = 2000
# Stored with an error result (the transcript body's `error_type`), returned in ToolOutcome.
INVALID_ARGUMENTS: Final = "invalid_arguments"
UNKNOWN_TOOL: Final = "unknown_tool"
TOOL_ERROR: Final = "tool_error"
OUTCOME_UNKNOWN: Final = "outcome_unknown"
# The `tool` label of a call naming a tool the agent does not have (what the model wrote could
# be anything: not a label).
NO_TOOL: Final = "(none)"
NOT_REPEATED = (
    "error: the previous attempt's outcome is unknown (the worker stopped during the call); "
    "it was not repeated"
)


class ToolActivities:
    def __init__(
        self,
        store: TranscriptStore,
        context: ToolContext,
        specs: AgentSpecs | None = None,
        prefixes: TranscriptPrefixes | None = None,
    ) -> None:
        """`specs`: the worker's agent specs by reference (None: a cache of these activities'
        own). `prefixes`: the transcripts the worker's model steps hold, which each stored
        result extends (None: none shared)."""
        self._store = store
        self._context = context
        self._specs = specs if specs is not None else AgentSpecs()
        self._prefixes = prefixes if prefixes is not None else TranscriptPrefixes()
        self._metrics = CallMetrics()

    async def _tool(self, input: ToolCallInput) -> ToolSpec | None:
        """The tool the call names; None: the agent has none by that name."""
        if input.spec_ref is None:  # written before the spec went by reference: it is here
            return input.tool
        spec = await self._specs.get(input.spec_ref)
        return next((t for t in spec.tools if t.name == input.call.name), None)

    @activity.defn(name="tool_call")
    async def tool_call(self, input: ToolCallInput) -> ToolOutcome:
        tool = await self._tool(input)
        stored = None
        if tool is None or tool.kind not in PURE_TOOL_KINDS or not tool.idempotent:
            # An earlier attempt's result, if stored, is the result. A pure kind is not looked
            # up: computing it again gives the same, and the append keeps the first write.
            stored = await asyncio.to_thread(self._store.get, input.run_id, input.seq)
        if stored is None:
            text, error_type = await self._execute(input, tool)
            self._metrics.tool_call(tool.name if tool is not None else NO_TOOL, error_type)
            if error_type == OUTCOME_UNKNOWN and input.ask_on_unknown:
                # Not stored: a person decides whether the call runs again (the workflow
                # stores the result when nobody approves).
                return ToolOutcome(
                    call_id=input.call.id,
                    name=input.call.name,
                    ok=False,
                    preview="",
                    error=text,
                    error_type=error_type,
                )
            is_error = error_type is not None
            message = TranscriptMessage(
                role="tool",
                text=text,
                tool_call_id=input.call.id,
                tool_name=input.call.name,
                is_error=is_error,
            )
            body = to_body(message)
            if error_type is not None:
                body["error_type"] = error_type
            ledgered = tool is not None and not tool.idempotent
            appended = await asyncio.to_thread(
                functools.partial(
                    self._store.append,
                    input.run_id,
                    input.seq,
                    [body],
                    finishing=ledgered,
                )
            )
            stored = appended[0]
        message = from_body(stored)  # first write wins: maybe an earlier attempt's
        self._prefixes.extend(input.run_id, input.seq, (message,))
        stored_type = member(TOOL_ERROR_TYPES, stored.get("error_type")) or TOOL_ERROR
        error_type = stored_type if message.is_error else None
        preview = message.text[:PREVIEW_CHARS]
        return ToolOutcome(
            call_id=input.call.id,
            name=input.call.name,
            ok=not message.is_error,
            preview=preview,
            truncated=len(message.text) > len(preview),
            error=message.text if message.is_error else None,
            error_type=error_type,
        )

    async def _execute(
        self, input: ToolCallInput, tool: ToolSpec | None
    ) -> tuple[str, ToolErrorType | None]:
        """(result text, error type or None). Raises only to ask Temporal for another attempt."""
        if tool is None:
            return f"error: this agent has no tool named {input.call.name!r}", UNKNOWN_TOOL
        context = replace(
            self._context,
            run_id=input.run_id,
            call_id=input.call.id,
            tool_name=tool.name,
            seq=input.seq,
        )
        kind = IMPLEMENTATIONS.get(tool.kind)
        secrets = secret_values(tool.config, context.env, kind.secret_envs if kind else ())
        attempt = activity.info().attempt
        factory = self._store.session_factory
        if not tool.idempotent:
            begin = call_ledger.reopen_call if input.retry_unknown else call_ledger.start_call
            started = await asyncio.to_thread(
                begin, factory, input.run_id, input.seq, input.call.id, attempt
            )
            if started == "unknown":
                activity.logger.warning(
                    "tool %s: attempt %d found call %s begun and unfinished; not repeated",
                    tool.name,
                    attempt,
                    input.call.id,
                )
                return NOT_REPEATED, OUTCOME_UNKNOWN
        try:
            work = execute_tool(tool, input.call.arguments, context)
            return redact(await heartbeating(work), secrets), None
        except InvalidArguments as err:
            return f"error: {err}", INVALID_ARGUMENTS
        except ToolError as err:
            return redact(f"error: {err}", secrets), TOOL_ERROR
        except Exception as err:
            if not tool.idempotent:
                if getattr(err, "maybe_applied", True):
                    # The service may have acted on it: reported, never sent again.
                    problem = redact(f"{type(err).__name__}: {err}", secrets)
                    return (
                        f"error: the outcome of the call is unknown ({problem}); "
                        "it was not repeated",
                        OUTCOME_UNKNOWN,
                    )
                await asyncio.to_thread(call_ledger.end_attempt, factory, input.run_id, input.seq)
            if attempt < max(1, tool.retry_attempts):
                if isinstance(err, UpstreamUnavailable) and err.retry_after_s is not None:
                    # The service said when to come back: the next attempt waits that long.
                    raise ApplicationError(
                        redact(str(err), secrets),
                        type="UpstreamUnavailable",
                        next_retry_delay=timedelta(seconds=min(err.retry_after_s, 600)),
                    ) from None
                raise
            problem = redact(f"{type(err).__name__}: {err}", secrets)
            activity.logger.warning("tool %s failed on its last attempt: %s", tool.name, problem)
            return f"error: tool {tool.name!r} failed: {problem}", TOOL_ERROR
