"""Effects once: tools say whether a call may run twice, and non-idempotent calls are ledgered.

- tools.idempotent: existing tools get their kind's default (the rules of services/tools.py,
  spelled out here): `http` with GET/HEAD, `http_request` allowing only GET/HEAD, `github`
  without `allow_write`, and the read-only and self-guarding kinds true; other methods, writing
  `github` tools and `mcp` tools false.
- tool_call_ledger: one row per call of a non-idempotent tool, written before it starts and
  finished with its result.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a migration must not change when the code does.
_SAFE_METHODS = {"GET", "HEAD"}


def _idempotent(kind: str, config: Any) -> bool:
    config = config if isinstance(config, dict) else {}
    if kind == "http":
        return str(config.get("method") or "GET").upper() in _SAFE_METHODS
    if kind == "http_request":
        methods = config.get("methods") or ["GET", "HEAD"]
        return isinstance(methods, list) and {str(m).upper() for m in methods} <= _SAFE_METHODS
    if kind == "github":
        return config.get("allow_write") is not True
    return kind != "mcp"


def upgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.add_column(
            sa.Column("idempotent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    tools = sa.table(
        "tools",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("config", sa.JSON()),
        sa.column("idempotent", sa.Boolean()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(tools.c.id, tools.c.kind, tools.c.config)).all()
    for row_id, kind, config in rows:
        if _idempotent(kind, config):
            bind.execute(tools.update().where(tools.c.id == row_id).values(idempotent=True))
    op.create_table(
        "tool_call_ledger",
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_tool_call_ledger")),
    )


def downgrade() -> None:
    op.drop_table("tool_call_ledger")
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("idempotent")
