"""`orch agents|tools|providers|routes list|show NAME|apply -f FILE|delete NAME`, through the SDK.

FILE is YAML or JSON: one object, or a list of them, each the body the API's create call takes
(POST /v1/agents, ...). `apply` creates each one, or replaces the one of that name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from core.errors import OrchError
from orch.client import Orch, OrchApiError, Resource
from orch.client.models import ConfigKind

# The command's word for each kind, and what `list` prints of one.
KINDS: dict[str, ConfigKind] = {
    "agents": "agent",
    "tools": "tool",
    "providers": "provider",
    "routes": "route",
}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def summary(kind: ConfigKind, item: BaseModel) -> str:
    """One line of `list` for `item` (an API Read model)."""
    got = item.model_dump(mode="json")
    if kind == "agent":
        model = f"{got['provider']}/{got['model']}" if got.get("model") else got["provider"]
        return f"{got['name']}  v{got['version']}  {model}"
    if kind == "tool":
        return f"{got['name']}  {got['kind']}"
    if kind == "provider":
        return f"{got['name']}  {got['kind']}  {got.get('base_url') or '-'}"
    if kind == "route":
        return f"{got['key']}  -> {got['agent']}"
    return str(got.get("name", ""))


def _name(kind: ConfigKind, item: BaseModel) -> str:
    got = item.model_dump(mode="json")
    name = str(got["key"] if kind == "route" else got["name"])
    return f"{name} (v{got['version']})" if kind == "agent" else name


def read_bodies(path: Path) -> list[dict[str, Any]]:
    """The objects of FILE (YAML, of which JSON is a part): one, or a list of them."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as err:
        raise OrchError(f"cannot read {path}: {err.strerror}", code="bad_argument") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise OrchError(f"{path}{at} is neither YAML nor JSON", code="bad_argument") from None
    bodies = loaded if isinstance(loaded, list) else [loaded]
    for index, body in enumerate(bodies):
        if not isinstance(body, dict):
            where = f"{path}[{index}]" if isinstance(loaded, list) else str(path)
            raise OrchError(f"{where}: expected an object (a mapping)", code="bad_argument")
    return bodies


def config_command(orch: Orch, word: str, args: Any) -> int:
    kind = KINDS[word]
    resources: dict[ConfigKind, Resource[Any]] = {
        "agent": orch.agents,
        "tool": orch.tools,
        "provider": orch.providers,
        "route": orch.routes,
    }
    resource = resources[kind]
    action = args.config_command
    if action == "list":
        for item in resource.list():
            _say(summary(kind, item))
    elif action == "show":
        _say(json.dumps(resource.get(args.name).model_dump(mode="json"), indent=2))
    elif action == "delete":
        resource.delete(args.name)
        _say(f"deleted {kind} {args.name}")
    else:
        bodies = read_bodies(args.file)
        for index, body in enumerate(bodies):
            try:
                applied = resource.apply(body)
            except OrchApiError as err:
                where = f"{args.file}[{index}]" if len(bodies) > 1 else str(args.file)
                from orch.remote import describe

                raise OrchError(f"{where}: {describe(err)}", code=err.code) from None
            verb = "created" if applied.created else "updated"
            _say(f"{verb} {kind} {_name(kind, applied.item)}")
    return 0
