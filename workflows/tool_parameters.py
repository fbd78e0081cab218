"""The arguments each tool kind takes by default: its JSON Schema, as the model is told it.

A tool whose `parameters` are empty is checked against its kind's schema here, by the workflow
(before an approval, a question or a child run: workflows/arguments.py) and by the tool
activity alike. Plain data, so both layers can read it; the kinds' implementations in
activities/tools/ take their schema and its limits from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.kinds import ToolKind

MAX_RESULTS_LIMIT = 50  # doc_search
MAX_COMMENT_CHARS = 65_536  # GitHub's own limit on a comment body
REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "get_issue": ("repo", "number"),
    "list_issues": ("repo",),
    "search_issues": ("query",),
    "get_pull": ("repo", "number"),
    "list_pulls": ("repo",),
    "get_file": ("repo", "path"),
    "comment_issue": ("repo", "number", "body"),
}  # the arguments each GitHub operation needs
MAX_QUERY_CHARS = 400  # Brave's own limit; longer queries are not searches
MAX_RESULTS = 20  # web_search
MODES = ("overwrite", "append", "create")  # write_file


ASK_USER: Mapping[str, Any] = {
    "type": "object",
    "properties": {"question": {"type": "string", "description": "the question to ask"}},
    "required": ["question"],
    "additionalProperties": False,
}

CALCULATOR: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "expression": {
            "type": "string",
            "description": "An arithmetic expression, e.g. (12 + 3) * 7 / 2 or 2 ** 10",
        }
    },
    "required": ["expression"],
    "additionalProperties": False,
}

DOC_SEARCH: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1000,
            "description": (
                "Words to look for (stemmed: 'running' also finds 'runs'); put a phrase in "
                "double quotes to match it exactly. Documents with every word rank first."
            ),
        },
        "max_results": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_RESULTS_LIMIT,
            "description": "How many documents to return at most (capped by the tool's config)",
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}

GITHUB: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "operation": {
            "type": "string",
            "enum": list(REQUIRED),
            "description": (
                "get_issue (repo, number), list_issues (repo, state), search_issues (query, "
                "optional repo; GitHub search syntax, issues and pull requests), get_pull (repo, "
                "number), list_pulls (repo, state), get_file (repo, path, optional ref), "
                "comment_issue (repo, number, body)"
            ),
        },
        "repo": {"type": "string", "pattern": REPO_PATTERN, "description": "owner/name"},
        "number": {"type": "integer", "minimum": 1, "description": "issue or pull number"},
        "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
        "query": {"type": "string", "minLength": 1, "maxLength": 1000},
        "path": {"type": "string", "maxLength": 1000, "description": "file path in the repo"},
        "ref": {"type": "string", "maxLength": 250, "description": "branch, tag or commit"},
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT_CHARS},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
    },
    "required": ["operation"],
    "additionalProperties": False,
}

HTTP_API: Mapping[str, Any] = {"type": "object"}

HTTP_REQUEST: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "description": "An http:// or https:// URL"},
        "method": {"type": "string", "description": "The HTTP method (default GET)"},
        "headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Request headers",
        },
        "body": {"type": "string", "description": "The request body, as text"},
    },
    "required": ["url"],
    "additionalProperties": False,
}

LIST_FILES: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "default": ".",
            "description": "Folder to list, relative to the workspace ('.' is the workspace)",
        },
        "recursive": {
            "type": "boolean",
            "default": False,
            "description": "Also list the contents of sub-folders",
        },
        "pattern": {
            "type": "string",
            "description": "Only entries whose name matches this glob, e.g. *.md "
            "(with a '/', matched against the path below the listed folder)",
        },
    },
    "additionalProperties": False,
}

READ_FILE: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "Path of the file, relative to the workspace directory",
        }
    },
    "required": ["path"],
    "additionalProperties": False,
}

SUBAGENT: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "input": {"type": "string", "minLength": 1, "description": "The task for the agent"},
        "variables": {
            "type": "object",
            "description": "Values of the variables the agent's prompt declares, if any",
        },
    },
    "required": ["input"],
    "additionalProperties": False,
}

WEB_SEARCH: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_QUERY_CHARS,
            "description": "What to search the web for",
        },
        "max_results": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_RESULTS,
            "description": "How many results to return (the tool's configured maximum caps it)",
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}

WRITE_FILE: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "Path of the file, relative to the workspace directory",
        },
        "content": {"type": "string", "description": "The text to write (UTF-8)"},
        "mode": {
            "type": "string",
            "enum": list(MODES),
            "default": "overwrite",
            "description": "overwrite (default) replaces the file, append adds to its end, "
            "create fails if the file exists",
        },
    },
    "required": ["path", "content"],
    "additionalProperties": False,
}

MCP: Mapping[str, Any] = {"type": "object"}  # a discovered tool carries its server's schema

DEFAULT_PARAMETERS: Mapping[ToolKind, Mapping[str, Any]] = {
    "ask_user": ASK_USER,
    "calculator": CALCULATOR,
    "doc_search": DOC_SEARCH,
    "github": GITHUB,
    "http": HTTP_API,
    "http_request": HTTP_REQUEST,
    "list_files": LIST_FILES,
    "read_file": READ_FILE,
    "agent": SUBAGENT,
    "web_search": WEB_SEARCH,
    "write_file": WRITE_FILE,
    "mcp": MCP,
}
