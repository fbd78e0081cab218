"""How each run ended, in its `runs` row, for the overview's figures (GET /v1/stats/agents).

- runs.status (completed, stopped, failed, cancelled; null: not recorded yet), finished_at,
  steps, total_tokens, cost_usd, error: written by the worker when the loop ends.
- ix_runs_created_at_agent_name_status: the runs started in a window, by agent and status.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a migration must not change when the models do.
_STATUSES = ("completed", "stopped", "failed", "cancelled")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("steps", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("total_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cost_usd", sa.Double(), nullable=True))
        batch.add_column(sa.Column("error", sa.String(length=500), nullable=True))
        batch.create_check_constraint(
            "ck_runs_status",
            f"status IS NULL OR status IN ({', '.join(repr(s) for s in _STATUSES)})",
        )
        batch.create_index(
            "ix_runs_created_at_agent_name_status", ["created_at", "agent_name", "status"]
        )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_created_at_agent_name_status")
        batch.drop_constraint("ck_runs_status", type_="check")
        for column in ("error", "cost_usd", "total_tokens", "steps", "finished_at", "status"):
            batch.drop_column(column)
