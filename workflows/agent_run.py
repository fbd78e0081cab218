"""The AgentRun workflow: the loop of one agent invocation.

Deterministic code only. Each step calls the model (an activity), then runs the tools it asked for
(one activity each, concurrently: tool_steps.py; agents as tools: subagents.py). The conversation
itself is kept in the transcript store by the activities, so the history holds each message once
and grows linearly with the steps.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    is_cancelled_exception,
)
from temporalio.exceptions import (
    TimeoutError as ActivityTimeout,
)

from workflows import policy
from workflows.loop_state import RunFailed, failure_cause
from workflows.tool_steps import HEARTBEAT_TIMEOUT, ToolSteps
from workflows.types import (
    EVENTS_TOPIC,
    ApprovalDecision,
    ApprovalOutcome,
    InputOutcome,
    LlmStepInput,
    LlmStepResult,
    ModelChoice,
    PendingAction,
    RunCarry,
    RunEvent,
    RunInput,
    RunResult,
    RunState,
    TranscriptMessage,
    UserInput,
)

with workflow.unsafe.imports_passed_through():
    from activities.llm.activity import LlmActivities

# Model calls: Temporal owns the retries (SDK clients have max_retries=0); attempts and the
# timeout come from the agent.
LLM_INITIAL_INTERVAL = timedelta(seconds=1)
LLM_MAX_INTERVAL = timedelta(seconds=60)


@workflow.defn
class AgentRun(ToolSteps):
    @workflow.init
    def __init__(self, input: RunInput) -> None:
        self._stream = WorkflowStream(prior_state=input.stream_state)
        self._events = self._stream.topic(EVENTS_TOPIC, type=RunEvent)
        carry = input.carry or RunCarry()
        self._run_id = input.run_id
        self._agent = input.agent
        self._steps = carry.steps
        self._next_seq = carry.next_seq if input.carry else input.history
        self._usage = carry.usage
        self._last_text = carry.last_text
        self._tool_calls = carry.tool_calls
        self._deadline = carry.deadline
        self._repairs = carry.repairs
        self._choice = carry.model_choice
        self._tool_errors = carry.tool_errors
        self._invalid_tool_calls = carry.invalid_tool_calls
        self._status = "running"
        self._stop_reason: str | None = None
        self._error: str | None = None
        self._pending: dict[str, PendingAction] = {}
        self._decisions: dict[str, ApprovalDecision] = {}
        self._answers: dict[str, str] = {}
        # A sub-agent run forwards its events to its parent, in order, one signal per batch.
        self._parent = input.parent_run_id
        self._depth = input.depth
        self._outbox: list[RunEvent] = []
        self._forwarding = False
        self._forwarder: asyncio.Task[None] | None = None  # a reference keeps the task alive
        self._children: dict[str, str] = {}  # child run id -> the call that started it

    @workflow.query
    def state(self) -> RunState:
        return RunState(
            run_id=self._run_id,
            agent=self._agent.name,
            agent_version=self._agent.version,
            status=self._status,
            steps=self._steps,
            tool_calls=self._tool_calls,
            usage=self._usage,
            last_text=self._last_text,
            stop_reason=self._stop_reason,
            error=self._error,
            pending=tuple(self._pending.values()),
            tool_errors=self._tool_errors,
            invalid_tool_calls=self._invalid_tool_calls,
        )

    @workflow.update
    def resolve_approval(self, decision: ApprovalDecision) -> ApprovalOutcome:
        """A person approves or rejects a tool call waiting for approval."""
        pending = self._pending.pop(decision.call_id)
        self._decisions[decision.call_id] = decision
        verdict = "approved" if decision.approve else "rejected"
        return ApprovalOutcome(call_id=decision.call_id, tool=pending.tool, decision=verdict)

    @resolve_approval.validator
    def _check_approval(self, decision: ApprovalDecision) -> None:
        pending = self._pending.get(decision.call_id)
        if pending is None or pending.kind != "approval":
            raise ValueError(f"no approval is pending for call {decision.call_id!r}")

    @workflow.update
    def provide_input(self, reply: UserInput) -> InputOutcome:
        """A person answers a question the agent asked with `ask_user`."""
        call_id = self._input_call(reply)
        pending = self._pending.pop(call_id)
        self._answers[call_id] = reply.text
        return InputOutcome(call_id=call_id, question=pending.question)

    @provide_input.validator
    def _check_input(self, reply: UserInput) -> None:
        self._input_call(reply)

    def _input_call(self, reply: UserInput) -> str:
        waiting = [p.call_id for p in self._pending.values() if p.kind == "input"]
        if reply.call_id is not None:
            if reply.call_id not in waiting:
                raise ValueError(f"no question is pending for call {reply.call_id!r}")
            return reply.call_id
        if len(waiting) != 1:
            raise ValueError(
                "no question is pending"
                if not waiting
                else f"several questions are pending: name one with call_id ({', '.join(waiting)})"
            )
        return waiting[0]

    @workflow.run
    async def run(self, input: RunInput) -> RunResult:
        agent = input.agent
        prelude: tuple[TranscriptMessage, ...] = ()
        if input.carry is None:
            prelude = (TranscriptMessage(role="user", text=input.input),)
            if agent.max_duration_s is not None:
                self._deadline = workflow.now() + timedelta(seconds=agent.max_duration_s)
            self._publish(
                "run.started",
                {
                    "agent": agent.name,
                    "agent_version": agent.version,
                    "model": agent.model,
                    "provider": agent.provider.name,
                    "fallbacks": [f"{c.provider.name}/{c.model}" for c in agent.fallbacks],
                    "input": input.input,
                    "limits": {
                        "max_steps": agent.max_steps,
                        "max_total_tokens": agent.max_total_tokens,
                        "max_cost_usd": agent.max_cost_usd,
                        "max_duration_s": agent.max_duration_s,
                    },
                },
            )
        try:
            while True:
                spent = policy.budget_spent(agent, self._usage, workflow.now(), self._deadline)
                if spent is not None:
                    return await self._finish("stopped", spent, self._last_text)
                reply = await self._model_step(prelude)
                prelude = ()
                if reply is None:  # the deadline came during the model call
                    return await self._finish("stopped", policy.DEADLINE, self._last_text)
                if not reply.tool_calls:
                    if not reply.output_errors:
                        return await self._finish(
                            "completed", policy.ANSWER, reply.text, output=reply.output
                        )
                    prelude = self._repair(reply.output_errors)
                    if self._steps >= agent.max_steps:
                        return await self._finish("stopped", policy.MAX_STEPS, self._last_text)
                    continue
                stop = policy.stop_before_tools(
                    agent, self._steps, self._usage, workflow.now(), self._deadline
                )
                if stop is not None:
                    return await self._finish("stopped", stop, self._last_text)
                await self._run_tools(reply.tool_calls)
                if workflow.info().is_continue_as_new_suggested():
                    await self._continue_as_new(input)
        except RunFailed as failed:
            await self._fail(failed)
        except BaseException as err:
            if not is_cancelled_exception(err):
                raise
            await self._cancelled()
            raise  # a cancellation re-raised ends the workflow as cancelled

    def _repair(self, errors: tuple[str, ...]) -> tuple[TranscriptMessage, ...]:
        """Send an answer that breaks the output schema back, or fail when out of repairs."""
        if self._repairs >= self._agent.max_output_repairs:
            raise RunFailed(
                f"the answer does not match the output schema after {self._repairs} "
                f"repair(s): {'; '.join(errors)}",
                "OutputSchemaViolation",
            )
        self._repairs += 1
        self._publish("output.invalid", {"errors": list(errors), "repair": self._repairs})
        return (TranscriptMessage(role="user", text=policy.repair_request(errors)),)

    async def _model_step(self, prelude: tuple[TranscriptMessage, ...]) -> LlmStepResult | None:
        """One model call, failing over along the agent's fallbacks. None: the deadline came."""
        self._steps += 1
        seq = self._next_seq + len(prelude)
        index = self._steps - 1  # model calls made before this one
        choices = policy.model_choices(self._agent)
        self._publish("step.started", {"seq": seq, "model": self._model_name(choices)})
        while True:
            choice = choices[self._choice]
            step_agent = replace(
                self._agent,
                provider=choice.provider,
                model=choice.model,
                fallbacks=(),
                script=policy.script_window(self._agent.script, index),
            )
            timeout = timedelta(seconds=self._agent.model_timeout_s)
            remaining = self._remaining()
            if remaining is not None and remaining <= timedelta(0):
                return None
            try:
                reply = await workflow.execute_activity_method(
                    LlmActivities.llm_step,
                    LlmStepInput(
                        run_id=self._run_id,
                        seq=seq,
                        step=self._steps,
                        agent=step_agent,
                        prelude=prelude,
                    ),
                    start_to_close_timeout=min(timeout, remaining) if remaining else timeout,
                    schedule_to_close_timeout=remaining,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RetryPolicy(
                        initial_interval=LLM_INITIAL_INTERVAL,
                        backoff_coefficient=2.0,
                        maximum_interval=LLM_MAX_INTERVAL,
                        maximum_attempts=self._agent.model_max_attempts,
                    ),
                    summary=f"step {self._steps}: {choice.provider.name}/{choice.model}",
                )
                break
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                if self._deadline is not None and workflow.now() >= self._deadline:
                    return None
                message, error_type = failure_cause(err)
                timed_out = isinstance(err.cause, ActivityTimeout)
                if not policy.fails_over(error_type, timed_out) or self._choice + 1 >= len(choices):
                    raise RunFailed(
                        message, error_type or ("ModelTimeout" if timed_out else "ModelCallFailed")
                    ) from err
                self._choice += 1
                self._publish(
                    "llm.failover",
                    {
                        "from": self._model_name((choice,), 0),
                        "to": self._model_name(choices),
                        "error": message,
                        "error_type": error_type or "ModelTimeout",
                    },
                )
        self._next_seq = seq + 1
        self._usage = self._usage + reply.usage
        if reply.text:
            self._last_text = reply.text
        self._publish(
            "llm.completed",
            {
                "text": reply.text,
                "tool_calls": [asdict(c) for c in reply.tool_calls],
                "usage": reply.usage.as_dict(),
                "model": reply.model,
                "provider": choice.provider.name,
            },
        )
        return reply

    def _model_name(self, choices: tuple[ModelChoice, ...], index: int | None = None) -> str:
        choice = choices[self._choice if index is None else index]
        return f"{choice.provider.name}/{choice.model}"

    def _remaining(self) -> timedelta | None:
        return None if self._deadline is None else self._deadline - workflow.now()

    async def _finish(
        self, status: str, stop_reason: str, answer: str, output: Any = None
    ) -> RunResult:
        self._status = status
        self._stop_reason = stop_reason
        result = replace(self._result(answer), output=output)
        event = "run.completed" if status == "completed" else "run.stopped"
        self._publish(
            event,
            {
                "answer": answer,
                "output": output,
                "stop_reason": stop_reason,
                "steps": self._steps,
                "tool_calls": self._tool_calls,
                "tool_errors": self._tool_errors,
                "invalid_tool_calls": self._invalid_tool_calls,
                "usage": self._usage.as_dict(),
            },
        )
        await self._close_stream()
        return result

    async def _fail(self, failed: RunFailed) -> NoReturn:
        self._status = "failed"
        self._stop_reason = policy.ERROR
        self._error = failed.reason
        self._publish(
            "run.failed",
            {
                "error": failed.reason,
                "error_type": failed.error_type,
                "steps": self._steps,
                "usage": self._usage.as_dict(),
            },
        )
        await self._close_stream()
        raise ApplicationError(
            failed.reason,
            self._result(self._last_text),
            type=failed.error_type,
            non_retryable=True,
        )

    async def _cancelled(self) -> None:
        self._status = "cancelled"
        self._stop_reason = policy.CANCELLED
        self._publish(
            "run.cancelled",
            {
                "answer": self._last_text,
                "steps": self._steps,
                "tool_calls": self._tool_calls,
                "usage": self._usage.as_dict(),
            },
        )
        await self._close_stream()

    def _result(self, answer: str) -> RunResult:
        return RunResult(
            run_id=self._run_id,
            agent=self._agent.name,
            agent_version=self._agent.version,
            status=self._status,
            stop_reason=self._stop_reason or "",
            answer=answer,
            steps=self._steps,
            tool_calls=self._tool_calls,
            usage=self._usage,
            error=self._error,
            tool_errors=self._tool_errors,
            invalid_tool_calls=self._invalid_tool_calls,
        )

    async def _close_stream(self) -> None:
        """Release subscribers at once (they drain the rest by query) and let handlers finish."""
        await self._forwarded()
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _continue_as_new(self, input: RunInput) -> NoReturn:
        carry = RunCarry(
            steps=self._steps,
            next_seq=self._next_seq,
            usage=self._usage,
            last_text=self._last_text,
            tool_calls=self._tool_calls,
            deadline=self._deadline,
            repairs=self._repairs,
            model_choice=self._choice,
            tool_errors=self._tool_errors,
            invalid_tool_calls=self._invalid_tool_calls,
        )
        await self._forwarded()
        await self._stream.continue_as_new(
            lambda state: [replace(input, carry=carry, stream_state=state)]
        )

    def _publish(self, type_: str, data: dict[str, Any]) -> None:
        event = RunEvent(
            type=type_,
            run_id=self._run_id,
            step=self._steps,
            time=workflow.now().isoformat(),
            data=data,
        )
        self._events.publish(event)
        if self._parent is not None:
            self._outbox.append(event)
            if not self._forwarding:
                self._forwarding = True
                self._forwarder = asyncio.create_task(self._forward(self._parent))
