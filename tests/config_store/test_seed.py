from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from config_store.agents import get_agent, list_versions, snapshot_agent
from config_store.routes import resolve_route
from config_store.seed import is_empty, load_config, load_config_file, read_config_file
from orch.errors import InvalidConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config.yaml"


def test_example_config_loads_and_reloads(session_factory: sessionmaker[Session]) -> None:
    assert is_empty(session_factory)
    first = load_config_file(session_factory, EXAMPLE)
    assert sorted(first.created) == [
        "agents/demo@v1",
        "providers/offline",
        "routes/demo",
        "tools/calculator",
        "tools/read_file",
    ]
    again = load_config_file(session_factory, EXAMPLE)
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 5)
    assert not is_empty(session_factory)
    with session_factory() as s:
        assert len(list_versions(s, "demo")) == 1
        assert resolve_route(s, "demo") == "demo"
        spec = snapshot_agent(s, "demo")
    assert (spec.provider.kind, spec.model, spec.max_steps) == ("scripted", "scripted-demo", 5)
    assert [t.name for t in spec.tools] == ["calculator", "read_file"]
    assert spec.tools[0].parameters["required"] == ["expression"]


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
