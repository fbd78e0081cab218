"""The worker: the AgentRun workflow and the activities it calls, wired to their dependencies."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

import activities
import workflows
from activities.llm.activity import LlmActivities
from activities.llm.clients import ProviderClients
from activities.llm.prefixes import TranscriptPrefixes
from activities.outcomes import OutcomeActivities, OutcomeWriter
from activities.specs import AgentSpecs
from activities.subagents import SubagentActivities
from activities.tools.activity import ToolActivities
from activities.tools.base import OutboundPolicy, ToolContext
from activities.tools.mcp_pool import McpPool
from activities.transcript import TranscriptActivities
from config_store.db import make_engine, make_session_factory
from config_store.transcript import TranscriptStore
from core.settings import Settings, allow_hosts, doc_search_roots
from temporal.activity_logs import ActivityLogs
from temporal.converter import compact
from temporal.sandbox import workflow_runner
from temporal.shutdown import InFlight
from temporal.tracing import worker_interceptors
from workflows.agent_run import AgentRun


@functools.cache
def code_build_id() -> str:
    """The worker's build id: 12 hex digits of a hash of the code it runs (the workflow and
    activity packages' sources). The SDK's default hashes every loaded module into 32 digits;
    the id is written into three history events of every step (docs/architecture.md)."""
    digest = hashlib.sha256()
    for package in (workflows, activities):
        root = Path(str(package.__file__)).parent
        for source in sorted(root.rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def build_worker(
    client: Client,
    settings: Settings,
    store: TranscriptStore,
    *,
    task_queue: str | None = None,
    env: Mapping[str, str] | None = None,
    in_flight: InFlight | None = None,
    clients: ProviderClients | None = None,
    specs: AgentSpecs | None = None,
) -> Worker:
    """The worker of `settings`. On `shutdown()` it stops polling and gives the activities in
    flight WORKER_SHUTDOWN_GRACE_S to finish before it cancels them; `in_flight`, when given,
    counts them (and can cancel them sooner: temporal/shutdown.py). `clients`: the pool of
    provider SDK clients its model steps share (default: a new one); closed when it stops.
    `specs`: the agent specs its activities read by reference (default: a new cache)."""
    settings.workspace_dir.mkdir(parents=True, exist_ok=True)
    client = compact(client)  # defaults left out of what it writes (temporal/converter.py)
    environ = env if env is not None else os.environ
    clients = clients if clients is not None else ProviderClients()
    specs = specs if specs is not None else AgentSpecs()
    prefixes = TranscriptPrefixes()  # the transcripts held: model steps read, tool steps extend
    llm = LlmActivities(store, env=environ, clients=clients, specs=specs, prefixes=prefixes)
    context = tool_context(settings, store, environ)
    tools = ToolActivities(store, context, specs, prefixes)
    transcript = TranscriptActivities(store)
    subagents = SubagentActivities(store.session_factory)
    writer = OutcomeWriter(store.session_factory)
    outcomes = OutcomeActivities(writer)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=[AgentRun],
        workflow_runner=workflow_runner(),
        activities=[
            llm.llm_step,
            tools.tool_call,
            transcript.record,
            subagents.resolve_subagent,
            outcomes.record_outcome,
        ],
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_s),
        max_concurrent_activities=settings.worker_max_activities,
        max_cached_workflows=settings.worker_max_cached_runs,
        build_id=code_build_id(),
        interceptors=[
            ActivityLogs(),
            *([in_flight] if in_flight is not None else []),
            *worker_interceptors(client),  # tracing's, when on and not on the client already
        ],
        # Close the provider clients and the MCP sessions (stop stdio servers) once the worker
        # has stopped.
        plugins=[
            clients.worker_plugin(),
            writer.worker_plugin(),  # writes the outcomes it holds once the worker has stopped
            *([context.mcp.worker_plugin()] if context.mcp is not None else []),
        ],
    )


def tool_context(settings: Settings, store: TranscriptStore, env: Mapping[str, str]) -> ToolContext:
    """What every tool call of this worker runs with."""
    return ToolContext(
        workspace_dir=settings.workspace_dir.resolve(),
        env=env,
        outbound=OutboundPolicy(
            allow_hosts=allow_hosts(settings),
            max_response_bytes=settings.outbound_max_response_bytes,
            timeout_s=settings.outbound_timeout_s,
        ),
        doc_search_roots=doc_search_roots(settings),
        session_factory=store.session_factory,
        mcp=McpPool(env, allow_hosts(settings)),
    )


def transcript_store(settings: Settings) -> TranscriptStore:
    return TranscriptStore(make_session_factory(make_engine(settings.database_url)))
