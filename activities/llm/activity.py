"""The LLM step activity: read the transcript, call the model, append its answer.

Idempotent per (run_id, seq): a retry after a lost completion returns the stored answer instead
of calling the model again, so the tools it asked for are not asked for twice.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.llm.base import ModelProvider, ModelRequest
from activities.llm.clients import ProviderClients
from activities.llm.deltas import DeltaPublisher
from activities.llm.prefixes import TranscriptPrefixes
from activities.llm.pricing import find_price, price
from activities.llm.retrying import retrying_event
from activities.llm.structured import check_output, instructions
from activities.metrics import CallMetrics
from activities.specs import AgentSpecs
from activities.transcript import from_body, to_body
from config_store.transcript import TranscriptStore
from workflows.policy import model_choices, script_window
from workflows.types import (
    AgentSpec,
    LlmStepInput,
    LlmStepResult,
    ProviderSpec,
    TranscriptMessage,
    usage_of,
)

ProviderFactory = Callable[[ProviderSpec, Mapping[str, str]], ModelProvider]


def system_prompt(agent: AgentSpec) -> str:
    """The agent's (already rendered) prompt, plus the output schema when it declares one."""
    if agent.output_schema is None:
        return agent.system_prompt
    return f"{agent.system_prompt}\n\n{instructions(agent.output_schema)}".strip()


def streams(input: LlmStepInput) -> bool:
    """Whether the provider streams this call: when someone follows the run (the workflow
    scheduled it with `stream_tokens`: a poll of its stream, or a caller that said it would
    follow from the start). A call nobody follows is one plain request: streaming it would cost
    the worker CPU for no reader (docs/architecture.md)."""
    return input.stream_tokens


class LlmActivities:
    def __init__(
        self,
        store: TranscriptStore,
        *,
        env: Mapping[str, str] | None = None,
        clients: ProviderClients | None = None,
        provider_factory: ProviderFactory | None = None,
        specs: AgentSpecs | None = None,
        prefixes: TranscriptPrefixes | None = None,
    ) -> None:
        """`clients`: the worker's pool of provider SDK clients, which its owner closes (None: a
        pool of these activities' own). `provider_factory`, when given, builds a provider per
        step instead (closed after the step), e.g. a fake model in tests. `specs`: the worker's
        agent specs by reference (None: a cache of these activities' own). `prefixes`: the
        transcripts this worker holds, which its tool steps extend (None: these activities'
        own)."""
        self._store = store
        self._specs = specs if specs is not None else AgentSpecs()
        self._env = env if env is not None else os.environ
        self._clients = clients if clients is not None else ProviderClients()
        self._provider_factory = provider_factory
        self._prefixes = prefixes if prefixes is not None else TranscriptPrefixes()
        self._metrics = CallMetrics()

    @asynccontextmanager
    async def _provider(self, spec: ProviderSpec) -> AsyncIterator[ModelProvider]:
        if self._provider_factory is None:
            async with self._clients.provider(spec, self._env) as pooled:
                yield pooled
            return
        provider = self._provider_factory(spec, self._env)
        try:
            yield provider
        finally:
            await provider.aclose()

    @activity.defn(name="llm_step")
    async def llm_step(self, input: LlmStepInput) -> LlmStepResult:
        agent = await self._step_agent(input)
        first_attempt = activity.info().attempt == 1
        held = self._prefixes.get(input.run_id)
        if first_attempt and not input.prelude and len(held) == input.seq:
            # This worker holds the whole transcript before the step (activities/llm/prefixes.py)
            # and no earlier attempt can have stored its answer: nothing to read.
            stored, history = None, held
        else:
            stored, history = await asyncio.to_thread(self._load, input, first_attempt)
        if stored is None:
            request = ModelRequest(
                provider=agent.provider,
                model=agent.model,
                system_prompt=system_prompt(agent),
                messages=history,
                tools=agent.tools,
                temperature=agent.temperature,
                script=agent.script,
                # `agent.script` holds just this call's turn (workflows.policy.script_window):
                # the scripted model counts answers from here.
                script_start=sum(1 for m in history if m.role == "assistant"),
            )
            async with (
                self._provider(agent.provider) as provider,
                DeltaPublisher.for_step(input) as deltas,
            ):
                if streams(input):
                    request = replace(request, on_delta=deltas.publish)
                try:
                    reply = await heartbeating(provider.complete(request))
                except ApplicationError as err:
                    retrying = retrying_event(err, activity.info())
                    if retrying is not None:  # a follower sees why the step takes longer
                        deltas.announce(retrying)
                    raise
            message = TranscriptMessage(
                role="assistant", text=reply.text, tool_calls=reply.tool_calls
            )
            # Priced as configured (the agent's model), else as answered (a dated snapshot name).
            priced_as = agent.model
            if find_price(agent.provider.prices, priced_as) is None and reply.model:
                priced_as = reply.model
            usage = price(reply.usage, agent.provider, priced_as)
            self._metrics.model_call(agent.name, agent.provider.name, usage)
            body = to_body(message, usage=usage, model=reply.model)
            appended = await asyncio.to_thread(self._store.append, input.run_id, input.seq, [body])
            stored = appended[0]
        message = from_body(stored)
        # Held on from where the worker's transcript of the run ends, as stored (first write wins).
        self._prefixes.extend(input.run_id, input.seq, (message,))
        output: Any = None
        errors: tuple[str, ...] = ()
        schema = agent.output_schema
        if schema is not None and not message.tool_calls:
            output, errors = check_output(message.text, schema)
        return LlmStepResult(
            text=message.text,
            tool_calls=message.tool_calls,
            usage=usage_of(stored),
            model=str(stored.get("model", "")),
            output=output,
            output_errors=errors,
        )

    async def _step_agent(self, input: LlmStepInput) -> AgentSpec:
        """The agent as this step calls it: its model choice, its script turn, no fallbacks."""
        if input.spec_ref is None:  # written before the spec went by reference: it is here
            if input.agent is None:
                raise ApplicationError(
                    "llm_step input has neither an agent nor a spec_ref",
                    type="InvalidStepInput",
                    non_retryable=True,
                )
            return input.agent
        spec = await self._specs.get(input.spec_ref)
        choices = model_choices(spec)
        if not 0 <= input.model_choice < len(choices):
            raise ApplicationError(
                f"model choice {input.model_choice} of agent {spec.name!r}: it has {len(choices)}",
                type="InvalidStepInput",
                non_retryable=True,
            )
        choice = choices[input.model_choice]
        return replace(
            spec,
            provider=choice.provider,
            model=choice.model,
            fallbacks=(),
            script=script_window(spec.script, input.step - 1),
        )

    def _load(
        self, input: LlmStepInput, first_attempt: bool
    ) -> tuple[dict[str, Any] | None, tuple[TranscriptMessage, ...]]:
        """Write the prelude, then read: (this step's stored answer, or None; the messages
        before it). One trip to the store, none to read when the worker holds them all."""
        if input.prelude:
            start = input.seq - len(input.prelude)
            written = self._store.append(input.run_id, start, [to_body(m) for m in input.prelude])
            self._prefixes.extend(input.run_id, start, tuple(from_body(b) for b in written))
        # The messages read or written by an earlier step of the run on this worker are still
        # true (activities/llm/prefixes.py): read only the ones after them.
        held = self._prefixes.get(input.run_id)
        known = held[: input.seq]
        if first_attempt and len(held) == input.seq:
            # Held whole and nothing after it: a first attempt's answer is not stored yet.
            return None, known
        entries = self._store.read(input.run_id, input.seq + 1, start=len(known))
        if entries and entries[-1][0] == input.seq:
            return entries[-1][1], ()
        if len(known) + len(entries) != input.seq:
            # A message the workflow already counted is not in the store yet: try again.
            raise RuntimeError(
                f"transcript of run {input.run_id} has {len(known) + len(entries)} messages "
                f"before position {input.seq}"
            )
        history = known + tuple(from_body(body) for _, body in entries)
        self._prefixes.put(input.run_id, history)
        return None, history
