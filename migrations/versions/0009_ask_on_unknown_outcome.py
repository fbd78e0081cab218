"""A person may approve retrying a call whose outcome is unknown.

- tools.on_unknown_outcome: "report" (existing tools: the model gets `outcome_unknown`, as
  before) or "ask" (a person is asked to approve calling again).
- tool_call_ledger.reopened: a row begun again, once, after such an approval.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.add_column(
            sa.Column(
                "on_unknown_outcome",
                sa.String(length=16),
                server_default=sa.text("'report'"),
                nullable=False,
            )
        )
    with op.batch_alter_table("tool_call_ledger") as batch:
        batch.add_column(
            sa.Column("reopened", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tool_call_ledger") as batch:
        batch.drop_column("reopened")
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("on_unknown_outcome")
