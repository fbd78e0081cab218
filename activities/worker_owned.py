"""What a worker owns for its lifetime (provider clients, MCP sessions): closed once it stops."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar

from temporalio.plugin import SimplePlugin


class ClosedWithWorker(ABC):
    """A resource of the worker's activities; `worker_plugin()` closes it after the worker's
    last activity, whether the worker is run with `async with` or `run()` + `shutdown()`."""

    plugin_name: ClassVar[str]

    @abstractmethod
    async def close(self) -> None: ...

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open for the worker's lifetime; closed when it stops."""
        try:
            yield
        finally:
            await self.close()

    def worker_plugin(self) -> SimplePlugin:
        return SimplePlugin(self.plugin_name, run_context=self.running)
