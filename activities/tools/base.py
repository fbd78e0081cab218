"""What every tool shares: the errors, the context a call runs in, and what a kind declares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workflows.kinds import ToolKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from activities.tools.mcp_pool import McpPool


class ToolError(Exception):
    """A problem the model should see as the tool's result (bad arguments, file not found,
    division by zero, a 4xx from an API). Anything else raised by a tool is a failure of the tool
    itself, retried by Temporal."""


class InvalidArguments(ToolError):
    """The arguments break the tool's JSON Schema: the model is told which and may try again."""


class ToolConfigError(Exception):
    """A tool's `config` is wrong, found when it is saved: `field` is the key under `config`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Resolver(Protocol):
    """Resolves a host name to its IP addresses (as strings). Injected in tests."""

    async def __call__(self, host: str, port: int) -> list[str]: ...


@dataclass(frozen=True)
class OutboundPolicy:
    """Guards of every outbound HTTP request a tool makes (activities/tools/net.py).

    Loopback, private, link-local, cloud-metadata and other non-public addresses are refused,
    after DNS resolution and on every redirect hop, unless `allow_hosts` names the host.
    """

    allow_hosts: frozenset[str] = frozenset()  # lower-case host names or IP literals
    max_response_bytes: int = 1_000_000
    timeout_s: float = 30.0
    max_redirects: int = 5


@dataclass(frozen=True)
class ToolContext:
    """Where a tool call runs. The worker builds one; the activity adds the call's identity."""

    workspace_dir: Path
    # Environment the tools read `${VAR}` references and `*_env` names from (never logged).
    env: Mapping[str, str] = field(default_factory=dict)
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    resolver: Resolver | None = None  # None: the system resolver
    # Folders besides workspace_dir that doc_search may search (DOC_SEARCH_ROOTS).
    doc_search_roots: tuple[Path, ...] = ()
    # The config store, for tools that keep an index there (doc_search).
    session_factory: sessionmaker[Session] | None = None
    mcp: McpPool | None = None  # the worker's MCP sessions
    # The call being run: the Idempotency-Key of HTTP tools derives from them.
    run_id: str = ""
    call_id: str = ""
    tool_name: str = ""
    seq: int = -1  # the call's transcript position: unique in its run (a call id may repeat)


# A tool implementation: (validated arguments, context, the tool's `config`) -> result text.
ToolFunction = Callable[[Mapping[str, Any], ToolContext, Mapping[str, Any]], Awaitable[str]]
# Checks a tool's `config` when it is saved; raises ToolConfigError.
ConfigCheck = Callable[[Mapping[str, Any]], None]


def no_config(config: Mapping[str, Any]) -> None:
    """The check of kinds that take no settings."""


@dataclass(frozen=True)
class ToolImplementation:
    """One kind of tool: its implementation and what it offers the model by default."""

    kind: ToolKind
    run: ToolFunction
    description: str
    parameters: Mapping[str, Any]  # JSON Schema used when a ToolSpec has none
    check_config: ConfigCheck = no_config
    # Env vars the kind reads a secret from when its config names none (`GITHUB_TOKEN`): their
    # values are redacted like those the config references.
    secret_envs: tuple[str, ...] = ()
