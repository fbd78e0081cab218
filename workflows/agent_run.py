"""The AgentRun workflow: the loop of one agent invocation.

Deterministic code only. Each step calls the model (an activity: model_steps.py), then runs the
tools it asked for (one activity each, concurrently: tool_steps.py; a person's approval or answer:
people.py; agents as tools: subagents.py). The run's state is one object (run_state.py) the parts
share and continue-as-new carries whole. The conversation itself is kept in the transcript store
by the activities, so the history holds each message once and grows linearly with the steps.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal, NoReturn

from temporalio import workflow
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import ApplicationError, is_cancelled_exception

from workflows import carried_stream, events, outcomes, patches, policy, records
from workflows.carried_stream import StreamMeter
from workflows.kinds import StopReason
from workflows.model_steps import ModelSteps
from workflows.people import People
from workflows.publisher import Publisher
from workflows.run_state import Run, RunFailure, result_of, state_view
from workflows.stream_watch import StreamWatch
from workflows.subagents import Subagents
from workflows.tool_steps import ToolSteps
from workflows.types import (
    EVENTS_TOPIC,
    ApprovalDecision,
    ApprovalOutcome,
    ChildEvents,
    InputOutcome,
    RunEvent,
    RunInput,
    RunResult,
    RunState,
    TranscriptMessage,
    UserInput,
)


@workflow.defn
class AgentRun:
    @workflow.init
    def __init__(self, input: RunInput) -> None:
        self._stream = WorkflowStream(prior_state=input.stream_state)
        self._meter = StreamMeter(input.stream_state)
        self._meter.watch_publishes()
        self._watch = StreamWatch()
        self._watch.watch()
        self._run = Run(input)
        topic = self._stream.topic(EVENTS_TOPIC, type=RunEvent)
        self._publisher = Publisher(
            self._run, topic, AgentRun.child_events, self._meter, watch=self._watch
        )
        self._people = People(self._run, self._publisher)
        self._subagents = Subagents(self._run, self._publisher)
        self._model = ModelSteps(self._run, self._publisher)
        self._tools = ToolSteps(self._run, self._publisher, self._people, self._subagents)

    # ----- handlers: the API and the CLI reference them by method ---------------------------

    @workflow.query
    def state(self) -> RunState:
        return state_view(self._run, self._people.pending)

    @workflow.update
    def resolve_approval(self, decision: ApprovalDecision) -> ApprovalOutcome:
        """A person approves or rejects a tool call waiting for approval."""
        return self._people.resolve_approval(decision)

    @resolve_approval.validator
    def _check_approval(self, decision: ApprovalDecision) -> None:
        self._people.check_approval(decision)

    @workflow.update
    def provide_input(self, reply: UserInput) -> InputOutcome:
        """A person answers a question the agent asked with `ask_user`."""
        return self._people.provide_input(reply)

    @provide_input.validator
    def _check_input(self, reply: UserInput) -> None:
        self._people.input_call(reply)

    @workflow.signal
    def child_events(self, batch: ChildEvents) -> None:
        """Events of a sub-agent run, relayed on this run's stream inside `subagent.event`."""
        self._subagents.relay(batch)

    # ----- the loop -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: RunInput) -> RunResult:
        run = self._run
        agent = input.agent
        prelude: tuple[TranscriptMessage, ...] = ()
        if input.carry is None:
            prelude = (TranscriptMessage(role="user", text=input.input),)
            if agent.max_duration_s is not None:
                run.set_deadline(workflow.now() + timedelta(seconds=agent.max_duration_s))
            self._publisher.publish(_started(input))
        try:
            while True:
                state = run.state
                spent = policy.budget_spent(agent, state.usage, workflow.now(), state.deadline)
                if spent is not None:
                    return await self._finish("stopped", spent, run.state.last_text)
                reply = await self._model.step(prelude)
                prelude = ()
                if reply is None:  # the deadline came during the model call
                    return await self._finish("stopped", policy.DEADLINE, run.state.last_text)
                if not reply.tool_calls:
                    if not reply.output_errors:
                        return await self._finish(
                            "completed", policy.ANSWER, reply.text, output=reply.output
                        )
                    prelude = self._model.repair(reply.output_errors)
                    if run.state.steps >= agent.max_steps:
                        return await self._finish("stopped", policy.MAX_STEPS, run.state.last_text)
                    continue
                state = run.state
                stop = policy.stop_before_tools(
                    agent, state.steps, state.usage, workflow.now(), state.deadline
                )
                if stop is not None:
                    return await self._finish("stopped", stop, state.last_text)
                await self._tools.run_tools(reply.tool_calls)
                if workflow.info().is_continue_as_new_suggested() or self._stream_full():
                    await self._continue_as_new(input)
        except RunFailure as failed:
            await self._fail(failed)
        except BaseException as err:
            if not is_cancelled_exception(err):
                raise
            await self._cancelled()
            raise  # a cancellation re-raised ends the workflow as cancelled

    async def _finish(
        self,
        status: Literal["completed", "stopped"],
        stop_reason: StopReason,
        answer: str,
        output: Any = None,
    ) -> RunResult:
        run = self._run
        await self._write_unwritten()
        run.end(status, stop_reason)
        state = run.state
        ended = events.RunCompleted if status == "completed" else events.RunStopped
        self._publisher.publish(
            ended(
                answer=answer,
                output=output,
                stop_reason=stop_reason,
                steps=state.steps,
                tool_calls=state.tool_calls,
                tool_errors=state.tool_errors,
                invalid_tool_calls=state.invalid_tool_calls,
                usage=state.usage.as_dict(),
            )
        )
        await self._close_stream()
        await outcomes.record_outcome(run)
        return result_of(run, answer, output)

    async def _fail(self, failed: RunFailure) -> NoReturn:
        run = self._run
        await self._write_unwritten()
        run.end("failed", policy.ERROR, failed.reason)
        self._publisher.publish(
            events.RunFailed(
                error=failed.reason,
                error_type=failed.error_type,
                steps=run.state.steps,
                usage=run.state.usage.as_dict(),
            )
        )
        await self._close_stream()
        await outcomes.record_outcome(run)
        raise ApplicationError(
            failed.reason,
            result_of(run, run.state.last_text),
            type=failed.error_type,
            non_retryable=True,
        )

    async def _cancelled(self) -> None:
        run = self._run
        await self._write_unwritten()
        run.end("cancelled", policy.CANCELLED)
        state = run.state
        self._publisher.publish(
            events.RunCancelled(
                answer=state.last_text,
                steps=state.steps,
                tool_calls=state.tool_calls,
                usage=state.usage.as_dict(),
            )
        )
        await self._close_stream()
        await outcomes.record_outcome(run)

    async def _close_stream(self) -> None:
        """Release subscribers at once (they drain the rest by query) and let handlers finish."""
        await self._publisher.forwarded()
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _stream_full(self) -> bool:
        """This execution's events are as many as its successor's input should carry (runs
        started before the patch continue only when Temporal suggests)."""
        return self._meter.full and patches.patched(carried_stream.PATCH)

    async def _write_unwritten(self) -> None:
        """Write the tool results no model step took (workflows/pure_tools.py): the run ends,
        or continues as new, before another model step."""
        run = self._run
        if run.unwritten:
            first = run.state.next_seq - len(run.unwritten)
            await records.record_messages(run.run_id, first, run.unwritten)
            run.unwritten = ()

    async def _continue_as_new(self, input: RunInput) -> NoReturn:
        await self._write_unwritten()
        carry = self._run.state
        # The successor gets this execution's own events only (runs started before the patch
        # carry the whole stream): see workflows/carried_stream.py.
        own = patches.patched(carried_stream.PATCH)
        carried_in = self._meter.carried_in
        await self._publisher.forwarded()
        await self._stream.continue_as_new(
            lambda state: [
                replace(
                    input,
                    carry=carry,
                    stream_state=carried_stream.own_events(state, carried_in) if own else state,
                )
            ]
        )


def _started(input: RunInput) -> events.RunStarted:
    agent = input.agent
    return events.RunStarted(
        agent=agent.name,
        agent_version=agent.version,
        model=agent.model,
        provider=agent.provider.name,
        fallbacks=tuple(f"{c.provider.name}/{c.model}" for c in agent.fallbacks),
        input=input.input,
        limits=events.RunLimits(
            max_steps=agent.max_steps,
            max_total_tokens=agent.max_total_tokens,
            max_cost_usd=agent.max_cost_usd,
            max_duration_s=agent.max_duration_s,
        ),
        trace_id=input.trace_id,
    )
