"""SQLAlchemy 2 models. The schema itself is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from workflows.kinds import (
    MCP_TRANSPORTS,
    OUTCOME_STATUSES,
    PROVIDER_KINDS,
    TOKEN_SCOPES,
    TOOL_KINDS,
    McpTransport,
    OnToolError,
    OnUnknownOutcome,
    OutcomeStatus,
    ProviderKind,
    TokenScope,
    ToolKind,
)
from workflows.types import OUTCOME_ERROR_CHARS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset on the way in)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Provider(Timestamped, Base):
    __tablename__ = "providers"
    __table_args__ = (CheckConstraint(_in("kind", PROVIDER_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(1024))
    api_key_env: Mapped[str | None] = mapped_column(String(255))
    default_model: Mapped[str | None] = mapped_column(String(255))
    timeout_s: Mapped[float] = mapped_column(default=60.0, server_default=text("60"))
    # Header name -> value; a value may reference env vars as ${VAR}.
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # [{model, input_usd_per_mtok, output_usd_per_mtok, cached_input_usd_per_mtok}]
    prices: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )


class Tool(Timestamped, Base):
    __tablename__ = "tools"
    __table_args__ = (CheckConstraint(_in("kind", TOOL_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ToolKind] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    timeout_s: Mapped[float] = mapped_column(default=30.0)
    retry_attempts: Mapped[int] = mapped_column(default=3)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    max_result_chars: Mapped[int] = mapped_column(default=20_000, server_default=text("20000"))
    # Set when saved (services/tools.py: the kind's default when the input leaves it out).
    idempotent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A non-idempotent call's unknown outcome: reported to the model, or a person asked first.
    on_unknown_outcome: Mapped[OnUnknownOutcome] = mapped_column(
        String(16), default="report", server_default=text("'report'")
    )


class McpServer(Timestamped, Base):
    """An MCP server the worker connects to. Its tools, once discovered, are rows of `tools`
    of kind `mcp` whose config names the server."""

    __tablename__ = "mcp_servers"
    __table_args__ = (CheckConstraint(_in("transport", MCP_TRANSPORTS), name="transport"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    transport: Mapped[McpTransport] = mapped_column(String(16))
    command: Mapped[str | None] = mapped_column(String(1024))  # stdio
    args: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Env of the server process; a value may reference the worker's env as ${VAR}.
    env: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    url: Mapped[str | None] = mapped_column(String(2048))  # http (streamable HTTP)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    timeout_s: Mapped[float] = mapped_column(default=30.0, server_default=text("30"))
    discovered_at: Mapped[datetime | None]
    discovery_error: Mapped[str | None] = mapped_column(Text)


class Agent(Timestamped, Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[AgentVersion]] = relationship(
        back_populates="agent",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AgentVersion.version",
    )


class AgentVersion(Base):
    """One immutable version of an agent. An update writes a new row."""

    __tablename__ = "agent_versions"
    __table_args__ = (UniqueConstraint("agent_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    version: Mapped[int]
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    model: Mapped[str] = mapped_column(String(255), default="")
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    # Named as AgentIn's field; the column keeps its first name.
    tools: Mapped[list[str]] = mapped_column("tool_names", JSON)
    max_steps: Mapped[int]
    temperature: Mapped[float | None]
    script: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{provider: name, model: str}]; an empty model: that provider's default_model.
    fallbacks: Mapped[list[dict[str, str]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    max_total_tokens: Mapped[int | None]
    max_cost_usd: Mapped[float | None]
    max_duration_s: Mapped[float | None]
    model_timeout_s: Mapped[float] = mapped_column(default=60.0, server_default=text("60"))
    model_max_attempts: Mapped[int] = mapped_column(default=10, server_default=text("10"))
    output_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    max_output_repairs: Mapped[int] = mapped_column(default=2, server_default=text("2"))
    # Seconds a tool call that requires approval waits for a person before it is rejected.
    approval_timeout_s: Mapped[float] = mapped_column(default=3600.0, server_default=text("3600"))
    # Names of the caller-supplied variables the system prompt template may use.
    prompt_variables: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    on_tool_error: Mapped[OnToolError] = mapped_column(
        String(16), default="continue", server_default=text("'continue'")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agent: Mapped[Agent] = relationship(back_populates="versions", lazy="joined")
    provider: Mapped[Provider] = relationship(lazy="joined")


class Route(Timestamped, Base):
    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    agent: Mapped[Agent] = relationship(lazy="joined")


class Run(Base):
    """A record of each started run (the run itself lives in Temporal)."""

    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_name: Mapped[str] = mapped_column(String(64), index=True)
    agent_version: Mapped[int]
    route_key: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The conversation this run continues; its runs share one growing transcript.
    thread_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The run whose sub-agent tool call started this one (null for a top-level run).
    parent_run_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # How it ended, written by the worker when the loop ends (activities/outcomes.py); all null
    # until then, and for a run closed from outside the loop (terminated, timed out).
    status: Mapped[OutcomeStatus | None] = mapped_column(String(16))
    finished_at: Mapped[datetime | None]
    steps: Mapped[int | None]
    total_tokens: Mapped[int | None]
    cost_usd: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(String(OUTCOME_ERROR_CHARS))  # why it failed

    __table_args__ = (
        CheckConstraint(f"status IS NULL OR {_in('status', OUTCOME_STATUSES)}", name="status"),
        # GET /v1/stats/agents: the runs started in a window, by agent and status.
        Index("ix_runs_created_at_agent_name_status", "created_at", "agent_name", "status"),
    )


class TranscriptEntry(Base):
    """One message of a run's conversation at position `seq`. First write wins."""

    __tablename__ = "transcript_entries"

    run_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ToolCallLedger(Base):
    """A call of a non-idempotent tool (config_store/call_ledger.py): written before the call
    starts, finished in the transaction that stores its result. A retry that finds it unfinished
    knows an earlier attempt was cut off and does not call again."""

    __tablename__ = "tool_call_ledger"

    # The call's transcript position: unique in a run, where a model may repeat a call id.
    run_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Begun again, once, after a person approved retrying a call whose outcome was unknown.
    reopened: Mapped[bool] = mapped_column(default=False, server_default=false())


class ApiToken(Base):
    """A bearer token of the API (config_store/tokens.py). Only its SHA-256 is kept; the token
    is shown once, when it is made. A revoked token keeps its row, as the record of it."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("scope", TOKEN_SCOPES), name="scope"),)

    # The token's public part (`orch_<id>_<secret>`): how lists, logs and `revoke` name it.
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[TokenScope] = mapped_column(String(8))
    token_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
