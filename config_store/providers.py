"""Providers: how to reach a model API. They name the env var holding the key, never the key."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from config_store.models import PROVIDER_KINDS, AgentVersion, Provider
from config_store.rows import copy_fields, insert_unique
from config_store.specs import ProviderIn
from config_store.validation import check_choice, check_name
from orch.errors import Conflict, InvalidConfig, NotFound

Outcome = Literal["created", "updated", "unchanged"]


def _validate(spec: ProviderIn) -> None:
    check_choice(spec.kind, PROVIDER_KINDS, "kind")
    if spec.kind == "openai_compatible" and not spec.base_url:
        raise InvalidConfig("base_url", "an openai_compatible provider needs a base_url")
    if spec.base_url is not None and not spec.base_url.startswith(("http://", "https://")):
        raise InvalidConfig("base_url", "must start with http:// or https://")
    if spec.api_key_env is not None and not spec.api_key_env.replace("_", "").isalnum():
        raise InvalidConfig(
            "api_key_env", "must be the *name* of an environment variable, e.g. OPENAI_API_KEY"
        )


def _apply(row: Provider, spec: ProviderIn) -> bool:
    return copy_fields(row, spec.model_dump())


def find_provider(session: Session, name: str) -> Provider | None:
    return session.scalar(select(Provider).where(Provider.name == name))


def get_provider(session: Session, name: str) -> Provider:
    row = find_provider(session, name)
    if row is None:
        raise NotFound(f"no provider named {name!r}")
    return row


def list_providers(session: Session) -> list[Provider]:
    return list(session.scalars(select(Provider).order_by(Provider.name)))


def create_provider(session: Session, name: str, spec: ProviderIn) -> Provider:
    check_name(name)
    _validate(spec)
    if find_provider(session, name) is not None:
        raise Conflict(f"a provider named {name!r} already exists")
    row = Provider(name=name)
    _apply(row, spec)
    insert_unique(session, row, f"a provider named {name!r} already exists")
    return row


def update_provider(session: Session, name: str, spec: ProviderIn) -> Provider:
    row = get_provider(session, name)
    _validate(spec)
    if _apply(row, spec):
        session.flush()
    return row


def upsert_provider(session: Session, name: str, spec: ProviderIn) -> Outcome:
    row = find_provider(session, name)
    if row is None:
        create_provider(session, name, spec)
        return "created"
    _validate(spec)
    if _apply(row, spec):
        session.flush()
        return "updated"
    return "unchanged"


def delete_provider(session: Session, name: str) -> None:
    row = get_provider(session, name)
    used = session.scalar(select(exists().where(AgentVersion.provider_id == row.id)))
    if used:
        raise Conflict(f"provider {name!r} is used by agent versions; it cannot be deleted")
    session.delete(row)
    session.flush()
