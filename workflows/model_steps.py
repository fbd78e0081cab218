"""One model call of the loop: the `llm_step` activity, failing over along the agent's
fallbacks when a model fails for good with an overload-class error; and the repair request when
a final answer breaks the agent's output schema."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.exceptions import TimeoutError as ActivityTimeout

from workflows import events, policy
from workflows.publisher import Publisher
from workflows.run_state import Run, RunFailure, failure_cause
from workflows.tool_steps import HEARTBEAT_TIMEOUT
from workflows.types import LlmStepInput, LlmStepResult, ModelChoice, TranscriptMessage

with workflow.unsafe.imports_passed_through():
    from activities.llm.activity import LlmActivities

# Model calls: Temporal owns the retries (SDK clients have max_retries=0); attempts and the
# timeout come from the agent.
LLM_INITIAL_INTERVAL = timedelta(seconds=1)
LLM_MAX_INTERVAL = timedelta(seconds=60)


def _name(choice: ModelChoice) -> str:
    return f"{choice.provider.name}/{choice.model}"


class ModelSteps:
    def __init__(self, run: Run, publisher: Publisher) -> None:
        self._run = run
        self._publisher = publisher

    async def step(self, prelude: tuple[TranscriptMessage, ...]) -> LlmStepResult | None:
        """One model call, failing over along the agent's fallbacks. None: the deadline came."""
        run = self._run
        agent = run.agent
        run.begin_step()
        steps = run.state.steps
        seq = run.state.next_seq + len(prelude)
        # Results the workflow computed go first: they hold the positions before next_seq.
        prelude = run.unwritten + prelude
        choices = policy.model_choices(agent)
        self._publisher.publish(
            events.StepStarted(seq=seq, model=_name(choices[run.state.model_choice]))
        )
        while True:
            choice = choices[run.state.model_choice]
            spec_ref = run.spec_ref()
            step_input = LlmStepInput(
                run_id=run.run_id,
                seq=seq,
                step=steps,
                prelude=prelude,
                spec_ref=spec_ref,
                model_choice=run.state.model_choice,
            )
            if spec_ref is None:  # a run started before the spec went by reference
                step_agent = replace(
                    agent,
                    provider=choice.provider,
                    model=choice.model,
                    fallbacks=(),
                    script=policy.script_window(agent.script, steps - 1),
                )
                step_input = LlmStepInput(
                    run_id=run.run_id, seq=seq, step=steps, agent=step_agent, prelude=prelude
                )
            timeout = timedelta(seconds=agent.model_timeout_s)
            remaining = run.remaining()
            if remaining is not None and remaining <= timedelta(0):
                return None
            watched = self._publisher.stream_tokens()  # asked first: it records a patch marker
            followed = run.input.follow and steps == 1  # the caller is about to follow
            step_input = replace(step_input, stream_tokens=watched or followed)
            try:
                reply = await workflow.execute_activity_method(
                    LlmActivities.llm_step,
                    step_input,
                    start_to_close_timeout=min(timeout, remaining) if remaining else timeout,
                    schedule_to_close_timeout=remaining,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RetryPolicy(
                        initial_interval=LLM_INITIAL_INTERVAL,
                        backoff_coefficient=2.0,
                        maximum_interval=LLM_MAX_INTERVAL,
                        maximum_attempts=agent.model_max_attempts,
                    ),
                    summary=f"step {steps}: {choice.provider.name}/{choice.model}",
                )
                break
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                deadline = run.state.deadline
                if deadline is not None and workflow.now() >= deadline:
                    return None
                message, error_type = failure_cause(err)
                timed_out = isinstance(err.cause, ActivityTimeout)
                last = run.state.model_choice + 1 >= len(choices)
                if not policy.fails_over(error_type, timed_out) or last:
                    raise RunFailure(
                        message, error_type or ("ModelTimeout" if timed_out else "ModelCallFailed")
                    ) from err
                run.fail_over()
                self._publisher.publish(
                    events.LlmFailover(
                        from_=_name(choice),
                        to=_name(choices[run.state.model_choice]),
                        error=message,
                        error_type=error_type or "ModelTimeout",
                    )
                )
        run.unwritten = ()  # the step wrote its prelude before it answered
        run.answered(seq + 1, reply.usage, reply.text)
        self._publisher.publish(
            events.LlmCompleted(
                text=reply.text,
                tool_calls=reply.tool_calls,
                usage=reply.usage.as_dict(),
                model=reply.model,
                provider=choice.provider.name,
            )
        )
        return reply

    def repair(self, errors: tuple[str, ...]) -> tuple[TranscriptMessage, ...]:
        """Send an answer that breaks the output schema back, or fail when out of repairs."""
        run = self._run
        if run.state.repairs >= run.agent.max_output_repairs:
            raise RunFailure(
                f"the answer does not match the output schema after {run.state.repairs} "
                f"repair(s): {'; '.join(errors)}",
                "OutputSchemaViolation",
            )
        run.ask_repair()
        self._publisher.publish(events.OutputInvalid(errors=errors, repair=run.state.repairs))
        return (TranscriptMessage(role="user", text=policy.repair_request(errors)),)
