"""Providers: request timeout, extra headers, price table. Agent versions: fallbacks, budgets,
model call timeout and attempts, output schema, prompt variables.

Existing rows get the defaults (server defaults), so the columns can be NOT NULL at once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROVIDER_COLUMNS = ("prices", "headers", "timeout_s")
_VERSION_COLUMNS = (
    "prompt_variables",
    "max_output_repairs",
    "output_schema",
    "model_max_attempts",
    "model_timeout_s",
    "max_duration_s",
    "max_cost_usd",
    "max_total_tokens",
    "fallbacks",
)


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(
            sa.Column("timeout_s", sa.Double(), server_default=sa.text("60"), nullable=False)
        )
        batch.add_column(
            sa.Column("headers", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch.add_column(
            sa.Column("prices", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("agent_versions") as batch:
        batch.add_column(
            sa.Column("fallbacks", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch.add_column(sa.Column("max_total_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_cost_usd", sa.Double(), nullable=True))
        batch.add_column(sa.Column("max_duration_s", sa.Double(), nullable=True))
        batch.add_column(
            sa.Column("model_timeout_s", sa.Double(), server_default=sa.text("60"), nullable=False)
        )
        batch.add_column(
            sa.Column(
                "model_max_attempts", sa.Integer(), server_default=sa.text("10"), nullable=False
            )
        )
        batch.add_column(sa.Column("output_schema", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column(
                "max_output_repairs", sa.Integer(), server_default=sa.text("2"), nullable=False
            )
        )
        batch.add_column(
            sa.Column("prompt_variables", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_versions") as batch:
        for name in _VERSION_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("providers") as batch:
        for name in _PROVIDER_COLUMNS:
            batch.drop_column(name)
