"""The snapshots of agent versions a process already took, so that a run's start reads one row.

`snapshot_agent` reads the agent, its version, its provider, every tool (and its MCP server),
the fallbacks' providers and the agents its agent tools call: a round trip each. An agent
version is immutable, but its snapshot also holds what those rows are *now*, so a snapshot is
kept under the agent's version **and** a stamp of everything else it reads: the row count and
the latest `updated_at` of the providers, tools, MCP servers and agents (an agent tool pins the
current version of the agent it calls). One query reads the version and the stamp; any write
to those tables (create, update, delete: `updated_at` moves or the count changes) makes the
next start take a fresh snapshot. Bounded (LRU), per database; an entry also lives at most
MAX_AGE_S, so that what the stamp cannot see (a write that bypasses the ORM and leaves
`updated_at` alone, a clock stepped back) is picked up within a minute.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from config_store.agents import snapshot_agent
from config_store.models import Agent, McpServer, Provider, Tool
from workflows.types import AgentSpec

MAX_SNAPSHOTS = 256
MAX_AGE_S = 60.0
_STAMPED = (Provider, Tool, McpServer, Agent)

Key = tuple[Any, ...]


class SnapshotCache:
    def __init__(self, size: int = MAX_SNAPSHOTS) -> None:
        self._size = size
        self._specs: OrderedDict[Key, tuple[float, AgentSpec]] = OrderedDict()
        self._lock = threading.Lock()  # starts run in the API's threads

    def snapshot(self, session: Session, name: str, version: int | None = None) -> AgentSpec:
        """`snapshot_agent(session, name, version)`, from the cache when nothing it reads
        changed since it was taken."""
        key = self._key(session, name, version)
        if key is None:  # an unknown agent: snapshot_agent says so
            return snapshot_agent(session, name, version)
        now = time.monotonic()
        held = self._held(key, now)
        if held is not None:
            return held
        spec = snapshot_agent(session, name, version)
        if spec.version != key[2]:  # the agent moved on between the two reads
            return spec
        with self._lock:
            self._specs[key] = (now, spec)
            self._specs.move_to_end(key)
            while len(self._specs) > self._size:
                self._specs.popitem(last=False)
        return spec

    def cached(self, db: Session | Connection, name: str) -> AgentSpec | None:
        """What `snapshot` would return for the agent's current version when it holds it, else
        None (an unknown agent too): one query, the stamp's, and never a snapshot of its own.
        On a Core connection, that query costs about a third of what a session's does."""
        key = self._key(db, name, None)
        return None if key is None else self._held(key, time.monotonic())

    def _held(self, key: Key, now: float) -> AgentSpec | None:
        with self._lock:
            entry = self._specs.get(key)
            if entry is None or now - entry[0] >= MAX_AGE_S:
                return None
            self._specs.move_to_end(key)
            return entry[1]

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()

    @staticmethod
    def _key(db: Session | Connection, name: str, version: int | None) -> Key | None:
        row = db.execute(_stamp_statement(), {"name": name}).one_or_none()
        if row is None:
            return None
        current, *stamp = row
        engine = db.engine if isinstance(db, Connection) else db.get_bind().engine
        wanted = current if version is None else version
        return (_database(engine.url), name, wanted, *(_plain(value) for value in stamp))


@functools.cache
def _stamp_statement() -> Select[Any]:
    """The agent's current version and the stamp, for the agent named by the `name` parameter.
    Built once: building its eight subqueries and their cache key on every start cost more CPU
    than running it."""
    stamps: list[Any] = []
    for model in _STAMPED:
        stamps.append(select(func.count()).select_from(model).scalar_subquery())
        stamps.append(select(func.max(model.updated_at)).scalar_subquery())
    return select(Agent.current_version, *stamps).where(Agent.name == bindparam("name"))


@functools.lru_cache(maxsize=64)
def _database(url: URL) -> str:
    """A database's part of a key: its URL as text (rendered once, not on every start)."""
    return str(url)


def _plain(value: Any) -> Any:
    """A stamp value as a hashable, comparable one (drivers give datetimes or strings)."""
    return value.isoformat() if isinstance(value, datetime) else value


SNAPSHOTS = SnapshotCache()
