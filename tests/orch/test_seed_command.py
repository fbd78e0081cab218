"""`orch seed --if-empty`: what a deployment's migrate step runs on every start. It loads the
file into a fresh database only, so an agent edited through the API keeps its edit instead of
getting the file's definition back as a new version at the next deploy."""

from __future__ import annotations

import os
from pathlib import Path

from config_store.agents import get_agent, list_versions, update_agent
from config_store.db import make_engine, make_session_factory
from config_store.specs import AgentIn
from tests.support.cli import orch
from tests.support.temporal import EXAMPLE_CONFIG

EDITED_PROMPT = "Edited through the API: answer in one word."


def _demo_versions(sqlite_url: str) -> tuple[int, str]:
    """How many versions the example's `demo` agent has, and its current system prompt."""
    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            return len(list_versions(session, "demo")), get_agent(session, "demo").system_prompt
    finally:
        engine.dispose()


def _edit_demo_as_the_api_does(sqlite_url: str) -> None:
    """PUT /v1/agents/demo calls this same function with the request's body."""
    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine).begin() as session:
            update_agent(
                session,
                "demo",
                AgentIn(
                    provider="offline",
                    model="scripted-demo",
                    system_prompt=EDITED_PROMPT,
                    tools=["calculator"],
                ),
            )
    finally:
        engine.dispose()


def _env(sqlite_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": sqlite_url}


def test_seed_if_empty_loads_a_fresh_database_then_keeps_api_edits(sqlite_url: str) -> None:
    env = _env(sqlite_url)
    first = orch(env, "seed", "--if-empty", str(EXAMPLE_CONFIG))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"seeded {EXAMPLE_CONFIG}"), first.stdout
    versions, prompt = _demo_versions(sqlite_url)
    assert versions == 1 and prompt != EDITED_PROMPT

    _edit_demo_as_the_api_does(sqlite_url)
    assert _demo_versions(sqlite_url) == (2, EDITED_PROMPT)

    again = orch(env, "seed", "--if-empty", str(EXAMPLE_CONFIG))  # the next deploy
    assert again.returncode == 0, again.stderr
    assert "not seeded" in again.stdout and "already has configuration" in again.stdout
    assert _demo_versions(sqlite_url) == (2, EDITED_PROMPT), "the API's edit was replaced"

    # Without the flag the file wins: the edit is replaced by a new version (what a migrate
    # step that seeds on every start did).
    plain = orch(env, "seed", str(EXAMPLE_CONFIG))
    assert plain.returncode == 0, plain.stderr
    versions, prompt = _demo_versions(sqlite_url)
    assert versions == 3 and prompt != EDITED_PROMPT


def test_seed_if_empty_still_fails_on_a_missing_file(sqlite_url: str, tmp_path: Path) -> None:
    env = _env(sqlite_url)
    assert orch(env, "seed", "--if-empty", str(EXAMPLE_CONFIG)).returncode == 0
    missing = orch(env, "seed", "--if-empty", str(tmp_path / "nowhere.yaml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr, missing
    assert "Traceback" not in missing.stderr
