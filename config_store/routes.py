"""Routes: a stable key (used in URLs) that points at an agent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config_store.agents import find_agent
from config_store.models import Agent, Route
from config_store.rows import Outcome, copy_fields, insert_unique
from config_store.specs import RouteIn
from config_store.validation import check_name
from core.errors import Conflict, InvalidConfig, NotFound


def _target(session: Session, spec: RouteIn) -> Agent:
    agent = find_agent(session, spec.agent)
    if agent is None:
        raise InvalidConfig("agent", f"no agent named {spec.agent!r}")
    return agent


def find_route(session: Session, key: str) -> Route | None:
    return session.scalar(select(Route).where(Route.key == key))


def get_route(session: Session, key: str) -> Route:
    row = find_route(session, key)
    if row is None:
        raise NotFound(f"no route {key!r}")
    return row


def list_routes(session: Session) -> list[Route]:
    return list(session.scalars(select(Route).order_by(Route.key)))


def resolve_route(session: Session, key: str) -> str:
    """The name of the agent a route points at (NotFound for an unknown key)."""
    return get_route(session, key).agent.name


def create_route(session: Session, key: str, spec: RouteIn) -> Route:
    check_name(key, "key")
    agent = _target(session, spec)
    if find_route(session, key) is not None:
        raise Conflict(f"a route {key!r} already exists")
    row = Route(key=key)
    _apply(row, agent, spec)
    insert_unique(session, row, f"a route {key!r} already exists")
    return row


def _apply(row: Route, agent: Agent, spec: RouteIn) -> bool:
    """The spec's fields onto the row, its `agent` (a name) as the agent's row."""
    return copy_fields(row, {**spec.model_dump(), "agent": agent})


def update_route(session: Session, key: str, spec: RouteIn) -> Route:
    row = get_route(session, key)
    if _apply(row, _target(session, spec), spec):
        session.flush()
    return row


def upsert_route(session: Session, key: str, spec: RouteIn) -> Outcome:
    row = find_route(session, key)
    if row is None:
        create_route(session, key, spec)
        return "created"
    if _apply(row, _target(session, spec), spec):
        session.flush()
        return "updated"
    return "unchanged"


def delete_route(session: Session, key: str) -> None:
    session.delete(get_route(session, key))
    session.flush()
