"""held_prepared_agent: the answer of prepared_agent when the cache holds the snapshot and the
prompt is plain text; None whenever answering would take more than the cache's one query."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from config_store import agents
from config_store.prepared import held_prepared_agent, prepared_agent
from config_store.snapshot_cache import SNAPSHOTS
from config_store.specs import AgentIn
from core.errors import InvalidConfig

DAY = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    SNAPSHOTS.clear()


def agent(s: Session, name: str, prompt: str) -> None:
    agents.create_agent(
        s, name, AgentIn(provider="p", system_prompt=prompt, prompt_variables=["customer"])
    )
    s.commit()


def test_a_held_plain_prompt_is_answered_as_prepared_agent_does(basics: Session) -> None:
    agent(basics, "plain", "Be brief.")
    assert held_prepared_agent(basics, "plain", input="hi", today=DAY, variables={}) is None
    prepared = prepared_agent(basics, "plain", input="hi", today=DAY, variables={})
    held = held_prepared_agent(basics, "plain", input="hi", today=DAY, variables={})
    assert held == prepared and held is not None and held.system_prompt == "Be brief."
    with basics.get_bind().engine.connect() as connection:  # a start's read, on SQLite
        on_core = held_prepared_agent(connection, "plain", input="hi", today=DAY, variables={})
    # Plain text renders to itself: the cache's frozen snapshot is handed out, not a copy.
    assert on_core is held
    with pytest.raises(InvalidConfig) as err:  # the variables are checked all the same
        held_prepared_agent(basics, "plain", input="hi", today=DAY, variables={"who": 1})
    assert err.value.field == "variables.who"


def test_a_template_is_never_rendered_there(basics: Session) -> None:
    agent(basics, "templated", "Help {{ customer }}.")
    prepared = prepared_agent(
        basics, "templated", input="hi", today=DAY, variables={"customer": "Ada"}
    )
    assert prepared.system_prompt == "Help Ada."
    assert (
        held_prepared_agent(
            basics, "templated", input="hi", today=DAY, variables={"customer": "Ada"}
        )
        is None
    )


def test_an_unknown_agent_is_left_to_prepared_agent(basics: Session) -> None:
    assert held_prepared_agent(basics, "nobody", input="hi", today=DAY, variables={}) is None
