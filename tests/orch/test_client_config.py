"""Config CRUD through the SDK: the API's own models in and out, errors with their field."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.schemas import AgentCreate, AgentRead, ProviderRead, RouteRead
from orch.client import Orch, OrchApiError
from tests.support.auth import ADMIN_TOKEN

pytestmark = pytest.mark.timeout(90)


def _round_trip(url: str) -> None:
    name = f"a{uuid.uuid4().hex[:8]}"
    with Orch(url, ADMIN_TOKEN) as orch:
        provider = orch.providers.get("offline")
        assert isinstance(provider, ProviderRead) and provider.kind == "scripted"

        made = orch.agents.create(AgentCreate(name=name, provider="offline", system_prompt="v1"))
        assert isinstance(made, AgentRead) and made.version == 1 and made.current_version == 1
        assert name in [a.name for a in orch.agents.list()]

        # PUT replaces the whole definition: version 2.
        changed = orch.agents.update(name, {"provider": "offline", "system_prompt": "v2"})
        assert changed.version == 2 and changed.system_prompt == "v2"
        assert orch.agents.get(name, version=1).system_prompt == "v1"
        assert [v.version for v in orch.agents.versions(name)] == [1, 2]
        back = orch.agents.rollback(name, 1)
        assert back.version == 3 and back.system_prompt == "v1"

        # apply: replace when it exists, create when it does not.
        applied = orch.apply("agent", {"name": name, "provider": "offline", "system_prompt": "v4"})
        assert not applied.created and applied.item.version == 4
        other = f"b{name}"
        fresh = orch.apply("agents", {"name": other, "provider": "offline"})
        assert fresh.created and fresh.item.name == other and fresh.item.version == 1
        key = f"r{name}"
        route = orch.apply("route", {"key": key, "agent": other})
        assert route.created and isinstance(route.item, RouteRead) and route.item.agent == other
        assert orch.apply("route", {"key": key, "agent": name}).item.agent == name

        # A 422 from the API: a field and a code.
        with pytest.raises(OrchApiError) as bad:
            orch.agents.update(name, {"provider": "no-such-provider"})
        err = bad.value
        assert err.status == 422 and err.code == "invalid_config" and not err.local
        assert err.field == "provider" and "no-such-provider" in err.message
        # Refused before sending by the API's own model: the same shape.
        with pytest.raises(OrchApiError) as local:
            orch.agents.create({"name": "x", "provider": "offline", "max_steps": "many"})
        assert local.value.local and local.value.status == 422
        assert local.value.code == "validation_error" and local.value.field == "body.max_steps"
        # The server checks what the model does not (a taken name: 409).
        with pytest.raises(OrchApiError) as taken:
            orch.agents.create({"name": name, "provider": "offline"})
        assert taken.value.status == 409 and taken.value.code == "conflict"

        orch.routes.delete(key)
        orch.agents.delete(other)
        with pytest.raises(OrchApiError) as gone:
            orch.agents.get(other)
        assert gone.value.status == 404 and gone.value.code == "not_found"

        tool = orch.tools.create({"name": f"t{name}", "kind": "calculator"})
        assert tool.parameters and tool.idempotent is True
        assert orch.tools.update(tool.name, {"kind": "calculator", "timeout_s": 5}).timeout_s == 5
        orch.tools.delete(tool.name)
        assert tool.name not in [t.name for t in orch.tools.list()]
        assert "text" in [s.name for s in orch.mcp_servers.list()]
        assert orch.whoami().scope == "admin"


async def test_config_round_trip_through_the_sync_client(api_url: str) -> None:
    await asyncio.to_thread(_round_trip, api_url)


async def test_the_async_client_has_the_same_resources(api_url: str) -> None:
    from orch.client import AsyncOrch

    name = f"p{uuid.uuid4().hex[:8]}"
    async with AsyncOrch(api_url, ADMIN_TOKEN) as orch:
        body = {"name": name, "kind": "scripted", "default_model": "m"}
        assert (await orch.apply("provider", body)).created
        assert (await orch.providers.get(name)).default_model == "m"
        updated = await orch.providers.apply({**body, "default_model": "n"})
        assert not updated.created and updated.item.default_model == "n"
        await orch.providers.delete(name)
        assert name not in [p.name for p in await orch.providers.list()]
        with pytest.raises(ValueError, match="unknown kind"):
            await orch.apply("widget", body)
