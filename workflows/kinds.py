"""The closed sets of the system, each written once: kinds of providers, tools and MCP transports.

The boundary types (workflows/types.py), the SQL CHECK constraints (config_store/models.py), the
API schemas and the docs take their values from here, so mypy and the tests catch a set that
drifts. `get_args(ToolKind)` gives the values as a tuple where a list is needed.
"""

from __future__ import annotations

from typing import Literal, get_args

ProviderKind = Literal["openai", "anthropic", "openai_compatible", "scripted"]
ToolKind = Literal[
    "calculator",
    "read_file",
    "ask_user",
    "write_file",
    "list_files",
    "http",
    "http_request",
    "web_search",
    "doc_search",
    "github",
    "mcp",
    "agent",
]
McpTransport = Literal["stdio", "http"]

PROVIDER_KINDS: tuple[ProviderKind, ...] = get_args(ProviderKind)
TOOL_KINDS: tuple[ToolKind, ...] = get_args(ToolKind)
MCP_TRANSPORTS: tuple[McpTransport, ...] = get_args(McpTransport)
