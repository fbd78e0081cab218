"""The example agents of examples/config.yaml (what `make up` loads) run, offline, through the
tools they show off: documents search, a sub-agent, workspace files and the outbound guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from config_store.agents import snapshot_agent
from core.settings import Settings
from tests.support.runs import events_of, run_agent
from tests.support.temporal import REPO

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def orch_settings(orch_settings: Settings) -> Settings:
    """As `make up` runs the example: this repository's docs/ is a DOC_SEARCH_ROOTS entry."""
    return orch_settings.model_copy(update={"doc_search_roots": str(REPO / "docs")})


def _example(seeded: Any, name: str) -> Any:
    with seeded() as session:
        return snapshot_agent(session, name)


def _tool_results(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == "tool.completed"]


async def test_lead_asks_the_librarian_who_searches_the_docs(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    # The example's search_docs folder is ../docs from the workspace, as from the repo root.
    (orch_settings.workspace_dir.parent / "docs").symlink_to(REPO / "docs")
    run_id, result = await run_agent(
        temporal_client, orch_settings, _example(seeded, "lead"), "where?"
    )
    assert result.status == "completed" and "architecture.md" in result.answer
    events = await events_of(temporal_client, run_id)
    relayed = [e["data"]["event"] for e in events if e["type"] == "subagent.event"]
    searched = next(e["data"] for e in relayed if e["type"] == "tool.completed")
    assert searched["name"] == "search_docs" and searched["ok"], searched
    assert "architecture.md" in searched["result"]
    assert next(e for e in events if e["type"] == "subagent.completed")["data"]["usage"]


async def test_scribe_writes_lists_and_reads_back_a_note(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(
        temporal_client, orch_settings, _example(seeded, "scribe"), "write"
    )
    assert result.status == "completed" and result.tool_errors == 0
    note = Path(orch_settings.workspace_dir) / "notes" / "hello.md"
    assert note.read_text() == "# Hello\nWritten by the scribe agent.\n"
    wrote, listed, read = _tool_results(await events_of(temporal_client, run_id))
    assert "hello.md" in listed["result"] and read["result"] == note.read_text()


async def test_researcher_is_refused_the_metadata_address(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(
        temporal_client, orch_settings, _example(seeded, "researcher"), "look"
    )
    assert result.status == "completed" and result.tool_errors == 1
    (refused,) = _tool_results(await events_of(temporal_client, run_id))
    assert not refused["ok"] and "cloud metadata" in refused["error"]


async def test_wordsmith_calls_the_demo_mcp_servers_tools(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(
        temporal_client, orch_settings, _example(seeded, "wordsmith"), "count"
    )
    assert result.status == "completed" and result.tool_errors == 0
    counted, slug = _tool_results(await events_of(temporal_client, run_id))
    assert counted["result"] == "5 words, 1 lines, 37 characters"
    assert slug["result"] == "durable-agents-survive-their-workers"
