"""Rows the config store's and the services' tests start from: `basics`, a fixture their
conftests import (a fixture, not a plugin: tests/api has a `basics` of its own, over HTTP)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from config_store.providers import create_provider
from config_store.specs import ProviderIn, ToolIn
from config_store.tools import create_tool

CALC_PARAMS = {
    "type": "object",
    "properties": {"expression": {"type": "string"}},
    "required": ["expression"],
}


@pytest.fixture
def basics(session: Session) -> Session:
    """A provider `p` (default model m-default) and tools `calc` and `read`, committed."""
    create_provider(session, "p", ProviderIn(kind="scripted", default_model="m-default"))
    create_tool(session, "calc", ToolIn(kind="calculator", parameters=CALC_PARAMS))
    create_tool(session, "read", ToolIn(kind="read_file", timeout_s=5, requires_approval=True))
    session.commit()
    return session
