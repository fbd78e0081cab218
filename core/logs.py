"""Logging: the one place that configures it (`configure_logging`), and the context every record
of a run carries.

Records go to stderr (text for a terminal, JSON lines otherwise: LOG_FORMAT) and, for the
long-running processes, to a rotating file of JSON lines (LOG_FILE). A record logged while an
activity runs carries the run it belongs to: `log_context()` (entered around each activity call
by the worker's interceptor, temporal/activity_logs.py) holds run_id, agent, step, attempt and
activity, and `RunContext`, a filter on every handler, copies them onto the record. Records of
temporalio's own `activity.logger` / `workflow.logger` carry the SDK's `temporal_activity` /
`temporal_workflow` dicts, which it maps the same way.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from core.errors import OrchError
from core.settings import Settings

# The context fields, in the order the text format shows them; JSON adds trace_id and span_id
# (put on records by the tracing filter) when present.
CONTEXT_FIELDS = ("run_id", "agent", "activity", "workflow", "step", "attempt")
TRACE_FIELDS = ("trace_id", "span_id")
# The error type of a failed activity attempt's line (temporal/activity_logs.py).
EXTRA_FIELDS = ("error_type",)
_TEXT_FIELDS = ("run_id", "agent", "step", "attempt")
# Loggers kept above DEBUG even at LOG_LEVEL=DEBUG: wire-level chatter, or migrations.
_QUIET = {"alembic": logging.WARNING, "httpcore": logging.INFO, "hpack": logging.INFO}
_OURS = "_orch_handler"  # marks the handlers configure_logging installed
# Set on a record once RunContext has given it its fields, and once JsonFormatter has made its
# line: a record that goes to the console and to LOG_FILE is looked at and formatted once.
_CONTEXT_DONE = "_orch_context_done"
_JSON_LINE = "_orch_json_line"


def resolve_format(log_format: str, stream: TextIO) -> str:
    """LOG_FORMAT as used: `auto` is `text` when `stream` is a terminal, `json` otherwise (the
    settings allow only auto, text and json)."""
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return "text" if isatty is not None and isatty() else "json"
    return log_format


@dataclass
class LogContext:
    """What the records logged while one activity runs carry. Mutable: the activity adds what
    it learns (its agent) with `bind`, and every task and thread it started sees it."""

    run_id: str | None = None
    agent: str | None = None
    activity: str | None = None
    workflow: str | None = None
    step: int | None = None
    attempt: int | None = None


_context: ContextVar[LogContext | None] = ContextVar("orch_log_context", default=None)


@contextmanager
def log_context(**values: Any) -> Iterator[LogContext]:
    """Records logged inside the block (its tasks and threads too) carry `values`."""
    context = LogContext(**values)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def bind(**values: Any) -> None:
    """Add `values` to the context of the activity running now (nothing outside one)."""
    context = _context.get()
    if context is not None:
        for key, value in values.items():
            setattr(context, key, value)


def current_context() -> LogContext | None:
    return _context.get()


class RunContext(logging.Filter):
    """Puts the run's fields on every record: from `log_context`, else from the dicts that
    temporalio's activity and workflow loggers add. A field the call itself passed (`extra=`)
    is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get(_CONTEXT_DONE):  # by this filter on another handler
            return True
        record.__dict__[_CONTEXT_DONE] = True
        found: dict[str, Any] = {}
        sdk_workflow = getattr(record, "temporal_workflow", None)
        if isinstance(sdk_workflow, dict):
            found["run_id"] = sdk_workflow.get("workflow_id")
            found["workflow"] = sdk_workflow.get("workflow_type")
        sdk_activity = getattr(record, "temporal_activity", None)
        if isinstance(sdk_activity, dict):
            found["run_id"] = sdk_activity.get("workflow_id")
            found["workflow"] = sdk_activity.get("workflow_type")
            found["activity"] = sdk_activity.get("activity_type")
            found["attempt"] = sdk_activity.get("attempt")
        context = _context.get()
        if context is not None:
            for field in fields(context):
                value = getattr(context, field.name)
                if value is not None:
                    found[field.name] = value
        for key, value in found.items():
            if value is not None and getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


def _fields(record: logging.LogRecord, names: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    for name in names:
        value = getattr(record, name, None)
        if value is not None:
            yield name, value


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: ts (ISO 8601 UTC, ms), level, logger, message,
    the context fields that are set, and `exc` (the formatted traceback) with exc_info. A record
    written by two handlers (the console's and LOG_FILE's) is formatted once."""

    def format(self, record: logging.LogRecord) -> str:
        done = record.__dict__.get(_JSON_LINE)
        if isinstance(done, str):
            return done
        line = self._line(record)
        record.__dict__[_JSON_LINE] = line
        return line

    def _line(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_fields(record, CONTEXT_FIELDS + TRACE_FIELDS + EXTRA_FIELDS))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL logger message [run_id=… agent=… step=… attempt=…]` (local time); a
    traceback, when the record has one, on the lines below."""

    def format(self, record: logging.LogRecord) -> str:
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{clock} {record.levelname} {record.name} {record.getMessage()}"
        context = " ".join(f"{k}={v}" for k, v in _fields(record, _TEXT_FIELDS))
        if context:
            line += f" [{context}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def file_handler(path: Path, max_bytes: int, backups: int) -> logging.Handler:
    """A rotating file of JSON lines at `path` (its folder made if missing)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as err:
        raise OrchError(
            f"LOG_FILE {str(path)!r} cannot be written ({err.strerror or err}): set LOG_FILE to "
            "a writable path, or to an empty value to log to the console only",
            code="bad_log_file",
        ) from None
    handler.setFormatter(JsonFormatter())
    return handler


def configure_logging(
    settings: Settings, *, to_file: bool = True, stream: TextIO | None = None
) -> list[logging.Handler]:
    """Configure the root logger from LOG_LEVEL and LOG_FORMAT: a console handler on `stream`
    (default stderr) and, when `to_file` and LOG_FILE is set, the rotating JSON file. Replaces
    the handlers an earlier call installed (others are left alone); returns the new ones."""
    level = logging.getLevelNamesMapping()[settings.log_level]  # a name Settings checked
    stream = stream if stream is not None else sys.stderr
    console = logging.StreamHandler(stream)
    text = resolve_format(settings.log_format, stream) == "text"
    console.setFormatter(TextFormatter() if text else JsonFormatter())
    handlers: list[logging.Handler] = [console]
    if to_file and settings.log_file is not None:
        handlers.append(
            file_handler(settings.log_file, settings.log_file_max_bytes, settings.log_file_backups)
        )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    context = RunContext()
    for handler in handlers:
        setattr(handler, _OURS, True)
        handler.addFilter(context)
        root.addHandler(handler)
    root.setLevel(level)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(level, floor))
    return handlers
