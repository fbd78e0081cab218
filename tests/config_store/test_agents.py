from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config_store import agents, providers, routes, tools
from config_store.models import AgentVersion
from config_store.specs import AgentIn, ProviderIn, RouteIn, ScriptTurnIn, ToolCallIn
from core.errors import Conflict, InvalidConfig, NotFound
from workflows.types import ScriptTurn, ToolCall


def spec(**overrides: object) -> AgentIn:
    values: dict[str, object] = {
        "provider": "p",
        "model": "m1",
        "system_prompt": "be brief",
        "tools": ["calc"],
        "max_steps": 5,
    }
    values.update(overrides)
    return AgentIn.model_validate(values)


def test_update_writes_a_new_version_and_keeps_the_old(basics: Session) -> None:
    s = basics
    v1 = agents.create_agent(s, "a", spec())
    s.commit()
    assert (v1.version, v1.agent.current_version) == (1, 1)

    v2 = agents.update_agent(s, "a", spec(system_prompt="be thorough", tools=["calc", "read"]))
    s.commit()
    assert (v2.version, v2.agent.current_version) == (2, 2)

    old = agents.get_agent(s, "a", 1)
    assert (old.system_prompt, old.tools) == ("be brief", ["calc"])
    assert agents.get_agent(s, "a").version == 2
    assert [v.version for v in agents.list_versions(s, "a")] == [1, 2]


def test_identical_update_writes_no_version(basics: Session) -> None:
    s = basics
    agents.create_agent(s, "a", spec())
    s.commit()
    assert agents.update_agent(s, "a", spec()).version == 1
    # The description is not versioned: changing it alone writes no version either.
    same = agents.update_agent(s, "a", spec(description="new words"))
    s.commit()
    assert (same.version, same.agent.description) == (1, "new words")
    assert s.scalar(select(func.count()).select_from(AgentVersion)) == 1


def test_upsert_reports_what_happened(basics: Session) -> None:
    s = basics
    assert agents.upsert_agent(s, "a", spec()) == ("created", 1)
    assert agents.upsert_agent(s, "a", spec()) == ("unchanged", 1)
    assert agents.upsert_agent(s, "a", spec(max_steps=6)) == ("updated", 2)


def test_list_agents_shows_current_versions(basics: Session) -> None:
    s = basics
    agents.create_agent(s, "b", spec())
    agents.create_agent(s, "a", spec())
    agents.update_agent(s, "a", spec(max_steps=7))
    s.commit()
    assert [(v.agent.name, v.version) for v in agents.list_agents(s)] == [("a", 2), ("b", 1)]


def test_snapshot_resolves_provider_tools_and_script(basics: Session) -> None:
    s = basics
    script = [
        ScriptTurnIn(
            tool_calls=[
                ToolCallIn(name="calc", arguments={"expression": "2+2"}),
                ToolCallIn(name="read", arguments={"path": "x"}, id="mine"),
            ]
        ),
        ScriptTurnIn(text="4"),
    ]
    agents.create_agent(s, "a", spec(model="", tools=["read", "calc"], script=script))
    s.commit()
    snap = agents.snapshot_agent(s, "a")
    assert (snap.name, snap.version, snap.model) == ("a", 1, "m-default")
    assert snap.provider.name == "p" and snap.provider.kind == "scripted"
    assert [t.name for t in snap.tools] == ["read", "calc"]
    assert snap.tools[0].requires_approval and snap.tools[0].timeout_s == 5
    assert snap.tools[1].parameters["required"] == ["expression"]
    assert snap.script == (
        ScriptTurn(
            tool_calls=(
                ToolCall(id="call_0_0", name="calc", arguments={"expression": "2+2"}),
                ToolCall(id="mine", name="read", arguments={"path": "x"}),
            )
        ),
        ScriptTurn(text="4"),
    )
    agents.update_agent(s, "a", spec())
    s.commit()
    assert agents.snapshot_agent(s, "a", 1).model == "m-default"
    assert agents.snapshot_agent(s, "a").model == "m1"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"provider": "nope"}, "provider"),
        ({"tools": ["calc", "nope"]}, "tools[1]"),
        ({"tools": ["calc", "calc"]}, "tools[1]"),
        ({"max_steps": 0}, "max_steps"),
        ({"max_steps": 1001}, "max_steps"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
    ],
)
def test_validation_names_the_field(
    basics: Session, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidConfig) as err:
        agents.create_agent(basics, "a", spec(**overrides))
    assert err.value.field == field


def test_bad_name_and_missing_model(basics: Session) -> None:
    with pytest.raises(InvalidConfig) as err:
        agents.create_agent(basics, "Bad Name", spec())
    assert err.value.field == "name"
    providers.create_provider(basics, "bare", ProviderIn(kind="scripted"))
    with pytest.raises(InvalidConfig) as err:
        agents.create_agent(basics, "a", spec(provider="bare", model=""))
    assert err.value.field == "model"


def test_conflicts_and_not_found(basics: Session) -> None:
    s = basics
    agents.create_agent(s, "a", spec())
    routes.create_route(s, "r", RouteIn(agent="a"))
    s.commit()
    with pytest.raises(Conflict):
        agents.create_agent(s, "a", spec())
    with pytest.raises(Conflict):
        providers.delete_provider(s, "p")
    with pytest.raises(Conflict):
        tools.delete_tool(s, "calc")
    with pytest.raises(Conflict):
        agents.delete_agent(s, "a")
    with pytest.raises(NotFound):
        agents.get_agent(s, "zzz")
    with pytest.raises(NotFound):
        agents.get_agent(s, "a", 9)

    assert routes.resolve_route(s, "r") == "a"
    routes.delete_route(s, "r")
    agents.delete_agent(s, "a")
    s.commit()
    assert s.scalar(select(func.count()).select_from(AgentVersion)) == 0
    with pytest.raises(NotFound):
        routes.resolve_route(s, "r")
    # No version references the provider or the tool any more.
    tools.delete_tool(s, "calc")
    providers.delete_provider(s, "p")
    s.commit()


def test_snapshot_of_an_agent_whose_tool_was_deleted(basics: Session) -> None:
    s = basics
    agents.create_agent(s, "a", spec(tools=["calc"]))
    agents.update_agent(s, "a", spec(tools=[]))
    tools.delete_tool(s, "calc")  # only the old version lists it
    s.commit()
    with pytest.raises(InvalidConfig) as err:
        agents.snapshot_agent(s, "a", 1)
    assert err.value.field == "tools[0]"
