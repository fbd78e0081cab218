"""The full-text queries of the document index, one small function per dialect side by side.

Both take the parsed query (docsearch/query.py), never the model's text, and pass it as a
bound parameter: SQLite as an FTS5 MATCH expression of quoted terms, Postgres as the input of
`websearch_to_tsquery`, which accepts any text without a syntax error. Both return the best chunk
of each document, best first, with its snippet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from docsearch.query import ParsedQuery

SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS = "«", "»", "…"


@dataclass(frozen=True)
class DocHit:
    path: str  # relative to the folder, with '/'
    title: str
    snippet: str  # matched terms between « and »
    score: float  # higher is better; comparable only within one search
    all_terms: bool = True  # False: the document has only some of the terms


def _hits(rows: Iterable[Row[Any]]) -> list[DocHit]:
    return [
        DocHit(path=r.path, title=r.title, snippet=" ".join(r.snip.split()), score=float(r.score))
        for r in rows
    ]


def search_sqlite(
    session: Session, folder: str, parsed: ParsedQuery, any_term: bool, limit: int
) -> list[DocHit]:
    """FTS5: bm25() ranks chunks (lower is better, so negated), snippet() marks the terms."""
    rows = session.execute(
        text(
            "WITH hits AS ("
            " SELECT c.file_id AS file_id, c.chunk_no AS chunk_no, -bm25(doc_index_fts) AS score,"
            "  snippet(doc_index_fts, 0, :open, :close, :ellipsis, 24) AS snip"
            " FROM doc_index_fts"
            " JOIN doc_index_chunks c ON c.id = doc_index_fts.rowid"
            " JOIN doc_index_files f ON f.id = c.file_id"
            " JOIN doc_index_folders d ON d.id = f.folder_id"
            " WHERE doc_index_fts MATCH :match AND d.path = :folder"
            "), best AS ("
            " SELECT hits.*, row_number() OVER ("
            "  PARTITION BY file_id ORDER BY score DESC, chunk_no) AS rn FROM hits)"
            " SELECT f.path AS path, f.title AS title, best.snip AS snip, best.score AS score"
            " FROM best JOIN doc_index_files f ON f.id = best.file_id"
            " WHERE best.rn = 1 ORDER BY best.score DESC, f.path LIMIT :limit"
        ),
        {
            "match": parsed.fts5(any_term=any_term),
            "folder": folder,
            "limit": limit,
            "open": SNIPPET_OPEN,
            "close": SNIPPET_CLOSE,
            "ellipsis": SNIPPET_ELLIPSIS,
        },
    )
    return _hits(rows)


def search_postgres(
    session: Session, folder: str, parsed: ParsedQuery, any_term: bool, limit: int
) -> list[DocHit]:
    """websearch_to_tsquery() parses the terms, ts_rank_cd() ranks chunks (cover density: closer
    terms score higher), ts_headline() marks the terms."""
    rows = session.execute(
        text(
            "WITH q AS (SELECT websearch_to_tsquery('english', :query) AS query),"
            " hits AS ("
            " SELECT c.file_id, c.chunk_no, c.content, ts_rank_cd(c.tsv, q.query) AS score"
            " FROM doc_index_chunks c"
            " JOIN doc_index_files f ON f.id = c.file_id"
            " JOIN doc_index_folders d ON d.id = f.folder_id"
            " CROSS JOIN q"
            " WHERE d.path = :folder AND c.tsv @@ q.query"
            "), best AS ("
            " SELECT hits.*, row_number() OVER ("
            "  PARTITION BY file_id ORDER BY score DESC, chunk_no) AS rn FROM hits)"
            " SELECT f.path AS path, f.title AS title, best.score AS score,"
            "  ts_headline('english', best.content, q.query, :options) AS snip"
            " FROM best JOIN doc_index_files f ON f.id = best.file_id CROSS JOIN q"
            " WHERE best.rn = 1 ORDER BY best.score DESC, f.path LIMIT :limit"
        ),
        {
            "query": parsed.websearch(any_term=any_term),
            "folder": folder,
            "limit": limit,
            "options": (
                f"StartSel={SNIPPET_OPEN}, StopSel={SNIPPET_CLOSE}, MaxWords=30, MinWords=12,"
                f' MaxFragments=2, FragmentDelimiter=" {SNIPPET_ELLIPSIS} "'
            ),
        },
    )
    return _hits(rows)
