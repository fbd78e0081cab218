"""The document index on real SQLite (FTS5) and Postgres (tsvector) databases: sync, ranking,
snippets, stemming, hostile queries, what is never indexed, and concurrent syncs."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from config_store.db import make_engine
from config_store.migrate import check, downgrade, upgrade
from docsearch.index import DocIndex, DocIndexError, IndexOptions, chunks, files
from docsearch.text import chunk

FILLER = " ".join(f"lorem{n} ipsum dolor sit amet" for n in range(25))
HOSTILE = [
    '"',
    '""',
    "*",
    "NEAR(",
    "NEAR(retry policy, 2)",
    "') OR 1=1 --",
    "a AND OR",
    "retry AND OR NOT",
    "policy*",
    "^retry",
    "content:retry",
    "retry) OR (policy",
    "-retry",
    "\x00",
    "\\",
    "'; DROP TABLE doc_index_files; --",
    "«retry»",
    "retry" * 300,
    " ".join(["retry"] * 100),
]


def write(folder: Path, relative: str, content: str | bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    write(
        folder,
        "guide/retries.md",
        "# Retry policies\n\nThe retry policy of an activity sets its backoff. "
        "Every retry policy has a maximum number of attempts.\n",
    )
    write(folder, "far.txt", f"Retry is mentioned here.\n\n{FILLER}\n\nAnd policy only here.\n")
    write(folder, "running.rst", "Morning habits\n==============\n\nShe runs every morning.\n")
    write(folder, "unrelated.md", "# Cooking\n\nA recipe for bread, with a policy on salt.\n")
    write(folder, "other.md", "# Gardening\n\nTomatoes need sun and water.\n")
    return folder.resolve()


@pytest.fixture
def index(session_factory: sessionmaker[Session]) -> DocIndex:
    return DocIndex(session_factory)


def paths(index: DocIndex, folder: Path, query: str) -> list[str]:
    return [hit.path for hit in index.search(folder, query, 10).hits]


def indexed(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Indexed path -> number of chunks, over all folders."""
    with session_factory() as session:
        rows = session.execute(
            select(files.c.path, func.count(chunks.c.id))
            .select_from(files.outerjoin(chunks, chunks.c.file_id == files.c.id))
            .group_by(files.c.path)
        )
        return {row[0]: row[1] for row in rows}


def test_ranks_more_and_closer_matches_first(index: DocIndex, docs: Path) -> None:
    report = index.sync(docs, IndexOptions())
    assert (report.added, report.skipped) == (5, 0)

    found = index.search(docs, "retry policy", 10)

    # Every term first, best first; then documents with some of them.
    assert [(hit.path, hit.all_terms) for hit in found.hits] == [
        ("guide/retries.md", True),
        ("far.txt", True),
        ("unrelated.md", False),
    ]
    assert found.hits[0].score > found.hits[1].score
    assert found.hits[0].title == "Retry policies"
    assert found.hits[1].title == "far.txt"  # no heading: the file name


def test_snippets_mark_the_matched_terms(index: DocIndex, docs: Path) -> None:
    index.sync(docs, IndexOptions())

    [hit] = index.search(docs, "backoff", 10).hits

    assert hit.path == "guide/retries.md"
    assert "«backoff»" in hit.snippet
    assert "\n" not in hit.snippet
    assert len(hit.snippet) < 400


def test_stemming(index: DocIndex, docs: Path) -> None:
    index.sync(docs, IndexOptions())

    assert paths(index, docs, "running") == ["running.rst"]
    assert paths(index, docs, "RUN") == ["running.rst"]
    [hit] = index.search(docs, "running", 10).hits
    assert "«runs»" in hit.snippet
    assert hit.title == "Morning habits"  # reStructuredText heading


def test_falls_back_to_any_term_and_says_so(index: DocIndex, docs: Path) -> None:
    index.sync(docs, IndexOptions())

    found = index.search(docs, "tomatoes zeppelin", 10)

    assert [(hit.path, hit.all_terms) for hit in found.hits] == [("other.md", False)]
    assert found.terms == "tomatoes zeppelin"
    assert index.search(docs, "zeppelin", 10).hits == []
    # A full page of documents with every term leaves no room for the others.
    assert [hit.path for hit in index.search(docs, "retry policy", 2).hits] == [
        "guide/retries.md",
        "far.txt",
    ]


def test_phrases(index: DocIndex, docs: Path) -> None:
    index.sync(docs, IndexOptions())

    assert paths(index, docs, '"retry policy"') == ["guide/retries.md"]
    assert paths(index, docs, '"policy retry"') == []
    assert paths(index, docs, '"policy retry" backoff') == ["guide/retries.md"]


def test_limit_and_folder_isolation(index: DocIndex, docs: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-docs"
    write(other, "x.md", "# X\n\nA retry policy elsewhere.\n")
    index.sync(docs, IndexOptions())
    index.sync(other.resolve(), IndexOptions())

    assert set(paths(index, docs, "policy")) == {"guide/retries.md", "far.txt", "unrelated.md"}
    assert len(index.search(docs, "policy", 2).hits) == 2
    assert paths(index, other.resolve(), "policy") == ["x.md"]


def test_resync_sees_changes_deletions_and_additions(
    index: DocIndex, docs: Path, session_factory: sessionmaker[Session]
) -> None:
    index.sync(docs, IndexOptions())
    write(docs, "other.md", "# Gardening\n\nCucumbers need water.\n")  # another size
    (docs / "far.txt").unlink()
    write(docs, "new/zeppelins.md", "# Airships\n\nZeppelins float.\n")

    report = index.sync(docs, IndexOptions())

    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 3)
    assert paths(index, docs, "cucumbers") == ["other.md"]
    assert paths(index, docs, "tomatoes") == []
    assert paths(index, docs, "zeppelin") == ["new/zeppelins.md"]
    assert paths(index, docs, "retry policy")[0] == "guide/retries.md"
    assert "far.txt" not in paths(index, docs, "retry policy")
    assert set(indexed(session_factory)) == {
        "guide/retries.md",
        "running.rst",
        "unrelated.md",
        "other.md",
        "new/zeppelins.md",
    }


def test_same_size_change_is_found_and_a_touch_is_not_reindexed(
    index: DocIndex, docs: Path, session_factory: sessionmaker[Session]
) -> None:
    index.sync(docs, IndexOptions())
    with session_factory() as session:
        before = {
            r.path: r.indexed_at for r in session.execute(select(files.c.path, files.c.indexed_at))
        }
    target = docs / "other.md"
    stat = target.stat()
    target.write_text(target.read_text().replace("Tomatoes", "Potatoes"), encoding="utf-8")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = docs / "unrelated.md"
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))

    report = index.sync(docs, IndexOptions())

    assert (report.updated, report.unchanged) == (1, 4)
    assert paths(index, docs, "potatoes") == ["other.md"]
    with session_factory() as session:
        after = {
            r.path: r.indexed_at for r in session.execute(select(files.c.path, files.c.indexed_at))
        }
    assert after["unrelated.md"] == before["unrelated.md"]  # same hash: not re-indexed
    assert after["other.md"] > before["other.md"]
    assert index.sync(docs, IndexOptions()).unchanged == 5  # the new mtime was recorded


def test_nothing_changed_means_no_write(index: DocIndex, docs: Path) -> None:
    index.sync(docs, IndexOptions())
    synced = index.last_synced(docs)

    report = index.sync(docs, IndexOptions())

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert index.last_synced(docs) == synced
    index.sync(docs, IndexOptions(), record=True)
    last = index.last_synced(docs)
    assert last is not None and synced is not None and last > synced


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(index: DocIndex, docs: Path, query: str) -> None:
    index.sync(docs, IndexOptions())

    found = index.search(docs, query, 5)

    assert all(hit.path for hit in found.hits)
    assert index.documents(docs) == 5  # and the index is still there


def test_punctuation_only_query_is_empty(index: DocIndex, docs: Path) -> None:
    index.sync(docs, IndexOptions())

    found = index.search(docs, "*** ( ) -- \"' ;", 5)

    assert (found.hits, found.terms) == ([], "")


def test_never_indexes_escaping_symlinks_binaries_or_large_files(
    index: DocIndex, docs: Path, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.md", "# Secret\n\nThe launch code is zeppelin.\n")
    (docs / "leak.md").symlink_to(outside / "secret.md")
    (docs / "leakdir").symlink_to(outside, target_is_directory=True)
    (docs / "alias.md").symlink_to(docs / "other.md")  # inside: fine
    write(docs, "binary.txt", b"zeppelin\x00\x01\x02" * 10)
    write(docs, "latin1.txt", "zeppelin café".encode("latin-1"))
    write(docs, "big.md", "zeppelin " * 200)
    write(docs, ".hidden/zeppelin.md", "zeppelin")
    write(docs, "image.png", b"zeppelin")
    os.mkfifo(docs / "pipe.md")

    report = index.sync(docs, IndexOptions(max_file_bytes=1000))

    assert paths(index, docs, "zeppelin") == []
    assert paths(index, docs, "tomatoes") == ["alias.md", "other.md"]
    assert "leak.md" not in indexed(session_factory)
    assert report.skipped == 3  # binary, latin-1, too large


def test_html_is_stripped(index: DocIndex, docs: Path) -> None:
    write(
        docs,
        "page.html",
        "<html><head><title>Zeppelin &amp; Co</title><style>.zeppelin{}</style></head>"
        "<body><h1>Airships</h1><p>They <b>float</b> &lt;high&gt;.</p>"
        "<script>var secret = 'hydrogen';</script></body></html>",
    )
    index.sync(docs, IndexOptions())

    [hit] = index.search(docs, "float", 5).hits

    assert (hit.path, hit.title) == ("page.html", "Zeppelin & Co")
    assert "<" not in hit.snippet.replace("&lt;", "").replace("<high>", "")
    assert paths(index, docs, "hydrogen") == []
    assert paths(index, docs, "html body") == []


def test_chunks_of_a_long_document(
    index: DocIndex, docs: Path, session_factory: sessionmaker[Session]
) -> None:
    paragraphs = [f"Paragraph {n}. " + "word " * 100 for n in range(30)]
    paragraphs[17] += "zeppelin"
    write(docs, "long.md", "\n\n".join(paragraphs))
    index.sync(docs, IndexOptions())

    assert indexed(session_factory)["long.md"] == len(chunk("\n\n".join(paragraphs))) > 3
    [hit] = index.search(docs, "zeppelin", 5).hits
    assert "«zeppelin»" in hit.snippet


def test_missing_folder_and_too_many_files(index: DocIndex, docs: Path, tmp_path: Path) -> None:
    with pytest.raises(DocIndexError, match="does not exist"):
        index.sync(tmp_path / "nope", IndexOptions())
    with pytest.raises(DocIndexError, match="more than 3 documents"):
        index.sync(docs, IndexOptions(max_files=3))
    assert index.documents(docs) == 0  # nothing was written


def test_concurrent_syncs_leave_a_consistent_index(
    docs: Path, session_factory: sessionmaker[Session], db_url: str
) -> None:
    for n in range(40):
        write(docs, f"bulk/{n:02}.md", f"# Bulk {n}\n\n" + f"zeppelin{n} {FILLER}\n\n" * 3)

    def sync_together(threads: int) -> None:
        barrier = threading.Barrier(threads)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                barrier.wait()
                DocIndex(session_factory).sync(docs, IndexOptions())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        assert errors == []

    def expected() -> dict[str, int]:
        found = {}
        for path in docs.rglob("*"):
            if path.is_file() and path.suffix in (".md", ".txt", ".rst"):
                body = path.read_text(encoding="utf-8")
                found[path.relative_to(docs).as_posix()] = len(chunk(body))
        return found

    sync_together(4)
    assert indexed(session_factory) == expected()
    for n in range(0, 40, 2):
        write(docs, f"bulk/{n:02}.md", f"# Bulk {n}\n\nchanged{n} and a different size\n")
    for n in range(1, 40, 4):
        (docs / f"bulk/{n:02}.md").unlink()
    sync_together(4)

    assert indexed(session_factory) == expected()
    assert paths(DocIndex(session_factory), docs, "changed12") == ["bulk/12.md"]
    assert paths(DocIndex(session_factory), docs, "zeppelin5") == []
    assert paths(DocIndex(session_factory), docs, "zeppelin7") == ["bulk/07.md"]
    if db_url.startswith("sqlite"):
        with session_factory() as session:  # the FTS index agrees with its content table
            session.execute(
                text("INSERT INTO doc_index_fts (doc_index_fts) VALUES ('integrity-check')")
            )


DOC_TABLES = {"doc_index_folders", "doc_index_files", "doc_index_chunks"}


def test_migration_0006_down_and_up(db_url: str, docs: Path) -> None:
    engine = make_engine(db_url)
    try:
        downgrade(db_url, "0005")
        left = set(inspect(engine).get_table_names())
        assert not any(name.startswith("doc_index_") for name in left)
        upgrade(db_url)
        check(db_url)
        tables = set(inspect(engine).get_table_names())
        assert DOC_TABLES <= tables
        if engine.dialect.name == "sqlite":
            assert "doc_index_fts" in tables
        from config_store.db import make_session_factory

        index = DocIndex(make_session_factory(engine))
        index.sync(docs, IndexOptions())
        assert paths(index, docs, "backoff") == ["guide/retries.md"]
        downgrade(db_url, "0005")  # with rows in the tables
        assert not any(n.startswith("doc_index_") for n in inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_query_words_reach_the_engine_only_as_quoted_terms() -> None:
    from docsearch.query import parse_query

    parsed = parse_query('NEAR(retry "Policy* of" -x) OR 1=1 --; "unclosed phrase')

    assert parsed.fts5(any_term=False) == (
        '"near" AND "retry" AND "policy of" AND "x" AND "1" AND "unclosed phrase"'
    )
    assert (
        parsed.websearch(any_term=True)
        == 'near or retry or "policy of" or x or 1 or "unclosed phrase"'
    )
    assert re.fullmatch(r'[a-z0-9 "]*', parsed.websearch(any_term=False))
    assert not parse_query("*** ( ) ^ --")
    assert parse_query("how do I retry").terms == (("retry",),)
    assert parse_query("the of").terms == (("the",), ("of",))  # nothing else: kept


def test_chunks_end_on_paragraph_boundaries() -> None:
    paragraphs = [f"p{n} " + "x" * (300 + 37 * n) for n in range(12)]
    long_line = " ".join(["word"] * 1200)  # one paragraph of 6000 characters

    chunks_ = chunk("\n\n".join(paragraphs) + "\n\n\n" + long_line)

    assert all(0 < len(c) <= 2000 for c in chunks_)
    assert all(len(c) >= 1000 for c in chunks_[:3])  # packed, not one paragraph each
    rebuilt = [p for c in chunks_ for p in c.split("\n\n")]
    assert rebuilt[: len(paragraphs)] == paragraphs  # no paragraph is cut
    assert " ".join(rebuilt[len(paragraphs) :]) == long_line  # cut at spaces only
    assert chunk("  \n\n \n") == []
