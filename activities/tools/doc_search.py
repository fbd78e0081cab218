"""doc_search: ranked full-text search over a configured folder of documents.

The index lives in the config store (docsearch/index.py: SQLite FTS5 or Postgres full-text
search, whichever DATABASE_URL is). With `reindex: on_call` (the default) every call first syncs
the folder, which costs a directory walk and one SELECT when nothing changed, so the model always
searches what is on disk. The folder is the operator's choice, never the model's: the model only
sends words, which are reduced to plain terms before they reach the engine.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from config_store.models import utcnow
from docsearch.index import (
    DEFAULT_EXTENSIONS,
    DocHit,
    DocIndex,
    DocIndexError,
    DocSearch,
    IndexOptions,
)
from docsearch.query import parse_query
from workflows import tool_parameters
from workflows.tool_parameters import MAX_RESULTS_LIMIT

REINDEX_MODES = ("on_call", "interval")
_EXTENSION = re.compile(r"\.?[A-Za-z0-9_+-]{1,16}")

PARAMETERS = tool_parameters.DOC_SEARCH


@dataclass(frozen=True)
class DocSearchConfig:
    folder: str
    max_results: int = 5
    index: IndexOptions = field(default_factory=IndexOptions)
    reindex: str = "on_call"
    reindex_interval_s: float = 300.0


def _positive_int(config: Mapping[str, Any], key: str, default: int, maximum: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ToolConfigError(key, f"must be an integer from 1 to {maximum}, not {value!r}")
    return value


def _extensions(value: Any) -> frozenset[str]:
    if value is None:
        return DEFAULT_EXTENSIONS
    if not isinstance(value, list) or not value:
        raise ToolConfigError("extensions", "must be a non-empty list such as ['.md', '.txt']")
    found: set[str] = set()
    for item in value:
        if not isinstance(item, str) or not _EXTENSION.fullmatch(item):
            raise ToolConfigError("extensions", f"{item!r} is not a file extension like '.md'")
        found.add("." + item.lower().lstrip("."))
    return frozenset(found)


def parse_config(config: Mapping[str, Any]) -> DocSearchConfig:
    """The tool's settings; ToolConfigError naming the key that is wrong."""
    known = {"folder", "max_results", "extensions", "max_file_bytes", "max_files", "reindex"}
    known.add("reindex_interval_s")
    unknown = sorted(set(config) - known)
    if unknown:
        raise ToolConfigError(unknown[0], f"unknown setting; known: {', '.join(sorted(known))}")
    folder = config.get("folder")
    if not isinstance(folder, str) or not folder.strip() or "\x00" in folder:
        raise ToolConfigError(
            "folder", "required: the documents' folder, absolute or relative to the workspace"
        )
    reindex = config.get("reindex", "on_call")
    if reindex not in REINDEX_MODES:
        raise ToolConfigError("reindex", f"must be one of {', '.join(REINDEX_MODES)}")
    interval = config.get("reindex_interval_s", 300.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise ToolConfigError("reindex_interval_s", "must be a positive number of seconds")
    return DocSearchConfig(
        folder=folder,
        max_results=_positive_int(config, "max_results", 5, MAX_RESULTS_LIMIT),
        index=IndexOptions(
            extensions=_extensions(config.get("extensions")),
            max_file_bytes=_positive_int(config, "max_file_bytes", 1_000_000, 50_000_000),
            max_files=_positive_int(config, "max_files", 10_000, 1_000_000),
        ),
        reindex=reindex,
        reindex_interval_s=float(interval),
    )


def check_config(config: Mapping[str, Any]) -> None:
    """At save time the folder is checked for type only here: it must exist on the worker, and
    be inside WORKSPACE_DIR or DOC_SEARCH_ROOTS, which is checked when the tool is called (and,
    from the API, by services/tools.py with the API's settings)."""
    parse_config(config)


def outside_roots(workspace_dir: Path, roots: tuple[Path, ...], folder: str) -> str | None:
    """Why `folder` may not be searched, or None: it must be, after `..` and symlinks are
    resolved, inside the workspace or one of DOC_SEARCH_ROOTS (a relative folder is relative to
    the workspace)."""
    path = Path(folder)
    resolved = (path if path.is_absolute() else workspace_dir / path).resolve()
    allowed = (workspace_dir, *roots)
    if any(resolved.is_relative_to(root.resolve()) for root in allowed):
        return None
    return (
        f"the documents folder {resolved} is outside the workspace and DOC_SEARCH_ROOTS "
        "(set DOC_SEARCH_ROOTS to allow a folder elsewhere)"
    )


def resolve_folder(workspace_dir: Path, folder: str, roots: tuple[Path, ...] = ()) -> Path:
    path = Path(folder)
    resolved = (path if path.is_absolute() else workspace_dir / path).resolve()
    refused = outside_roots(workspace_dir, roots, folder)
    if refused is not None:
        raise ToolError(refused)
    if not resolved.is_dir():
        raise ToolError(
            f"the documents folder {resolved} (tool config 'folder') does not exist on the worker "
            "or is not a directory"
        )
    return resolved


def _sync_and_search(
    index: DocIndex, folder: Path, cfg: DocSearchConfig, query: str, limit: int
) -> tuple[DocSearch, int]:
    """(the search, how many documents the folder has indexed), after the sync `reindex` asks
    for. Blocking: runs in a worker thread."""
    if cfg.reindex == "on_call":
        index.sync(folder, cfg.index)
    else:
        last = index.last_synced(folder)
        if last is None or utcnow() - last > timedelta(seconds=cfg.reindex_interval_s):
            index.sync(folder, cfg.index, record=True)
    found = index.search(folder, query, limit)
    return found, (len(found.hits) if found.hits else index.documents(folder))


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    if ctx.session_factory is None:
        raise ToolError("doc_search is unavailable: this worker has no config store to index in")
    try:
        cfg = parse_config(config)
    except ToolConfigError as err:
        raise ToolError(f"the tool is misconfigured: config.{err.field}: {err.message}") from err
    query = arguments.get("query")
    if not isinstance(query, str):
        raise ToolError("argument 'query' must be a string")
    if not parse_query(query):
        return (
            "The query has no words to search for (only punctuation or symbols): "
            "search with words that appear in the documents."
        )
    requested = arguments.get("max_results")
    limit = cfg.max_results
    if isinstance(requested, int) and not isinstance(requested, bool):
        limit = max(1, min(requested, cfg.max_results))
    folder = resolve_folder(ctx.workspace_dir, cfg.folder, ctx.doc_search_roots)
    index = DocIndex(ctx.session_factory)
    try:
        found, documents = await asyncio.to_thread(
            _sync_and_search, index, folder, cfg, query, limit
        )
    except DocIndexError as err:
        raise ToolError(str(err)) from err
    return render(found, documents)


def render(found: DocSearch, documents: int) -> str:
    """Numbered hits for the model, each with its path, title, score and marked snippet;
    documents with every term first, then those with only some of them, under their own head."""
    if not found.hits:
        if documents == 0:
            return "The documents folder has no searchable documents."
        return f"No document matches {found.terms} ({documents} documents searched)."
    full = [hit for hit in found.hits if hit.all_terms]
    partial = [hit for hit in found.hits if not hit.all_terms]
    lines: list[str] = []
    if full:
        lines.append(f"Documents with all of {found.terms}:")
        lines.extend(_hit_lines(full, 1))
    if partial:
        if full:
            lines.append("")
            lines.append("Documents with some of the terms:")
        else:
            lines.append(f"No document has all of {found.terms}; documents with some of them:")
        lines.extend(_hit_lines(partial, len(full) + 1))
    return "\n".join(lines)


def _hit_lines(hits: list[DocHit], first: int) -> list[str]:
    lines: list[str] = []
    for number, hit in enumerate(hits, start=first):
        lines.append(f"{number}. {hit.path} — {hit.title} (score {hit.score:.3g})")
        lines.append(f"   {hit.snippet}")
    return lines


KIND = ToolImplementation(
    kind="doc_search",
    run=run,
    description=(
        "Search the team's documents (full text, ranked). Returns the best matching documents "
        "with their path, title and a snippet where the matched words are marked «like this»."
    ),
    parameters=PARAMETERS,
    check_config=check_config,
)
