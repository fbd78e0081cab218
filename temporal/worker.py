"""The worker: the AgentRun workflow and the activities it calls, wired to their dependencies."""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.client import Client
from temporalio.worker import Worker

from activities.llm.activity import LlmActivities
from activities.tools.activity import ToolActivities
from activities.tools.base import ToolContext
from activities.transcript import TranscriptActivities
from config_store.db import make_engine, make_session_factory
from config_store.transcript import TranscriptStore
from orch.settings import Settings
from workflows.agent_run import AgentRun


def build_worker(
    client: Client,
    settings: Settings,
    store: TranscriptStore,
    *,
    task_queue: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Worker:
    settings.workspace_dir.mkdir(parents=True, exist_ok=True)
    llm = LlmActivities(store, env=env if env is not None else os.environ)
    tools = ToolActivities(store, ToolContext(workspace_dir=settings.workspace_dir.resolve()))
    transcript = TranscriptActivities(store)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=[AgentRun],
        activities=[llm.llm_step, tools.tool_call, transcript.record],
    )


def transcript_store(settings: Settings) -> TranscriptStore:
    return TranscriptStore(make_session_factory(make_engine(settings.database_url)))
