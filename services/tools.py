"""Saving a tool, as the API and the seed file do it: the store's checks plus its kind's own.

The config store checks what every tool shares (name, kind, JSON Schema, ranges); a kind's own
settings are known to its implementation in activities/tools/, so they are checked here, before
the row is written, and a tool that describes neither its arguments nor itself gets its kind's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from activities.tools.base import ToolConfigError
from activities.tools.doc_search import outside_roots
from activities.tools.registry import IMPLEMENTATIONS
from config_store import tools as store
from config_store.models import Tool
from config_store.rows import Outcome
from config_store.specs import ToolIn
from core.errors import InvalidConfig
from core.settings import Settings, doc_search_roots, get_settings

# Methods that only read: an `http`/`http_request` tool using no others may run twice.
SAFE_METHODS = frozenset({"GET", "HEAD"})


def default_idempotent(kind: str, config: Mapping[str, Any]) -> bool:
    """Whether a tool of `kind` with `config` may run again after a worker stopped during a call,
    when its input does not say: true for reads (GET/HEAD, files read or listed, searches) and for
    write_file (its own ledger applies a call once, docs/tools.md); false for other HTTP methods,
    a `github` tool that may write and `mcp` tools (a server's tool may do anything).
    migrations/versions/0008 applies the same rules to the tools saved before."""
    if kind == "http":
        return str(config.get("method") or "GET").upper() in SAFE_METHODS
    if kind == "http_request":
        methods = config.get("methods") or sorted(SAFE_METHODS)
        return isinstance(methods, list) and {str(m).upper() for m in methods} <= SAFE_METHODS
    if kind == "github":
        return config.get("allow_write") is not True
    return kind != "mcp"


def checked(spec: ToolIn) -> ToolIn:
    """`spec` with its kind's defaults filled in; InvalidConfig (`config.<field>`) if the kind
    refuses its settings. An unknown kind passes through: the store names it."""
    kind = IMPLEMENTATIONS.get(spec.kind)
    if kind is None:
        return spec
    try:
        kind.check_config(spec.config)
    except ToolConfigError as err:
        raise InvalidConfig(f"config.{err.field}", err.message) from err
    update: dict[str, Any] = {}
    if spec.parameters is None:
        update["parameters"] = copy.deepcopy(dict(kind.parameters))
    if not spec.description:
        update["description"] = kind.description
    if spec.idempotent is None:
        update["idempotent"] = default_idempotent(spec.kind, spec.config)
    return spec.model_copy(update=update)


def check_reach(spec: ToolIn, settings: Settings | None = None) -> None:
    """What a tool saved through the API may reach: a doc_search folder inside WORKSPACE_DIR or
    DOC_SEARCH_ROOTS (these settings as the API has them; the worker checks again at call
    time). The seed file is the operator's and is checked by the worker only."""
    if spec.kind != "doc_search" or not isinstance(spec.config.get("folder"), str):
        return
    settings = settings or get_settings()
    workspace = settings.workspace_dir.resolve()
    refused = outside_roots(workspace, doc_search_roots(settings), spec.config["folder"])
    if refused is not None:
        raise InvalidConfig("config.folder", refused)


def create_tool(
    session: Session, name: str, spec: ToolIn, settings: Settings | None = None
) -> Tool:
    store.check_tool_name(name)
    spec = checked(spec)
    check_reach(spec, settings)
    return store.create_tool(session, name, spec)


def update_tool(
    session: Session, name: str, spec: ToolIn, settings: Settings | None = None
) -> Tool:
    spec = checked(spec)
    check_reach(spec, settings)
    return store.update_tool(session, name, spec)


def upsert_tool(session: Session, name: str, spec: ToolIn) -> Outcome:
    return store.upsert_tool(session, name, checked(spec))
