"""The doc_search tool end to end through execute_tool, on real SQLite and Postgres stores."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.base import InvalidArguments, ToolContext, ToolError
from activities.tools.registry import IMPLEMENTATIONS, execute_tool
from config_store.specs import ToolIn
from core.errors import InvalidConfig
from core.settings import Settings
from docsearch.index import DocIndex, IndexOptions
from services.tools import create_tool, update_tool
from workflows.types import ToolSpec

HOSTILE = ['"', "*", "NEAR(", "') OR 1=1 --", "a AND OR", "retry NOT", "^", "col:retry"]


def write(folder: Path, relative: str, content: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    docs = root / "docs"
    write(
        docs,
        "retries.md",
        "# Retry policies\n\nA retry policy sets the backoff of an activity. "
        "The retry policy also caps the attempts.\n",
    )
    write(
        docs,
        "ops/runbook.txt",
        "Runbook\n=======\n\nWhen the worker runs out of memory, restart it.\n",
    )
    write(docs, "cooking.md", "# Bread\n\nA policy on salt: a pinch.\n")
    return root


@pytest.fixture
def ctx(workspace: Path, session_factory: sessionmaker[Session]) -> ToolContext:
    return ToolContext(workspace_dir=workspace, session_factory=session_factory)


def tool(**config: Any) -> ToolSpec:
    return ToolSpec(name="docs", kind="doc_search", config={"folder": "docs", **config})


async def test_numbered_hits_with_path_title_score_and_marked_snippet(ctx: ToolContext) -> None:
    result = await execute_tool(tool(), {"query": "retry policy"}, ctx)

    lines = result.splitlines()
    assert lines[0] == "Documents with all of retry policy:"
    assert re.fullmatch(r"1\. retries\.md — Retry policies \(score [0-9.e+-]+\)", lines[1])
    assert "«retry»" in lines[2].lower() and lines[2].startswith("   ")
    assert "Documents with some of the terms:" in lines
    assert re.search(r"^2\. cooking\.md — Bread ", result, re.M)


async def test_stemming_and_changes_between_calls(ctx: ToolContext, workspace: Path) -> None:
    result = await execute_tool(tool(), {"query": "running"}, ctx)
    assert "1. ops/runbook.txt — Runbook" in result
    assert "«runs»" in result

    write(workspace / "docs", "new.md", "# Zeppelins\n\nZeppelins float.\n")
    (workspace / "docs" / "cooking.md").unlink()

    assert "1. new.md — Zeppelins" in await execute_tool(tool(), {"query": "zeppelin"}, ctx)
    missing = await execute_tool(tool(), {"query": "bread"}, ctx)
    assert missing == "No document matches bread (3 documents searched)."


async def test_max_results_is_capped_by_the_config(ctx: ToolContext) -> None:
    def count(result: str) -> int:
        return len(re.findall(r"^\d+\. ", result, re.M))

    assert count(await execute_tool(tool(), {"query": "policy"}, ctx)) == 2
    assert count(await execute_tool(tool(), {"query": "policy", "max_results": 1}, ctx)) == 1
    capped = tool(max_results=1)
    assert count(await execute_tool(capped, {"query": "policy", "max_results": 50}, ctx)) == 1


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_are_answered(ctx: ToolContext, query: str) -> None:
    result = await execute_tool(tool(), {"query": query}, ctx)

    assert result  # an answer (maybe empty), never an exception


async def test_a_query_without_words(ctx: ToolContext) -> None:
    result = await execute_tool(tool(), {"query": "*** -- ( )"}, ctx)

    assert result.startswith("The query has no words to search for")
    with pytest.raises(InvalidArguments):
        await execute_tool(tool(), {"query": ""}, ctx)


async def test_absolute_folder_and_extensions(ctx: ToolContext, tmp_path: Path) -> None:
    code = tmp_path / "code"
    write(code, "retry.py", "def retry_policy():\n    return 'backoff'\n")
    write(code, "notes.md", "backoff notes\n")
    spec = ToolSpec(
        name="code", kind="doc_search", config={"folder": str(code), "extensions": ["py"]}
    )

    result = await execute_tool(spec, {"query": "backoff"}, replace(ctx, doc_search_roots=(code,)))

    assert "1. retry.py — retry.py" in result
    assert "notes.md" not in result


async def test_interval_reindex(ctx: ToolContext, workspace: Path) -> None:
    spec = tool(reindex="interval", reindex_interval_s=0.5)
    assert "retries.md" in await execute_tool(spec, {"query": "backoff"}, ctx)
    write(workspace / "docs", "late.md", "zeppelin\n")

    assert "No document matches" in await execute_tool(spec, {"query": "zeppelin"}, ctx)
    await asyncio.sleep(0.6)
    assert "1. late.md" in await execute_tool(spec, {"query": "zeppelin"}, ctx)


async def test_problems_the_model_is_told(ctx: ToolContext, workspace: Path) -> None:
    async def problem(spec: ToolSpec, context: ToolContext) -> str:
        with pytest.raises(ToolError) as caught:
            await execute_tool(spec, {"query": "retry"}, context)
        return str(caught.value)

    assert "does not exist on the worker" in await problem(tool(folder="nope"), ctx)
    assert "more than 2 documents" in await problem(tool(max_files=2), ctx)
    no_store = ToolContext(workspace_dir=workspace)
    assert "no config store" in await problem(tool(), no_store)
    assert "config.max_results" in await problem(tool(max_results=0), ctx)


def test_config_is_checked_when_the_tool_is_saved(session_factory: sessionmaker[Session]) -> None:
    def field(config: dict[str, Any]) -> str:
        with session_factory() as session, pytest.raises(InvalidConfig) as caught:
            create_tool(session, "docs", ToolIn(kind="doc_search", config=config))
        return caught.value.field

    assert field({}) == "config.folder"
    assert field({"folder": 3}) == "config.folder"
    assert field({"folder": "d", "max_results": 0}) == "config.max_results"
    assert field({"folder": "d", "max_results": True}) == "config.max_results"
    assert field({"folder": "d", "extensions": ["../x"]}) == "config.extensions"
    assert field({"folder": "d", "extensions": []}) == "config.extensions"
    assert field({"folder": "d", "max_file_bytes": -1}) == "config.max_file_bytes"
    assert field({"folder": "d", "reindex": "sometimes"}) == "config.reindex"
    assert field({"folder": "d", "reindex_interval_s": 0}) == "config.reindex_interval_s"
    assert field({"folder": "d", "path": "x"}) == "config.path"
    with session_factory() as session:  # existence is checked at call time, not here
        row = create_tool(session, "docs", ToolIn(kind="doc_search", config={"folder": "nope"}))
        assert row.parameters == dict(IMPLEMENTATIONS["doc_search"].parameters)


def test_sync_cost_when_nothing_changed(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A sync before every search must stay cheap: 200 unchanged files, no writes."""
    folder = (tmp_path / "many").resolve()
    for n in range(200):
        write(folder, f"d{n % 10}/doc{n}.md", f"# Doc {n}\n\n" + "some text here\n\n" * 40)
    index = DocIndex(session_factory)
    assert index.sync(folder, IndexOptions()).added == 200
    started = time.perf_counter()
    for _ in range(5):
        assert index.sync(folder, IndexOptions()).unchanged == 200
    per_sync = (time.perf_counter() - started) / 5
    assert per_sync < 1.0  # measured ~10 ms; generous for slow CI machines


def _secret_folder(tmp_path: Path) -> Path:
    outside = tmp_path / "secrets"
    write(outside, "key.md", "# Key\n\nprivate backoff key 0xDEADBEEF\n")
    return outside


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
async def test_a_folder_outside_the_workspace_and_roots_is_refused(
    ctx: ToolContext, workspace: Path, tmp_path: Path, how: str
) -> None:
    outside = _secret_folder(tmp_path)
    folder = {"absolute": str(outside), "dotdot": "docs/../../secrets", "symlink": "link"}[how]
    if how == "symlink":
        (workspace / "link").symlink_to(outside)
    spec = ToolSpec(name="docs", kind="doc_search", config={"folder": folder})

    with pytest.raises(ToolError, match="outside the workspace and DOC_SEARCH_ROOTS") as caught:
        await execute_tool(spec, {"query": "backoff"}, ctx)
    assert "DEADBEEF" not in str(caught.value)
    allowed = await execute_tool(
        spec, {"query": "backoff"}, replace(ctx, doc_search_roots=(outside,))
    )
    assert "key.md" in allowed


def test_the_api_refuses_a_folder_outside_the_workspace_and_roots_at_save_time(
    session: Session, workspace: Path, tmp_path: Path
) -> None:
    outside = _secret_folder(tmp_path)
    settings = Settings(workspace_dir=workspace)
    for folder in (str(outside), "../secrets"):
        spec = ToolIn(kind="doc_search", config={"folder": folder})
        with pytest.raises(InvalidConfig, match="DOC_SEARCH_ROOTS"):
            create_tool(session, "docs", spec, settings)

    inside = create_tool(
        session, "docs", ToolIn(kind="doc_search", config={"folder": "docs"}), settings
    )
    assert inside.name == "docs"
    relative = Settings(workspace_dir=workspace, doc_search_roots="secrets")  # not absolute
    with pytest.raises(InvalidConfig, match="DOC_SEARCH_ROOTS"):
        update_tool(
            session, "docs", ToolIn(kind="doc_search", config={"folder": "../secrets"}), relative
        )
    rooted = Settings(workspace_dir=workspace, doc_search_roots=f"{outside},/elsewhere")
    spec = ToolIn(kind="doc_search", config={"folder": str(outside)})
    assert create_tool(session, "secrets", spec, rooted).name == "secrets"
