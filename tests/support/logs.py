"""Logging configured by `core.logs.configure_logging` for one test, and put back after it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.logs import configure_logging
from core.settings import Settings

# Loggers whose level configure_logging sets besides the root's.
_TOUCHED = ("", "alembic", "httpcore", "hpack")


@dataclass
class Captured:
    """What the configured handlers wrote: the console (a StringIO) and LOG_FILE, if any."""

    console: io.StringIO
    log_file: Path | None
    handlers: list[logging.Handler] = field(default_factory=list)

    def flush(self) -> None:
        for handler in self.handlers:
            handler.flush()

    def file_records(self) -> list[dict[str, Any]]:
        """LOG_FILE's lines, each parsed as one JSON object."""
        self.flush()
        assert self.log_file is not None
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def console_records(self) -> list[dict[str, Any]]:
        """The console's lines, each parsed as one JSON object (LOG_FORMAT json)."""
        self.flush()
        return [json.loads(line) for line in self.console.getvalue().splitlines()]


@contextmanager
def restored_logging() -> Iterator[None]:
    """Inside: change logging freely. After: the root handlers and the levels are as before."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in _TOUCHED}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def captured_logs(settings: Settings, *, to_file: bool = True) -> Iterator[Captured]:
    """`configure_logging(settings)` onto a StringIO console (and LOG_FILE when `to_file`)."""
    console = io.StringIO()
    with restored_logging():
        handlers = configure_logging(settings, to_file=to_file, stream=console)
        yield Captured(console, settings.log_file if to_file else None, handlers)
