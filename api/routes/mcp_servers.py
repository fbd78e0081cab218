"""MCP servers: /v1/mcp-servers. Registering or changing one discovers its tools (/v1/tools).

Discovery connects to the server from the API process (a control-plane action: a stdio server
is started here for the time of the listing; `${VAR}` references are resolved from this
process's environment). A server that cannot be reached is still saved: the answer carries
`discovery_error`, and POST /v1/mcp-servers/{name}/discover tries again. The database is never
held open while the server is being talked to.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session, sessionmaker

from api.auth import ADMIN
from api.deps import SessionDep, SessionFactoryDep, SettingsDep
from api.openapi import CONFLICT, INVALID_CONFIG, NOT_FOUND, Answer, errors
from api.schemas import McpDiscovery, McpServerCreate, McpServerRead, McpServerUpdate
from config_store import mcp_servers as service
from config_store.db import in_transaction
from config_store.mcp_servers import McpServerIn
from core.errors import OrchError
from core.settings import Settings, allow_hosts
from services.mcp import discover

router = APIRouter(prefix="/v1/mcp-servers", tags=["mcp-servers"])

FORBIDDEN_STDIO = Answer(
    403, "forbidden", "a stdio server, while MCP_STDIO_FROM_API is not true (`detail` names it)."
)


async def _discover(factory: sessionmaker[Session], name: str, settings: Settings) -> McpServerRead:
    """Discover the server's tools (through the outbound guard, with this API's allowlist),
    then read it back as the answer."""
    found = await discover(factory, name, os.environ, allow_hosts(settings))

    def read(session: Session) -> McpServerRead:
        discovery = McpDiscovery(**asdict(found.changes)) if found.listed else None
        row = service.get_server(session, name)
        return McpServerRead.of(row, service.server_tools(session, name), discovery)

    return await asyncio.to_thread(in_transaction, factory, read)


def _check_stdio_allowed(spec: McpServerIn, settings: Settings) -> None:
    """Registering a stdio server over HTTP would let any API caller run a command here."""
    if spec.transport == "stdio" and not settings.mcp_stdio_from_api:
        raise OrchError(
            [
                {
                    "field": "transport",
                    "message": "stdio MCP servers run a command on this host: register them in "
                    "the seed file (orch seed), or set MCP_STDIO_FROM_API=true to allow it here",
                }
            ],
            code="forbidden",
            status_code=status.HTTP_403_FORBIDDEN,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=errors(FORBIDDEN_STDIO, CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
async def create_server(
    body: McpServerCreate, factory: SessionFactoryDep, settings: SettingsDep
) -> McpServerRead:
    """Register a server and discover its tools. 201 even when discovery fails: the server is
    saved, with `discovery_error` saying why. A stdio server: 403 unless MCP_STDIO_FROM_API."""
    spec = McpServerIn.model_validate(body.model_dump(exclude={"name"}))
    _check_stdio_allowed(spec, settings)
    await asyncio.to_thread(
        in_transaction, factory, lambda s: service.create_server(s, body.name, spec)
    )
    return await _discover(factory, body.name, settings)


@router.get("", dependencies=[ADMIN])
def list_servers(session: SessionDep) -> list[McpServerRead]:
    return [
        McpServerRead.of(row, service.server_tools(session, row.name))
        for row in service.list_servers(session)
    ]


@router.get("/{name}", responses=errors(NOT_FOUND), dependencies=[ADMIN])
def get_server(name: str, session: SessionDep) -> McpServerRead:
    return McpServerRead.of(service.get_server(session, name), service.server_tools(session, name))


@router.put(
    "/{name}",
    responses=errors(FORBIDDEN_STDIO, NOT_FOUND, CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
async def update_server(
    name: str, body: McpServerUpdate, factory: SessionFactoryDep, settings: SettingsDep
) -> McpServerRead:
    """Replace a server's settings and discover its tools again (stdio: as for POST)."""
    _check_stdio_allowed(body, settings)
    await asyncio.to_thread(in_transaction, factory, lambda s: service.update_server(s, name, body))
    return await _discover(factory, name, settings)


@router.post("/{name}/discover", responses=errors(NOT_FOUND, CONFLICT), dependencies=[ADMIN])
async def discover_server(
    name: str, factory: SessionFactoryDep, settings: SettingsDep
) -> McpServerRead:
    """List the server's tools again and bring /v1/tools up to date. 200 with
    `discovery_error` set when the server cannot be reached (its tools are left as they were)."""
    return await _discover(factory, name, settings)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NOT_FOUND, CONFLICT),
    dependencies=[ADMIN],
)
def delete_server(name: str, session: SessionDep) -> Response:
    """Delete a server and its tools; 409 if an agent's current version uses one of them."""
    service.delete_server(session, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
