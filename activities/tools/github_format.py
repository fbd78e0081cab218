"""GitHub API answers as compact text for a model: a header line per issue or pull request, one
line per item in a list, file contents decoded. Kept apart from github.py (the requests and their
checks) so each stays small."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from activities.tools.base import ToolError
from activities.tools.net import HttpResult

BODY_CHARS = 4000  # of an issue or pull request description
TITLE_CHARS = 200


def error_message(result: HttpResult) -> str:
    """`: <GitHub's message>` from an error body ({"message": ...}), or nothing."""
    try:
        body = result.json()
    except ToolError:
        return ""
    message = body.get("message") if isinstance(body, Mapping) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    return ": " + " ".join(message.split())[:300]


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _one_line(text: str, limit: int = TITLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _capped(text: str, limit: int = BODY_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[… {len(text) - limit} more characters]"


def _labels(item: Any) -> list[str]:
    labels = _get(item, "labels")
    names = [_str(_get(label, "name")) for label in labels] if isinstance(labels, list) else []
    return [name for name in names if name]


def _state(item: Any) -> str:
    """open / closed / merged / draft, from an issue or a pull request."""
    state = _str(_get(item, "state")) or "?"
    if _get(item, "merged_at") or _get(item, "pull_request", "merged_at"):
        return "merged"
    if state == "open" and _get(item, "draft") is True:
        return "draft"
    return state


def _head(item: Any, repo: str = "") -> str:
    kind = "PR " if "pull_request" in item or "head" in item else ""
    return (
        f"{kind}{repo}#{_get(item, 'number')} [{_state(item)}] "
        f"{_one_line(_str(_get(item, 'title')))} by {_str(_get(item, 'user', 'login')) or '?'}"
    )


def _detail(item: Any, head: str, extra: list[str]) -> str:
    lines = [head, *extra]
    labels = _labels(item)
    if labels:
        lines.append("labels: " + ", ".join(labels))
    if _str(_get(item, "html_url")):
        lines.append(_str(_get(item, "html_url")))
    body = _str(_get(item, "body"))
    return "\n".join(lines) + ("\n\n" + _capped(body) if body.strip() else "")


def issue(item: Any) -> str:
    if not isinstance(item, Mapping):
        raise ToolError("GitHub answered something that is not an issue")
    comments = _get(item, "comments")
    extra = [f"comments: {comments}"] if isinstance(comments, int) else []
    if "pull_request" in item:
        extra.append("(a pull request: get_pull shows its branches and changes)")
    return _detail(item, _head(item), extra)


def pull(item: Any) -> str:
    if not isinstance(item, Mapping):
        raise ToolError("GitHub answered something that is not a pull request")
    extra = [f"{_str(_get(item, 'head', 'label'))} -> {_str(_get(item, 'base', 'ref'))}"]
    counts = [_get(item, key) for key in ("additions", "deletions", "changed_files", "commits")]
    if all(isinstance(n, int) for n in counts):
        add, delete, files, commits = counts
        extra.append(f"+{add} -{delete} in {files} files, {commits} commits")
    return _detail(item, _head(item), extra)


def _line(item: Any, repo: str) -> str:
    labels = _labels(item)
    return _head(item, repo) + (f" ({', '.join(labels)})" if labels else "")


def item_list(items: Any, empty: str, *, with_repo: bool) -> str:
    if not isinstance(items, list):
        raise ToolError("GitHub answered something that is not a list")
    lines = [
        _line(item, _repo_of(item) if with_repo else "")
        for item in items
        if isinstance(item, Mapping)
    ]
    return "\n".join(lines) if lines else empty


def _repo_of(item: Any) -> str:
    """owner/name from an item's `repository_url` (…/repos/owner/name)."""
    parts = _str(_get(item, "repository_url")).rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else ""


def search_results(found: Any, query: str, allowed: frozenset[str]) -> str:
    items = _get(found, "items")
    if not isinstance(items, list):
        raise ToolError("GitHub answered something that is not a search result")
    kept = [i for i in items if not allowed or _repo_of(i).lower() in allowed]
    total = _get(found, "total_count")
    head = f"{total if isinstance(total, int) else len(items)} results for {query!r}"
    if len(kept) < len(items):
        head += f" ({len(items) - len(kept)} outside the allowed repositories left out)"
    if not kept:
        return f"{head}: none to show"
    return f"{head}, showing {len(kept)}:\n" + item_list(kept, "", with_repo=True)


def file_content(found: Any, repo: str, path: str, ref: str | None) -> str:
    where = f"{repo}:{path or '/'}" + (f"@{ref}" if ref else "")
    if isinstance(found, list):
        names = [
            _str(_get(e, "name")) + ("/" if _get(e, "type") == "dir" else "")
            for e in found
            if isinstance(e, Mapping)
        ]
        raise ToolError(f"{where} is a directory; it holds: {', '.join(names) or 'nothing'}")
    kind = _get(found, "type")
    if kind != "file":
        target = _str(_get(found, "target")) or _str(_get(found, "submodule_git_url"))
        raise ToolError(f"{where} is a {kind or 'thing that is not a file'} {target}".rstrip())
    if _get(found, "encoding") != "base64":
        size = _get(found, "size")
        raise ToolError(f"{where}: {size} bytes, too large for GitHub's contents API")
    try:
        data = base64.b64decode(_str(_get(found, "content")))
    except (binascii.Error, ValueError) as err:
        raise ToolError(f"{where}: GitHub sent content that is not base64") from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if b"\x00" in data or (data and not text):
        raise ToolError(f"{where}: a binary file ({len(data)} bytes), not text")
    return f"{where} ({len(data)} bytes)\n\n{text}"
