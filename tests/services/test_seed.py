from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from config_store.agents import get_agent, list_versions, snapshot_agent
from config_store.routes import resolve_route
from config_store.tools import get_tool
from core.errors import InvalidConfig
from services.seed import is_empty, load_config, load_config_file, read_config_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config.yaml"
EXAMPLE_AGENTS = ("demo", "librarian", "lead", "scribe", "researcher", "wordsmith")
EXAMPLE_TOOLS = (
    "calculator",
    "read_file",
    "ask_user",
    "write_file",
    "list_files",
    "search_docs",
    "fetch_url",
    "web_search",
    "github",
    "create_ticket",
    "ask_librarian",
    "text__word_count",
    "text__slugify",
)


def test_example_config_loads_and_reloads(session_factory: sessionmaker[Session]) -> None:
    assert is_empty(session_factory)
    first = load_config_file(session_factory, EXAMPLE)
    assert sorted(first.created) == sorted(
        ["providers/offline", "mcp_servers/text", "routes/demo"]
        + [f"agents/{name}@v1" for name in EXAMPLE_AGENTS]
        + [f"tools/{name}" for name in EXAMPLE_TOOLS]
    )
    assert first.warnings == []
    again = load_config_file(session_factory, EXAMPLE)
    assert (again.created, again.updated) == ([], [])
    assert len(again.unchanged) == len(first.created)
    assert not is_empty(session_factory)
    with session_factory() as s:
        assert len(list_versions(s, "demo")) == 1
        assert resolve_route(s, "demo") == "demo"
        spec = snapshot_agent(s, "demo")
    assert (spec.provider.kind, spec.model, spec.max_steps) == ("scripted", "scripted-demo", 5)
    assert [t.name for t in spec.tools] == ["calculator", "read_file"]
    assert spec.tools[0].parameters["required"] == ["expression"]
    assert spec.approval_timeout_s == 3600.0
    with session_factory() as s:
        ask = get_tool(s, "ask_user")
        assert (ask.kind, ask.parameters["required"]) == ("ask_user", ["question"])


def test_changed_agent_gets_a_new_version(session_factory: sessionmaker[Session]) -> None:
    data = read_config_file(EXAMPLE)
    load_config_file(session_factory, EXAMPLE)
    data["agents"][0]["max_steps"] = 7
    with session_factory.begin() as s:
        report = load_config(s, data)
    assert report.updated == ["agents/demo@v2"]
    with session_factory() as s:
        assert get_agent(s, "demo").max_steps == 7
        assert get_agent(s, "demo", 1).max_steps == 5


def _broken(path: str, value: Any) -> dict[str, Any]:
    data = read_config_file(EXAMPLE)
    section, index, key = path.split(".")
    data[section][int(index)][key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("agents.0.provider", "missing", "agents[0].provider"),
        ("agents.0.max_steps", "five", "agents[0].max_steps"),
        ("agents.0.max_steps", 0, "agents[0].max_steps"),
        ("agents.0.tools", ["calculator", "shell"], "agents[0].tools[1]"),
        ("tools.1.parameters", {"type": 12}, "tools[1].parameters"),
        ("tools.0.colour", "red", "tools[0].colour"),
        ("providers.0.kind", "gemini", "providers[0].kind"),
        ("routes.0.agent", "missing", "routes[0].agent"),
        ("routes.0.key", "Bad Key", "routes[0].key"),
    ],
)
def test_bad_config_names_the_path_and_writes_nothing(
    session_factory: sessionmaker[Session], tmp_path: Path, path: str, value: Any, field: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_broken(path, value)))
    with pytest.raises(InvalidConfig) as err:
        load_config_file(session_factory, bad)
    assert err.value.field == field
    assert is_empty(session_factory)


def test_unreadable_files(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig):
        load_config_file(session_factory, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers: [unclosed")
    with pytest.raises(InvalidConfig):
        load_config_file(session_factory, bad)
    bad.write_text("widgets: []")
    with pytest.raises(InvalidConfig) as err:
        load_config_file(session_factory, bad)
    assert err.value.field == "widgets"


RESILIENT = """
providers:
  - name: offline
    kind: scripted
    default_model: scripted-demo
  - name: gateway
    kind: openai_compatible
    base_url: http://localhost:4000/v1
    api_key_env: GATEWAY_KEY
    default_model: small
    timeout_s: 30
    headers: {X-Team: "${TEAM_ID}"}
    prices:
      - {model: small, input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6}
agents:
  - name: helper
    provider: offline
    system_prompt: "You help {{ customer }} on {{ date }}."
    prompt_variables: [customer]
    fallbacks:
      - {provider: gateway}
      - {provider: gateway, model: big}
    max_total_tokens: 20000
    max_cost_usd: 0.5
    max_duration_s: 120
    model_timeout_s: 30
    model_max_attempts: 3
    output_schema: {type: object, required: [answer]}
    max_output_repairs: 1
    approval_timeout_s: 900
"""


def test_seed_of_the_model_settings(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "resilient.yaml"
    path.write_text(RESILIENT)
    report = load_config_file(session_factory, path)
    assert sorted(report.created) == ["agents/helper@v1", "providers/gateway", "providers/offline"]
    assert load_config_file(session_factory, path).changed is False
    with session_factory() as s:
        spec = snapshot_agent(s, "helper")
    assert [(c.provider.name, c.model) for c in spec.fallbacks] == [
        ("gateway", "small"),
        ("gateway", "big"),
    ]
    gateway = spec.fallbacks[0].provider
    assert (gateway.timeout_s, gateway.headers) == (30.0, {"X-Team": "${TEAM_ID}"})
    assert gateway.prices[0].output_usd_per_mtok == 0.6
    assert (spec.max_total_tokens, spec.max_cost_usd, spec.max_duration_s) == (20000, 0.5, 120.0)
    assert (spec.model_timeout_s, spec.model_max_attempts, spec.max_output_repairs) == (30.0, 3, 1)
    assert spec.approval_timeout_s == 900.0
    assert spec.output_schema == {"type": "object", "required": ["answer"]}
    assert spec.prompt_variables == ("customer",)

    data = yaml.safe_load(RESILIENT)
    data["agents"][0]["max_cost_usd"] = 1.0
    with session_factory.begin() as s:
        assert load_config(s, data).updated == ["agents/helper@v2"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"agents": {"fallbacks": [{"provider": "nope"}]}}, "agents[0].fallbacks[0].provider"),
        ({"agents": {"system_prompt": "{{ nobody }}"}}, "agents[0].system_prompt"),
        ({"agents": {"prompt_variables": ["date"]}}, "agents[0].prompt_variables[0]"),
        ({"agents": {"output_schema": {"type": 3}}}, "agents[0].output_schema"),
        ({"agents": {"max_total_tokens": "lots"}}, "agents[0].max_total_tokens"),
        ({"agents": {"model_max_attempts": 0}}, "agents[0].model_max_attempts"),
        ({"agents": {"approval_timeout_s": 0}}, "agents[0].approval_timeout_s"),
        ({"providers": {"headers": {"Authorization": "x"}}}, "providers[1].headers.Authorization"),
        ({"providers": {"headers": {"X-A": 5}}}, "providers[1].headers.X-A"),
        ({"providers": {"timeout_s": 601}}, "providers[1].timeout_s"),
        ({"providers": {"prices": [{"model": "x"}]}}, "providers[1].prices[0].input_usd_per_mtok"),
    ],
)
def test_bad_model_settings_name_the_path(
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    change: dict[str, dict[str, Any]],
    field: str,
) -> None:
    data = yaml.safe_load(RESILIENT)
    for section, values in change.items():
        data[section][-1].update(values)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidConfig) as err:
        load_config_file(session_factory, bad)
    assert err.value.field == field
    assert is_empty(session_factory)
