"""The document index of the doc_search tool (docsearch/index.py).

Portable part, on both backends:
- doc_index_folders: one row per indexed folder (its resolved path, when it was last synced);
- doc_index_files: the files indexed in a folder (relative path, size, mtime, sha256, title);
- doc_index_chunks: their text, cut into chunks of ~1-2k characters.

Full-text part, dialect-specific:
- SQLite: doc_index_fts, an FTS5 table over doc_index_chunks.content (external content, so a
  file's chunks are found and deleted through the ordinary index on file_id), kept in step by
  triggers; tokenizer `porter unicode61` (stemming, case and diacritics folded).
- Postgres: doc_index_chunks.tsv, a stored generated `to_tsvector('english', content)`, with a
  GIN index.

Every name starts with `doc_index_`: migrations/env.py leaves these tables out of the model
comparison, as they have no models (the FTS parts cannot be expressed as portable models).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE doc_index_fts USING fts5("
    "content, content='doc_index_chunks', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER doc_index_chunks_ai AFTER INSERT ON doc_index_chunks BEGIN "
    "INSERT INTO doc_index_fts (rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER doc_index_chunks_ad AFTER DELETE ON doc_index_chunks BEGIN "
    "INSERT INTO doc_index_fts (doc_index_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    "CREATE TRIGGER doc_index_chunks_au AFTER UPDATE ON doc_index_chunks BEGIN "
    "INSERT INTO doc_index_fts (doc_index_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    "INSERT INTO doc_index_fts (rowid, content) VALUES (new.id, new.content); END",
)
_SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS doc_index_chunks_au",
    "DROP TRIGGER IF EXISTS doc_index_chunks_ad",
    "DROP TRIGGER IF EXISTS doc_index_chunks_ai",
    "DROP TABLE IF EXISTS doc_index_fts",
)


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    op.create_table(
        "doc_index_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_index_folders")),
        sa.UniqueConstraint("path", name=op.f("uq_doc_index_folders_path")),
    )
    op.create_table(
        "doc_index_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["doc_index_folders.id"],
            name=op.f("fk_doc_index_files_folder_id_doc_index_folders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_index_files")),
        sa.UniqueConstraint("folder_id", "path", name=op.f("uq_doc_index_files_folder_id")),
    )
    postgres = _dialect() == "postgresql"
    tsv: list[sa.Column[object]] = []
    if postgres:
        tsv.append(
            sa.Column(
                "tsv",
                postgresql.TSVECTOR(),
                sa.Computed("to_tsvector('english', content)", persisted=True),
                nullable=False,
            )
        )
    op.create_table(
        "doc_index_chunks",
        # BIGINT on Postgres (re-indexing burns ids); INTEGER on SQLite, the rowid alias FTS5
        # refers to.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        *tsv,
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["doc_index_files.id"],
            name=op.f("fk_doc_index_chunks_file_id_doc_index_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_index_chunks")),
        sa.UniqueConstraint("file_id", "chunk_no", name=op.f("uq_doc_index_chunks_file_id")),
    )
    if postgres:
        op.create_index(
            op.f("ix_doc_index_chunks_tsv"),
            "doc_index_chunks",
            ["tsv"],
            postgresql_using="gin",
        )
    elif _dialect() == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if _dialect() == "sqlite":
        for statement in _SQLITE_FTS_DROP:
            op.execute(statement)
    # The GIN index and the generated column go with their table.
    op.drop_table("doc_index_chunks")
    op.drop_table("doc_index_files")
    op.drop_table("doc_index_folders")
