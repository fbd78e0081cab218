"""The document index behind the doc_search tool: a folder's text files, chunked, in the config
store's own full-text engine (SQLite FTS5, or Postgres full-text search).

`sync` brings the index of a folder in line with the disk in two phases. The first only reads:
it walks the folder, compares each file's size and mtime with the index, and reads, hashes and
chunks only the files that changed. The second, skipped when nothing changed (so a sync before
every search costs a directory walk and one SELECT), applies the changes in one transaction that
holds a lock for the folder: SQLite's write lock (its first statement is a write), or a Postgres
advisory lock keyed by the folder. It re-reads the index under the lock and applies the scan's
changes idempotently, so two syncs of the same folder at once leave a consistent index.

The table layout is in migration 0006. The full-text queries are in docsearch/fts.py
(`text()` with bound parameters, one small function per dialect side by side); the rest is
SQLAlchemy Core.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from config_store.models import UTCDateTime, utcnow
from docsearch.files import DEFAULT_EXTENSIONS, DocIndexError, read_document, scan_folder
from docsearch.fts import DocHit, search_postgres, search_sqlite
from docsearch.query import parse_query
from docsearch.text import chunk, extract

__all__ = [
    "DEFAULT_EXTENSIONS",
    "DocHit",
    "DocIndex",
    "DocIndexError",
    "DocSearch",
    "IndexOptions",
    "SyncReport",
    "chunks",
    "files",
    "folders",
]

_metadata = MetaData()  # not Base.metadata: migration 0006 owns these tables
folders = Table(
    "doc_index_folders",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False, unique=True),
    Column("synced_at", UTCDateTime, nullable=False),
)
files = Table(
    "doc_index_files",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("folder_id", ForeignKey("doc_index_folders.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("indexed_at", UTCDateTime, nullable=False),
)
chunks = Table(
    "doc_index_chunks",
    _metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("file_id", ForeignKey("doc_index_files.id"), nullable=False),
    Column("chunk_no", Integer, nullable=False),
    Column("content", Text, nullable=False),
)


@dataclass(frozen=True)
class IndexOptions:
    extensions: frozenset[str] = DEFAULT_EXTENSIONS  # lower-case, with the dot
    max_file_bytes: int = 1_000_000
    max_files: int = 10_000


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0  # binary, not UTF-8, too large or unreadable


@dataclass(frozen=True)
class DocSearch:
    hits: list[DocHit] = field(default_factory=list)
    terms: str = ""  # the terms searched for, as understood


@dataclass(frozen=True)
class _Stored:
    id: int
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class _NewContent:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    title: str
    chunks: list[str]


@dataclass
class _Plan:
    """What the read-only phase found to change."""

    index: list[_NewContent] = field(default_factory=list)
    touch: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # path: size, mtime, sha
    keep: set[str] = field(default_factory=set)  # every path that stays indexed
    stored: dict[str, _Stored] = field(default_factory=dict)
    unchanged: int = 0
    skipped: int = 0

    def removed(self) -> set[str]:
        return set(self.stored) - self.keep


def _lock_key(folder: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock, stable across processes."""
    return int.from_bytes(hashlib.sha256(folder.encode()).digest()[:8], "big", signed=True)


class DocIndex:
    """Index and search folders of documents in the config store that `session_factory` opens."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def _stored(self, session: Session, folder: str) -> dict[str, _Stored]:
        rows = session.execute(
            select(files.c.path, files.c.id, files.c.size, files.c.mtime_ns, files.c.sha256)
            .join(folders, folders.c.id == files.c.folder_id)
            .where(folders.c.path == folder)
        )
        return {row.path: _Stored(row.id, row.size, row.mtime_ns, row.sha256) for row in rows}

    def last_synced(self, folder: Path) -> datetime | None:
        with self._sessions() as session:
            return session.scalar(select(folders.c.synced_at).where(folders.c.path == str(folder)))

    def documents(self, folder: Path) -> int:
        """How many documents of `folder` are indexed."""
        with self._sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(files.join(folders, folders.c.id == files.c.folder_id))
                .where(folders.c.path == str(folder))
            )
        return int(count or 0)

    def sync(self, folder: Path, options: IndexOptions, *, record: bool = False) -> SyncReport:
        """Index new and changed files under `folder` (an absolute, resolved path) and forget the
        ones gone. `record`: note the sync time even when nothing changed."""
        key = str(folder)
        with self._sessions() as session:
            stored = self._stored(session, key)
        plan = _Plan(stored=stored)
        for entry in scan_folder(folder, options.extensions, options.max_files):
            known = stored.get(entry.path)
            if entry.size > options.max_file_bytes:
                plan.skipped += 1
                continue
            if known and (known.size, known.mtime_ns) == (entry.size, entry.mtime_ns):
                plan.keep.add(entry.path)
                plan.unchanged += 1
                continue
            document = read_document(entry.real_path, options.max_file_bytes)
            if document is None:
                plan.skipped += 1
                continue
            plan.keep.add(entry.path)
            data, content = document
            digest = hashlib.sha256(data).hexdigest()
            if known and known.sha256 == digest:
                plan.touch[entry.path] = (entry.size, entry.mtime_ns, digest)
                plan.unchanged += 1
                continue
            body, title = extract(Path(entry.name).suffix, content, entry.name)
            plan.index.append(
                _NewContent(entry.path, entry.size, entry.mtime_ns, digest, title, chunk(body))
            )
        removed = plan.removed()
        if plan.index or plan.touch or removed or record:
            self._apply(key, plan, removed)
        added = sum(1 for new in plan.index if new.path not in stored)
        return SyncReport(
            added=added,
            updated=len(plan.index) - added,
            removed=len(removed),
            unchanged=plan.unchanged,
            skipped=plan.skipped,
        )

    def _apply(self, folder: str, plan: _Plan, removed: set[str]) -> None:
        now = utcnow()
        with self._sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(folder)}
                )
            # The first statement writes: on SQLite it takes the write lock at once, so the
            # reads below see the state left by any sync that ran before this one.
            folder_id = session.scalar(
                update(folders)
                .where(folders.c.path == folder)
                .values(synced_at=now)
                .returning(folders.c.id)
            )
            if folder_id is None:
                folder_id = session.scalar(
                    insert(folders).values(path=folder, synced_at=now).returning(folders.c.id)
                )
            current = self._stored(session, folder)
            gone = [current[path].id for path in removed if path in current]
            gone += [current[new.path].id for new in plan.index if new.path in current]
            if gone:
                session.execute(delete(chunks).where(chunks.c.file_id.in_(gone)))
                session.execute(delete(files).where(files.c.id.in_(gone)))
            for path, (size, mtime_ns, digest) in plan.touch.items():
                session.execute(
                    update(files)
                    .where(files.c.folder_id == folder_id, files.c.path == path)
                    .where(files.c.sha256 == digest)
                    .values(size=size, mtime_ns=mtime_ns)
                )
            for new in plan.index:
                file_id = session.scalar(
                    insert(files)
                    .values(
                        folder_id=folder_id,
                        path=new.path,
                        size=new.size,
                        mtime_ns=new.mtime_ns,
                        sha256=new.sha256,
                        title=new.title,
                        indexed_at=now,
                    )
                    .returning(files.c.id)
                )
                if new.chunks:
                    session.execute(
                        insert(chunks),
                        [
                            {"file_id": file_id, "chunk_no": number, "content": content}
                            for number, content in enumerate(new.chunks)
                        ],
                    )

    def search(self, folder: Path, query: str, limit: int) -> DocSearch:
        """The `limit` best documents of `folder` for `query`, one hit per document (its best
        chunk): first those with every term in one chunk, best first; then, if there is room,
        those with only some of the terms (`all_terms` False), best first."""
        parsed = parse_query(query)
        if not parsed:
            return DocSearch()
        with self._sessions() as session:
            run = (
                search_postgres
                if session.get_bind().dialect.name == "postgresql"
                else search_sqlite
            )
            hits = run(session, str(folder), parsed, False, limit)
            if len(hits) < limit and len(parsed.terms) > 1:
                seen = {hit.path for hit in hits}
                # Every hit so far is among these too: ask for enough to fill the page.
                some = run(session, str(folder), parsed, True, limit + len(hits))
                hits += [replace(h, all_terms=False) for h in some if h.path not in seen]
        return DocSearch(hits[:limit], parsed.describe())
