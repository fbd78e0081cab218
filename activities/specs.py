"""The agents' definitions the worker's activities run with, by reference.

Activity inputs carry the content hash of the run's `AgentSpec` (`spec_ref`,
workflows/spec_ref.py), not the spec. The spec is in the input of the workflow execution that
scheduled the activity (`RunInput.agent`): on a miss it is read from there, through Temporal
(one history page of one event, the execution's start), checked against the hash and kept.
Kept by hash, so the steps and runs of one spec (one agent version, one rendered prompt) read
it once per worker; bounded (least recently used go first), since specs are per run.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.started import started_event
from core.logs import bind
from workflows.spec_ref import spec_hash
from workflows.types import AgentSpec, RunInput

CACHE_SIZE = 256
READ_TIMEOUT = timedelta(seconds=10)
# The error type of a reference the worker cannot resolve: retrying would not help.
SPEC_NOT_FOUND = "AgentSpecNotFound"
SPEC_MISMATCH = "AgentSpecMismatch"


class AgentSpecs:
    """The specs this worker has read, by content hash; shared by its activities."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._specs: OrderedDict[str, AgentSpec] = OrderedDict()
        self._reading: dict[str, asyncio.Future[AgentSpec]] = {}
        self.reads = 0  # Temporal reads so far (a measure for tests)

    async def get(self, spec_ref: str) -> AgentSpec:
        """The spec `spec_ref` names, for the activity running now (its workflow's input holds
        it). Concurrent misses of one hash share one read."""
        spec = self._specs.get(spec_ref)
        if spec is not None:
            self._specs.move_to_end(spec_ref)
            bind(agent=spec.name)  # the activity's log records name the agent from here on
            return spec
        reading = self._reading.get(spec_ref)
        if reading is None:
            self.reads += 1
            reading = asyncio.ensure_future(self.read())
            self._reading[spec_ref] = reading
            reading.add_done_callback(lambda done: self._done(spec_ref, done))
        spec = await asyncio.shield(reading)
        found = spec_hash(spec)
        if found != spec_ref:
            raise ApplicationError(
                f"the agent spec of workflow {activity.info().workflow_id} hashes to {found}, "
                f"not to {spec_ref} as the activity input says",
                type=SPEC_MISMATCH,
                non_retryable=True,
            )
        self._specs[spec_ref] = spec
        while len(self._specs) > self._size:
            self._specs.popitem(last=False)
        bind(agent=spec.name)
        return spec

    def _done(self, spec_ref: str, reading: asyncio.Future[AgentSpec]) -> None:
        self._reading.pop(spec_ref, None)
        if not reading.cancelled():
            reading.exception()  # retrieved here too: its waiters may all have been cancelled

    async def read(self) -> AgentSpec:
        """The agent in the input of the workflow execution that scheduled the activity running
        now, read from Temporal."""
        info = activity.info()
        return await read_spec(
            activity.client(), info.workflow_id or "", info.workflow_run_id or ""
        )


async def read_spec(client: Client, workflow_id: str, run_id: str) -> AgentSpec:
    """The agent in the input of execution `run_id` (""; the current one) of the AgentRun
    workflow `workflow_id`: the first event of its history."""
    started = await started_event(client, workflow_id, run_id, READ_TIMEOUT)
    if started is not None:
        [value] = await client.data_converter.decode(started.input.payloads, [RunInput])
        if isinstance(value, RunInput):
            return value.agent
    raise ApplicationError(
        f"workflow {workflow_id} (execution {run_id}) has no AgentRun input to read the "
        "agent spec from",
        type=SPEC_NOT_FOUND,
        non_retryable=True,
    )
