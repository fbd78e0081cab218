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


def _refuse_if_ask_user_tools() -> None:
    if op.get_context().as_sql:  # offline (--sql): nothing to look at
        return
    names = list(
        op.get_bind().scalars(
            sa.text("SELECT name FROM tools WHERE kind = 'ask_user' ORDER BY name")
        )
    )
    if names:
        raise RuntimeError(
            "cannot downgrade below 0003: tools of kind 'ask_user' exist "
            f"({', '.join(names)}); delete them first"
        )


def downgrade() -> None:
    _refuse_if_ask_user_tools()
    _replace_kind_check(_OLD_KINDS)
    with op.batch_alter_table("agent_versions") as batch:
        batch.drop_column("approval_timeout_s")
