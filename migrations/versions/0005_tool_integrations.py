"""Tool integrations: new tool kinds, a result size per tool, MCP servers, the tool-error policy.

- tools.kind: the CHECK constraint is recreated with the new kinds (batch mode on SQLite).
- tools.max_result_chars: results longer than this are cut with a marker (existing tools: 20000).
- agent_versions.on_tool_error: "continue" (existing versions) or "fail".
- mcp_servers: MCP servers registered in config; their discovered tools are rows of `tools` of
  kind `mcp`.
- runs.parent_run_id: the run whose sub-agent tool call started this one.

The downgrade refuses (and changes nothing) while a tool of a new kind exists.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a migration must not change when the models do.
_OLD = ("calculator", "read_file", "ask_user")
_ADDED = (
    "write_file",
    "list_files",
    "http",
    "http_request",
    "web_search",
    "doc_search",
    "github",
    "mcp",
    "agent",
)


def _kinds(kinds: Sequence[str]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


def _replace_kind_check(condition: str) -> None:
    with op.batch_alter_table("tools") as batch:
        batch.drop_constraint(op.f("ck_tools_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_tools_kind"), sa.text(condition))


def upgrade() -> None:
    _replace_kind_check(_kinds(_OLD + _ADDED))
    with op.batch_alter_table("tools") as batch:
        batch.add_column(
            sa.Column(
                "max_result_chars", sa.Integer(), server_default=sa.text("20000"), nullable=False
            )
        )
    with op.batch_alter_table("agent_versions") as batch:
        batch.add_column(
            sa.Column(
                "on_tool_error",
                sa.String(length=16),
                server_default=sa.text("'continue'"),
                nullable=False,
            )
        )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("parent_run_id", sa.String(length=128), nullable=True))
        batch.create_index(batch.f("ix_runs_parent_run_id"), ["parent_run_id"], unique=False)
    op.create_table(
        "mcp_servers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("command", sa.String(length=1024), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("env", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("timeout_s", sa.Double(), server_default=sa.text("30"), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discovery_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("transport IN ('stdio', 'http')", name=op.f("ck_mcp_servers_transport")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_servers")),
        sa.UniqueConstraint("name", name=op.f("uq_mcp_servers_name")),
    )


def downgrade_refusal(bind: sa.Connection) -> str | None:
    """Why this revision cannot be undone now, or None (asked before a downgrade's first step
    by config_store.migrate)."""
    names = list(
        bind.scalars(sa.text(f"SELECT name FROM tools WHERE {_kinds(_ADDED)} ORDER BY name"))
    )
    if names:
        return (
            "cannot downgrade below 0005: tools of kinds added by 0005 exist "
            f"({', '.join(names)}); delete them first"
        )
    return None


def downgrade() -> None:
    if not op.get_context().as_sql:  # offline (--sql): nothing to look at
        refusal = downgrade_refusal(op.get_bind())
        if refusal is not None:
            raise RuntimeError(refusal)
    op.drop_table("mcp_servers")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index(batch.f("ix_runs_parent_run_id"))
        batch.drop_column("parent_run_id")
    with op.batch_alter_table("agent_versions") as batch:
        batch.drop_column("on_tool_error")
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("max_result_chars")
    _replace_kind_check(_kinds(_OLD))
