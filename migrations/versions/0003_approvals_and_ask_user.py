"""Agent versions: approval timeout. Tools: the `ask_user` kind.

Existing versions get the default timeout (a server default), so the column is NOT NULL at once.
The tools.kind CHECK constraint is recreated with the new kind: SQLite cannot alter a constraint,
so batch mode copies the table; Postgres drops and creates it.

The downgrade refuses (and changes nothing) while a tool of kind `ask_user` exists: delete those
tools first (an agent whose current version lists one has to drop it before). It never deletes
configuration itself.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a migration must not change when the models do.
_OLD_KINDS = "kind IN ('calculator', 'read_file')"
_NEW_KINDS = "kind IN ('calculator', 'read_file', 'ask_user')"


def _replace_kind_check(condition: str) -> None:
    with op.batch_alter_table("tools") as batch:
        batch.drop_constraint(op.f("ck_tools_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_tools_kind"), sa.text(condition))


def upgrade() -> None:
    with op.batch_alter_table("agent_versions") as batch:
        batch.add_column(
            sa.Column(
                "approval_timeout_s", sa.Double(), server_default=sa.text("3600"), nullable=False
            )
        )
    _replace_kind_check(_NEW_KINDS)


def downgrade_refusal(bind: sa.Connection) -> str | None:
    """Why this revision cannot be undone now, or None (config_store.migrate asks every
    revision of a downgrade before the first step, so a refusal changes nothing)."""
    names = list(
        bind.scalars(sa.text("SELECT name FROM tools WHERE kind = 'ask_user' ORDER BY name"))
    )
    if names:
        return (
            "cannot downgrade below 0003: tools of kind 'ask_user' exist "
            f"({', '.join(names)}); delete them first"
        )
    return None


def downgrade() -> None:
    if not op.get_context().as_sql:  # offline (--sql): nothing to look at
        refusal = downgrade_refusal(op.get_bind())
        if refusal is not None:
            raise RuntimeError(refusal)
    _replace_kind_check(_OLD_KINDS)
    with op.batch_alter_table("agent_versions") as batch:
        batch.drop_column("approval_timeout_s")
